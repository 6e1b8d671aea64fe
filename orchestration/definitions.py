"""Dagster definitions: the n shards of `meltano run tap-stripe-xdm target-aep`, run in parallel.

One Dagster run per shard: the job `stripe_to_aep_shard` is partitioned by shard
(`shard-<i>-of-<n>`), and the schedule `every_shard` asks for one run of every partition per
tick, so Dagster's run queue starts them side by side (on Kubernetes, a pod each: README.md).
A run's one op starts Meltano as a subprocess:

    meltano run --state-id-suffix=shard-<i>-of-<n> tap-stripe-xdm target-aep

with `TAP_STRIPE_XDM_ACCOUNT_SHARD=<i>/<n>` (the tap reads only that shard's Stripe accounts)
and its own state id (Meltano's `--state-id-suffix`), retried by the op's RetryPolicy when it
fails. The target's run summary (`run_summary.json`: records per stream, dead letters) becomes
the op's output metadata, shown in Dagster's UI for each shard.

dagster-meltano is not used: its release 1.5.5 depends on dagster-shell, whose resolved
version imports `dagster.core`, which Dagster 1.13 no longer has; Meltano's own CLI through a
subprocess needs nothing else.

Shards of one project run on one machine would share the files Meltano hands the tap
(`.meltano/run/tap-stripe-xdm/state.json`, the catalog), so each shard gets a system directory
of its own (`MELTANO_SYS_DIR_ROOT`, https://docs.meltano.com/reference/settings/) under
`.meltano-shards/`, holding links to the project's installed plugins and its own run files,
system database and output.

Settings (environment variables, read when Dagster loads this file):
- `STRIPE_XDM_SHARDS`: number of shards (default 4);
- `STRIPE_XDM_SCHEDULE`: cron of the schedule, UTC (default hourly, `0 * * * *`);
- `STRIPE_XDM_RETRIES`, `STRIPE_XDM_RETRY_DELAY_SECONDS`: retries of a failed shard (default 2)
  and the first wait (default 60 s, doubling, with jitter);
- `MELTANO_PROJECT_ROOT`: the Meltano project (default: this repository);
- `MELTANO_BIN`: the meltano command (default: the project's `.venv-meltano/bin/meltano`, else
  `meltano` on PATH).
Every other setting (Stripe key, `TAP_STRIPE_XDM_CONNECTED_ACCOUNTS`, AEP credentials, the S3
state backend) reaches Meltano through the environment as usual.
"""

# No `from __future__ import annotations`: Dagster reads the op's type hints at definition time.
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    Backoff,
    Definitions,
    Failure,
    Jitter,
    MetadataValue,
    OpExecutionContext,
    Out,
    Output,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    StaticPartitionsDefinition,
    job,
    op,
    schedule,
)

SHARDS = int(os.environ.get("STRIPE_XDM_SHARDS", "4"))
CRON = os.environ.get("STRIPE_XDM_SCHEDULE", "0 * * * *")
RETRIES = int(os.environ.get("STRIPE_XDM_RETRIES", "2"))
RETRY_DELAY_SECONDS = float(os.environ.get("STRIPE_XDM_RETRY_DELAY_SECONDS", "60"))
PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
PLUGIN_KINDS = ("extractors", "loaders", "utilities", "mappers")
"""The folders of `.meltano/` that hold installed plugins, shared by every shard."""
LOG_TAIL_CHARS = 6000


def shard_key(index: int, count: int) -> str:
    """The partition key, also the Meltano state id suffix, of shard `index` of `count`."""
    return f"shard-{index}-of-{count}"


def parse_shard_key(key: str) -> tuple[int, int]:
    """(index, count) of a key made by shard_key."""
    _, index, _, count = key.split("-")
    return int(index), int(count)


shard_partitions = StaticPartitionsDefinition([shard_key(i, SHARDS) for i in range(SHARDS)])


def meltano_command() -> str:
    own = PROJECT_ROOT / ".venv-meltano" / "bin" / "meltano"
    configured = os.environ.get("MELTANO_BIN")
    if configured:
        return configured
    if own.exists():
        return str(own)
    found = shutil.which("meltano")
    if found is None:
        raise Failure("meltano is not installed: set MELTANO_BIN or put meltano on PATH")
    return found


