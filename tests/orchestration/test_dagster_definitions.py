"""orchestration/definitions.py with Dagster itself: the schedule asks for one run per shard,
the runs execute in-process at the same time, each running the real `meltano run` of its shard
against the Stripe double with connected accounts, a failed attempt is retried, and every
account's data arrives, with each shard's run summary as Dagster metadata.

Dagster lives in a cached venv of its own (`.venv-interop/dagster-*`, built like the interop
plugins' on first use): it brings gRPC, SQLAlchemy and more that the workspace does not need.
The test drives it through tests/orchestration/dagster_driver.py, run by that venv's Python.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tap_stripe_xdm.accounts import shard_of

from tests.doubles.stripe_api import StripeDouble
from tests.e2e.meltano_project import MeltanoProject
from tests.e2e.test_meltano_run import START, TENANT, entity_ids, files_env, read_files
from tests.interop.foreign_venv import ForeignPlugin, ensure_venv
from tests.shared_paths import REPO_ROOT

DAGSTER = ForeignPlugin("dagster", ("dagster==1.13.28",))
ACCOUNTS = ("acct_1Dagster1", "acct_1Dagster2", "acct_1Dagster3")
SHARDS = 2
DRIVER = Path(__file__).with_name("dagster_driver.py")
DEFINITIONS = REPO_ROOT / "orchestration" / "definitions.py"


@pytest.fixture
def stripe():
    with StripeDouble() as double:
        double.seed({"charges": 20, "customers": 5}, start=START, end=START + 86_400, seed=70)
        for n, account in enumerate(ACCOUNTS):
            double.seed({"charges": 8 + n, "customers": 2}, start=START, end=START + 86_400,
                        seed=71 + n, account=account)  # fmt: skip
        yield double


def charges_by_account(stripe: StripeDouble) -> dict[str | None, set[str]]:
    return {a: {c["id"] for c in stripe.objects("charges", account=a)} for a in (None, *ACCOUNTS)}


def test_the_schedule_runs_every_shard_in_parallel_with_retries_and_all_accounts_arrive(
    stripe, tmp_path
):
    assert {shard_of(a, SHARDS) for a in ACCOUNTS} == {0, 1}  # both shards have accounts
    dagster = ensure_venv(DAGSTER)
    project = MeltanoProject(tmp_path)
    project.install()
    # The first request for charges fails for good (HTTP 400): that shard's first attempt
    # fails and the op's retry policy runs it again.
    stripe.inject("/v1/charges", status=400, times=1)
    env = {
        **files_env(stripe, tmp_path / "unused"),
        "TAP_STRIPE_XDM_CONNECTED_ACCOUNTS": "all",
        "MELTANO_PROJECT_ROOT": str(project.root),
        "MELTANO_BIN": str(project.meltano),
        "STRIPE_XDM_SHARDS": str(SHARDS),
        "STRIPE_XDM_RETRY_DELAY_SECONDS": "0",
        "DAGSTER_HOME": str(tmp_path / "dagster-home"),
    }
    (tmp_path / "dagster-home").mkdir()
    del env["TARGET_AEP_OUTPUT_DIR"]  # each shard writes to its own (definitions.py)
    finished = subprocess.run(
        [str(dagster.python), str(DRIVER), str(DEFINITIONS)],
        cwd=project.root,
        env=project.env(env),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-6000:]
    report = json.loads(finished.stdout.splitlines()[-1])

    keys = [f"shard-{i}-of-{SHARDS}" for i in range(SHARDS)]
    assert report["cron"] == "0 * * * *"
    assert report["partition_keys"] == keys
    assert report["run_keys"] == [f"2026-01-01T03:00:00+00:00:{key}" for key in keys]
    runs = {run["partition_key"]: run for run in report["runs"]}
    assert all(run["success"] for run in runs.values()), report
    assert sum(run["retries"] for run in runs.values()) == 1

    expected = charges_by_account(stripe)
    arrived: list[str] = []
    for index, key in enumerate(keys):
        output = project.root / ".meltano-shards" / key / "output"
        ids = entity_ids(read_files(output, "charges"))
        arrived += ids
        mine = {a for a in expected if shard_of(a, SHARDS) == index}
        assert set(ids) == set().union(*(expected[a] for a in mine)), key
        metadata = runs[key]["metadata"]
        assert metadata["shard"] == key
        customers = sum(len(stripe.objects("customers", account=a)) for a in mine)
        counted = (metadata["charges: records"], metadata["customers: records"])
        if runs[key]["retries"]:  # its summary counts the last attempt only
            assert counted[0] <= len(set(ids)), key
            assert counted[1] <= customers, key
        else:
            assert counted == (len(ids), customers), key
        assert metadata["dead letters"] == 0
        assert (
            metadata["run summary"]["streams"]["charges"]["delivered"]
            == (metadata["charges: records"])
        )
    # every account's charges, each once (a retried attempt may resend what it had sent)
    assert set(arrived) == set().union(*expected.values())
    assert TENANT in json.dumps(read_files(project.root / ".meltano-shards" / keys[0] / "output",
                                           "charges")[0])  # fmt: skip
