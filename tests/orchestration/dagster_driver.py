"""Run by the Dagster venv's Python (not by pytest): load orchestration/definitions.py, evaluate
its schedule, execute every run it asks for in-process, at the same time (a thread per run,
each with its own ephemeral Dagster instance), and print what happened as one JSON document.

Usage: python dagster_driver.py <definitions.py>
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dagster import DagsterEventType, DagsterInstance, build_schedule_context


def load(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("stripe_xdm_definitions", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def execute(job: Any, partition_key: str) -> dict[str, Any]:
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            partition_key=partition_key, instance=instance, raise_on_error=False
        )
        events = result.all_events
        metadata: dict[str, Any] = {}
        for event in events:
            if event.event_type == DagsterEventType.STEP_OUTPUT:
                for name, value in event.step_output_data.metadata.items():
                    metadata[name] = getattr(value, "value", None)
        return {
            "partition_key": partition_key,
            "success": result.success,
            "retries": sum(e.event_type == DagsterEventType.STEP_UP_FOR_RETRY for e in events),
            "metadata": metadata,
            "failures": [
                e.message for e in events if e.event_type == DagsterEventType.STEP_FAILURE
            ],
        }


def main() -> None:
    module = load(sys.argv[1])
    defs = module.defs
    schedule = defs.resolve_schedule_def("every_shard")
    job = defs.resolve_job_def("stripe_to_aep_shard")
    tick = datetime.datetime(2026, 1, 1, 3, tzinfo=datetime.timezone.utc)
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        requests = list(schedule.evaluate_tick(context).run_requests)
    keys = [r.partition_key for r in requests]
    with ThreadPoolExecutor(len(keys)) as pool:
        runs = list(pool.map(lambda key: execute(job, key), keys))
    report = {
        "cron": schedule.cron_schedule,
        "partition_keys": keys,
        "run_keys": [r.run_key for r in requests],
        "runs": runs,
    }
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