def shard_system_dir(key: str) -> Path:
    """`.meltano-shards/<key>/`: the shard's own Meltano system directory, linking the
    project's installed plugins (made once, kept for the next runs: its system database holds
    the shard's state when no remote state backend is set)."""
    shared = PROJECT_ROOT / ".meltano"
    own = PROJECT_ROOT / ".meltano-shards" / key
    own.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_KINDS:
        link = own / kind
        if (shared / kind).is_dir() and not link.exists():
            link.symlink_to(shared / kind, target_is_directory=True)
    return own


def summary_metadata(summary: dict[str, Any]) -> dict[str, Any]:
    """The run summary as Dagster metadata: records and dead letters per stream, and totals."""
    streams: dict[str, dict[str, Any]] = summary.get("streams", {})
    metadata: dict[str, Any] = {
        "records written": MetadataValue.int(sum(s.get("delivered", 0) for s in streams.values())),
        "dead letters": MetadataValue.int(sum(s.get("dead_lettered", 0) for s in streams.values())),
    }
    for name, tally in sorted(streams.items()):
        metadata[f"{name}: records"] = MetadataValue.int(tally.get("delivered", 0))
        metadata[f"{name}: dead letters"] = MetadataValue.int(tally.get("dead_lettered", 0))
    metadata["run summary"] = MetadataValue.json(summary)
    return metadata


@op(
    out=Out(dict, description="The target's run summary (run_summary.json)"),
    retry_policy=RetryPolicy(
        max_retries=RETRIES,
        delay=RETRY_DELAY_SECONDS,
        backoff=Backoff.EXPONENTIAL,
        jitter=Jitter.PLUS_MINUS,
    ),
    tags={"kind": "meltano"},
)
def meltano_run_shard(context: OpExecutionContext) -> Iterator[Output[dict]]:
    """`meltano run tap-stripe-xdm target-aep` for this run's shard, with its own state id."""
    key = context.partition_key
    index, count = parse_shard_key(key)
    system_dir = shard_system_dir(key)
    output_dir = system_dir / "output"
    summary_path = output_dir / "run_summary.json"
    summary_path.unlink(missing_ok=True)  # a failed attempt must not pass for this one
    env = {
        **os.environ,
        "MELTANO_SYS_DIR_ROOT": str(system_dir),
        "TAP_STRIPE_XDM_ACCOUNT_SHARD": f"{index}/{count}",
        "TARGET_AEP_OUTPUT_DIR": str(output_dir),
    }
    command = [meltano_command(), "run", f"--state-id-suffix={key}", "tap-stripe-xdm", "target-aep"]
    context.log.info("shard %s: %s", key, " ".join(command[1:]))
    log_path = system_dir / "last-run.log"
    with log_path.open("w") as log:
        finished = subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    tail = log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
    if finished.returncode != 0 or not summary_path.exists():
        raise Failure(
            description=f"meltano run for {key} failed (exit code {finished.returncode})",
            metadata={"log tail": MetadataValue.text(tail), "log": str(log_path)},
        )
    summary = json.loads(summary_path.read_text())
    yield Output(summary, metadata={"shard": key, **summary_metadata(summary)})


@job(partitions_def=shard_partitions, tags={"pipeline": "stripe-xdm-aep"})
def stripe_to_aep_shard() -> None:
    """One shard of the Stripe -> AEP pipeline (the partition names the shard)."""
    meltano_run_shard()


@schedule(job=stripe_to_aep_shard, cron_schedule=CRON, execution_timezone="UTC")
def every_shard(context: ScheduleEvaluationContext) -> Iterator[RunRequest]:
    """One run per shard per tick; Dagster's run queue runs them in parallel."""
    tick = context.scheduled_execution_time.isoformat()
    for key in shard_partitions.get_partition_keys():
        yield RunRequest(run_key=f"{tick}:{key}", partition_key=key, tags={"shard": key})


defs = Definitions(jobs=[stripe_to_aep_shard], schedules=[every_shard])
