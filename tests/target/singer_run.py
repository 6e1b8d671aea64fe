"""Driving the target in-process with Singer messages, and the dataset schema a test double
enforces for a stream (shared by the target, delivery and end-to-end tests)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from target_aep.mapping import mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.target import TargetAep
from target_aep.validation import builtin_schema, with_tenant


def run_in_process(config: dict, messages: list[dict], capsys) -> list[dict]:
    """Feed Singer messages to the target; return the STATE values it printed."""
    target = TargetAep(config=config, validate_config=True)
    target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def run_cli(config: dict, messages: list[dict], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the installed `target-aep` as Meltano does (a config file, messages on stdin)."""
    config_file = tmp_path / "target-config.json"
    config_file.write_text(json.dumps(config))
    return subprocess.run(
        [str(Path(sys.executable).with_name("target-aep")), "--config", str(config_file)],
        input="".join(json.dumps(message) + "\n" for message in messages),
        capture_output=True,
        text=True,
        timeout=120,
    )


def record_messages(stream: str, schema: dict, records: list[dict], state: dict) -> list[dict]:
    """SCHEMA, one RECORD per record, then STATE."""
    return [
        {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["id"]},
        *({"type": "RECORD", "stream": stream, "record": record} for record in records),
        {"type": "STATE", "value": state},
    ]


def dataset_schema(stream: str, tenant: str, singer_schema: dict) -> dict:
    """What the stream's dataset in Platform enforces: the class and field groups of the
    stream's default mapping plus the tenant field group for its Singer schema."""
    options = MappingOptions(tenant_id=tenant, identity_namespace="StripeCustomerID")
    mapper = mapper_for(stream, options)
    return with_tenant(builtin_schema(mapper.schema), tenant, mapper.tenant_schema(singer_schema))
