"""Remote state: two shards of `meltano run` at once, each keeping its state in S3.

Meltano's own S3 state backend (`meltano[s3]`, set through the environment variables
meltano.yml documents) against moto's S3 server on 127.0.0.1 (tests/e2e/s3_server.py); Stripe
is the local double with connected accounts, read with `connected_accounts: all` and
`account_shard` 0/2 and 1/2, each shard on a runner (a project copy) of its own. The second pair
of runs swaps the runners and starts without their .meltano/meltano.db (as an ephemeral runner
would), so it can only resume from the bucket.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from tap_stripe_xdm.accounts import shard_of

from tests.doubles.stripe_api import StripeDouble
from tests.e2e.meltano_project import MeltanoProject
from tests.e2e.s3_server import S3Server, moto_s3
from tests.e2e.test_meltano_run import START, entity_ids, files_env, read_files
from tests.shared_paths import REPO_ROOT

ACCOUNTS = ("acct_1Remote1", "acct_1Remote2", "acct_1Remote3", "acct_1Remote4")
BUCKET = "pipeline-state"
PREFIX = "stripe-xdm"
SHARDS = 2


def suffix(index: int) -> str:
    return f"shard-{index}-of-{SHARDS}"


def state_env(s3: S3Server) -> dict[str, str]:
    """The state backend settings, as meltano.yml documents them, for moto's server."""
    return {
        "MELTANO_STATE_BACKEND_URI": f"s3://{BUCKET}/{PREFIX}",
        "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": s3.url,
        "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": "testing",  # moto accepts any
        "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",  # nothing from this machine's AWS setup
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


def shard_env(stripe: StripeDouble, s3: S3Server, output: Path, index: int) -> dict[str, str]:
    return {
        **files_env(stripe, output / suffix(index)),
        **state_env(s3),
        "TAP_STRIPE_XDM_CONNECTED_ACCOUNTS": "all",
        "TAP_STRIPE_XDM_ACCOUNT_SHARD": f"{index}/{SHARDS}",
    }


def run_args(project: MeltanoProject, index: int) -> list[str]:
    state_id = f"--state-id-suffix={suffix(index)}"
    return [str(project.meltano), "run", state_id, "tap-stripe-xdm", "target-aep"]


def run_shards_at_once(projects: list[MeltanoProject], envs: list[dict[str, str]]) -> None:
    """`meltano run --state-id-suffix=shard-i-of-n tap-stripe-xdm target-aep`, all at once,
    shard i in project i: concurrent runs of one project would share the files Meltano hands
    the tap (.meltano/run/tap-stripe-xdm/state.json and the catalog)."""
    runs = [
        subprocess.Popen(
            run_args(project, index),
            cwd=project.root,
            env=project.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index, (project, env) in enumerate(zip(projects, envs, strict=True))
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for index, (run, output) in enumerate(zip(runs, outputs, strict=True)):
        assert run.returncode == 0, f"shard {index} failed:\n{output[-6000:]}"


def charge_ids(stripe: StripeDouble) -> set[str]:
    return {c["id"] for a in (None, *ACCOUNTS) for c in stripe.objects("charges", account=a)}


@pytest.fixture
def stripe():
    with StripeDouble() as double:
        double.seed({"charges": 25}, start=START, end=START + 86_400, seed=40)
        for n, account in enumerate(ACCOUNTS):
            double.seed({"charges": 10 + n}, start=START, end=START + 86_400, seed=41 + n,
                        account=account)  # fmt: skip
        yield double


def test_two_shards_write_their_state_to_s3_at_once_and_resume_from_it(
    installed_project, stripe, tmp_path
):
    assert {shard_of(a, SHARDS) for a in ACCOUNTS} == {0, 1}  # each shard has accounts
    (tmp_path / "second-runner").mkdir()
    second_runner = MeltanoProject(tmp_path / "second-runner")
    second_runner.install()
    runners = [installed_project, second_runner]
    with moto_s3() as s3:
        s3.create_bucket(BUCKET)
        output = tmp_path / "out"
        envs = [shard_env(stripe, s3, output, i) for i in range(SHARDS)]
        run_shards_at_once(runners, envs)

        first = {i: entity_ids(read_files(output / suffix(i), "charges")) for i in range(SHARDS)}
        assert sorted(first[0] + first[1]) == sorted(charge_ids(stripe))  # each exactly once
        state_ids = [f"local:tap-stripe-xdm-to-target-aep:{suffix(i)}" for i in range(SHARDS)]
        keys = s3.keys(BUCKET)
        for state_id in state_ids:
            assert any(k.startswith(f"{PREFIX}/") and state_id in k for k in keys), keys
            assert any(k.endswith("state.json") and state_id in k for k in keys), keys
        for index in range(SHARDS):
            state = runners[1 - index].state(envs[index], suffix(index))  # read from S3
            partitions = state["singer_state"]["bookmarks"]["charges"]["partitions"]
            accounts = {p["context"]["account_id"] for p in partitions}
            expected = {a for a in (None, *ACCOUNTS) if shard_of(a, SHARDS) == index}
            assert accounts == expected, index

        # A new charge in every account, then both shards again, as on a fresh runner: without
        # the local system database, the bookmarks can only come from the bucket.
        now = int(time.time())
        before = charge_ids(stripe)
        for n, account in enumerate((None, *ACCOUNTS)):
            stripe.seed({"charges": 1}, start=now, end=now + 1, seed=60 + n, account=account)
        time.sleep(1.1)  # the tap reads up to "now": let that second pass
        for runner in runners:
            (runner.root / ".meltano" / "meltano.db").unlink()
        run_shards_at_once(runners[::-1], envs)  # each shard on the other runner
        second: list[str] = []
        for index in range(SHARDS):
            rows = entity_ids(read_files(output / suffix(index), "charges"))
            second += rows[len(first[index]) :]
        assert sorted(second) == sorted(charge_ids(stripe) - before)


def test_meltano_yml_documents_the_state_backend_settings_the_test_uses():
    text = (REPO_ROOT / "meltano.yml").read_text()
    for name in (
        "MELTANO_STATE_BACKEND_URI",
        "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL",
        "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID",
        "--state-id-suffix=shard-<i>-of-<n>",
        "meltano[s3]",
    ):
        assert name in text, name
