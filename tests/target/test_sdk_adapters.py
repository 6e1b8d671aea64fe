"""The SDK adapters (sdk_adapters.py): the SDK's per-record steps this target does not need are
skipped, while everything a record's XDM depends on comes out as the SDK's own steps made it;
and the installed singer-sdk still has every internal the overrides rely on."""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import inspect
import io
import json
import logging
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from singer_sdk.exceptions import MissingKeyPropertiesError
from target_aep.sdk_adapters import (
    RELIES_ON,
    SDK_ENV_NOTICE,
    BatchFileRecords,
    IdleAwareReader,
    Interruptible,
    LeanRecordPath,
    LeanRecordSteps,
    TimelyState,
)
from target_aep.sink import AepSink
from target_aep.target import TargetAep

from tests.target.examples import example, singer_schema
from tests.target.singer_run import record_messages, run_cli

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string", "null"]},
        "object": {"type": ["string", "null"]},
        "amount": {"type": ["integer", "null"]},
        "currency": {"type": ["string", "null"]},
        "created": {"type": ["integer", "null"]},
        "status": {"type": ["string", "null"]},
        "captured": {"type": ["boolean", "null"]},
    },
}
CHARGE = {"id": "ch_1", "object": "charge", "amount": 1099, "currency": "usd",
          "created": 1679090539, "status": "succeeded", "captured": True}  # fmt: skip


def run(tmp_path: Path, messages: list[dict], **config) -> TargetAep:
    settings = {"tenant_id": "acme", "output_dir": str(tmp_path / "out"), **config}
    target = TargetAep(config=settings, validate_config=True)
    target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))
    return target


def schema_message(stream: str = "charges", schema: dict = SCHEMA) -> dict:
    return {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["id"]}


def record_message(record: dict, stream: str = "charges") -> dict:
    return {"type": "RECORD", "stream": stream, "record": record}


def written(tmp_path: Path, folder: str = "charges") -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((tmp_path / "out" / folder).glob("part-*.json"))
        for line in path.read_text().splitlines()
    ]


def test_a_live_record_keeps_the_id_the_sdk_metadata_step_gave_it(tmp_path, capsys):
    run(tmp_path, [schema_message(), record_message(CHARGE)])
    (xdm,) = written(tmp_path)
    assert xdm["_id"] == "stripe:charges:ch_1"  # the purchase: one event per charge
    assert xdm["timestamp"] == "2023-03-17T22:02:19Z"


def test_a_delete_is_parsed_as_the_sdk_did_and_converted_to_utc(tmp_path, capsys):
    schema = {"type": "object", "properties": {**SCHEMA["properties"],
              "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}  # fmt: skip
    deleted = {**CHARGE, "_sdc_deleted_at": "2024-05-02T05:40:00.123+02:00"}
    run(tmp_path, [schema_message(schema=schema), record_message(deleted)])
    (xdm,) = written(tmp_path)
    assert xdm["_acme"]["stripe"]["deleted"] is True
    assert xdm["_acme"]["stripe"]["deletedAt"] == "2024-05-02T03:40:00.123000Z"
    parsed = dt.datetime.fromisoformat("2024-05-02T05:40:00.123+02:00")
    assert xdm["_id"] == f"stripe:charges:ch_1:charge.deleted:{int(parsed.timestamp())}"


def test_date_time_fields_of_another_tap_are_still_parsed_before_mapping(tmp_path, capsys):
    schema = {"type": "object", "properties": {
        "id": {"type": "string"}, "object": {"type": "string"},
        "created": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": "string", "format": "date"}}}  # fmt: skip
    record = {"id": "x_1", "object": "thing", "created": "2024-01-01T10:00:00+01:00",
              "day": "2024-02-03"}  # fmt: skip
    run(
        tmp_path,
        [schema_message("things", schema), record_message(record, "things")],
        streams={"things": {"mapping": "generic"}},
    )
    (xdm,) = written(tmp_path, "things")
    # Parsed to datetime by the SDK step, hence converted to UTC by the mapping (a string that
    # skipped the parse would be kept verbatim, offset and all).
    assert xdm["_acme"]["things"]["created"] == "2024-01-01T09:00:00Z"
    assert xdm["_acme"]["things"]["day"] == "2024-02-03T00:00:00Z"


def test_a_date_time_field_holding_unix_seconds_is_mapped_not_a_crash(tmp_path, capsys):
    """Another tap's `updated` as Unix seconds under a date-time schema: the SDK's parser
    raised TypeError and the run stopped; the value is left to the mapping, parsed fields
    beside it still are."""
    schema = {"type": "object", "properties": {**SCHEMA["properties"],
              "updated": {"type": ["string", "null"], "format": "date-time"},
              "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}  # fmt: skip
    records = [{**CHARGE, "updated": 1679090600},
               {**CHARGE, "id": "ch_2", "updated": 1679090600,
                "_sdc_deleted_at": "2024-05-02T05:40:00+02:00"}]  # fmt: skip
    run(tmp_path, [schema_message(schema=schema), *map(record_message, records)])
    first, second = written(tmp_path)
    assert first["_id"].startswith("stripe:charges:ch_1")  # mapped, its change time kept
    assert second["_acme"]["stripe"]["deletedAt"] == "2024-05-02T03:40:00Z"
    assert not (tmp_path / "out" / "dead_letter.jsonl").exists()


def test_a_plain_stripe_record_skips_the_sdk_timestamp_parser(tmp_path, capsys, monkeypatch):
    calls = []
    original = AepSink._parse_timestamps_in_record

    def spy(self, record, schema, treatment):
        calls.append(dict(record))
        return original(self, record, schema, treatment)

    monkeypatch.setattr(AepSink, "_parse_timestamps_in_record", spy)
    schema = {"type": "object", "properties": {**SCHEMA["properties"],
              "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}  # fmt: skip
    deleted = {**CHARGE, "id": "ch_2", "_sdc_deleted_at": "2024-05-02T05:40:00Z"}
    run(tmp_path, [schema_message(schema=schema), record_message(CHARGE), record_message(deleted)])
    assert [call["id"] for call in calls] == ["ch_2"]  # only the record with a date-like value
    assert len(written(tmp_path)) == 2


def test_the_sink_receives_no_sdc_bookkeeping_but_the_delete_marker(tmp_path, capsys, monkeypatch):
    seen = []
    original = AepSink.process_record

    def spy(self, record, context):
        seen.append(sorted(key for key in record if key.startswith("_sdc_")))
        return original(self, record, context)

    monkeypatch.setattr(AepSink, "process_record", spy)
    run(tmp_path, [schema_message(), record_message(CHARGE)])
    assert seen == [["_sdc_deleted_at"]]


def test_an_undeclared_field_is_warned_about_once(tmp_path, capsys, caplog):
    caplog.set_level(logging.WARNING)
    records = [record_message({**CHARGE, "id": f"ch_{n}", "surprise": n}) for n in range(3)]
    run(tmp_path, [schema_message(), *records, record_message({**CHARGE, "other": None})])
    warnings = [r.getMessage() for r in caplog.records if "No schema for record field" in r.msg]
    assert warnings == ["No schema for record field 'surprise'"]


def test_a_record_without_its_key_property_still_fails(tmp_path, capsys):
    without_id = {key: value for key, value in CHARGE.items() if key != "id"}
    with pytest.raises(MissingKeyPropertiesError):
        run(tmp_path, [schema_message(), record_message(without_id)])


def test_the_lean_record_path_writes_what_the_sdks_path_writes(tmp_path, capsys, monkeypatch):
    """Three ways, one output: the sink's fused intake (what a run takes), the lean steps one by
    one (a sink whose steps are not the known ones), the SDK's own path."""
    deleted = {**CHARGE, "id": "ch_gone", "_sdc_deleted_at": "2024-01-02T03:04:05Z"}
    messages = [schema_message(), *(record_message({**CHARGE, "id": f"ch_{n}",
                "amount": n}) for n in range(3)), record_message(deleted)]  # fmt: skip
    taken = []
    record_intake = AepSink.record_intake

    def counting(sink, target):
        intake = record_intake(sink, target)
        return lambda record: taken.append(record["id"]) or intake(record)

    monkeypatch.setattr(AepSink, "record_intake", counting)
    run(tmp_path / "intake", messages)
    assert taken == ["ch_0", "ch_1", "ch_2", "ch_gone"]  # every record went the fused way
    monkeypatch.setattr(AepSink, "record_intake", lambda sink, target: None)
    run(tmp_path / "steps", messages)
    monkeypatch.setattr(TargetAep, "_lean_sink", lambda target, message: None)
    run(tmp_path / "sdk", messages)
    intake, steps, sdk = (written(tmp_path / way) for way in ("intake", "steps", "sdk"))
    assert intake == steps == sdk
    assert len(intake) == 4


@pytest.mark.parametrize("step", ["_get_context", "tally_record_read", "_singer_validate_message"])
def test_a_sink_with_its_own_step_takes_the_steps_one_by_one(step, tmp_path, capsys, monkeypatch):
    """The fused intake does what the SDK's and this target's steps do: a sink overriding one
    of them gets none, and its override is called for every record."""
    calls = []
    original = getattr(AepSink, step)

    def own(self, *args, **kwargs):
        calls.append(step)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AepSink, step, own)
    records = [record_message({**CHARGE, "id": f"ch_{n}"}) for n in range(3)]
    target = run(tmp_path, [schema_message(), *records])
    assert target._record_intakes == {}
    assert len(calls) >= 3
    assert len(written(tmp_path)) == 3


def test_a_new_schema_gets_its_new_sink_a_new_intake(tmp_path, capsys, caplog):
    """A SCHEMA replacing its stream's sink (a changed schema) is followed by records the new
    sink takes: with a wider schema the new field is declared, so not warned about."""
    wider = {**SCHEMA, "properties": {**SCHEMA["properties"], "note": {"type": ["string", "null"]}}}
    messages = [
        schema_message(),
        record_message({**CHARGE, "id": "ch_1"}),
        schema_message(schema=wider),
        record_message({**CHARGE, "id": "ch_2", "note": "after"}),
    ]
    caplog.set_level(logging.WARNING)
    target = run(tmp_path, messages)
    out = written(tmp_path)
    assert [x["_acme"]["stripe"]["id"] for x in out] == ["ch_1", "ch_2"]
    assert out[1]["_acme"]["stripe"]["charge"]["note"] == "after"
    assert not [r for r in caplog.records if "No schema for record field" in r.msg]
    (sink,) = target._sinks_active.values()
    assert "note" in sink.schema["properties"]


def test_the_intake_drains_a_full_sink_and_checks_every_record(tmp_path, capsys):
    records = [record_message({**CHARGE, "id": f"ch_{n}"}) for n in range(5)]
    target = run(tmp_path, [schema_message(), *records], batch_size_rows=2)
    assert len(list((tmp_path / "out" / "charges").glob("part-*.json"))) == 3  # 2 + 2 + 1
    (sink,) = target._sinks_active.values()
    assert sink._total_records_read == 5
    without_id = {key: value for key, value in CHARGE.items() if key != "id"}
    with pytest.raises(MissingKeyPropertiesError):  # a later record, once the intake exists
        run(tmp_path / "2", [schema_message(), *records, record_message(without_id)])


def test_a_record_of_an_unknown_stream_still_fails_as_the_sdk_says(tmp_path):
    with pytest.raises(Exception, match="before a corresponding schema"):
        run(tmp_path, [schema_message(), record_message(CHARGE, stream="refunds")])


def test_stream_maps_still_filter_and_transform_records(tmp_path, capsys):
    records = [record_message({**CHARGE, "id": f"ch_{n}", "amount": n * 1000}) for n in range(4)]
    run(
        tmp_path,
        [schema_message(), *records],
        stream_maps={"charges": {"__filter__": "amount >= 2000", "status": "'failed'"}},
    )
    out = written(tmp_path)
    # a failed charge is no purchase: its amount stays in the tenant area only
    assert sorted(x["_acme"]["stripe"]["charge"]["amount"] for x in out) == [2000, 3000]
    assert {x["eventType"] for x in out} == {"stripe.charge.failed"}


def test_the_gc_collects_after_each_drain_only_while_input_is_read_and_as_before_after(
    tmp_path, capsys, monkeypatch
):
    seen, collected = [], []
    original = AepSink.process_record
    original_collect = gc.collect

    def spy(self, record, context):
        seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
        return original(self, record, context)

    def collect(generation=2):
        collected.append((generation, len(written(tmp_path))))
        return original_collect(generation)

    monkeypatch.setattr(AepSink, "process_record", spy)
    monkeypatch.setattr(gc, "collect", collect)
    before = gc.isenabled(), gc.get_freeze_count()
    records = [record_message({**CHARGE, "id": f"ch_{n}"}) for n in range(5)]
    run(tmp_path, [schema_message(), *records], batch_size_rows=2)
    # no automatic collection, start-up objects frozen (never walked) ...
    assert seen == [(False, True)] * 5
    # ... and the young generations collected after each drain, its records placed
    assert collected == [(1, 2), (1, 4), (1, 5)]
    assert (gc.isenabled(), gc.get_freeze_count()) == before


# --- the SDK internals the overrides rely on -------------------------------------------------


def _member(module: str, path: str):
    found = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


def missing_internals(override: str, needs: dict) -> list[str]:
    """What the installed singer-sdk lacks of what `override` relies on, each said plainly."""
    missing = []
    for module, path, parameters in needs["members"]:
        member = _member(module, path)
        if member is None:
            missing.append(f"{module}.{path} is gone")
        elif parameters is not None:
            function = member.fget if isinstance(member, property) else member
            names = tuple(inspect.signature(function).parameters)
            if names[:1] == ("self",):
                names = names[1:]
            if names != tuple(parameters):
                missing.append(f"{module}.{path} now takes {names}, not {tuple(parameters)}")
    attributes = needs.get("instance_attributes", ())
    if not isinstance(attributes, dict):  # a tuple: the Sink's
        attributes = {"singer_sdk.sinks.core.Sink.__init__": attributes}
    for initialiser, names in attributes.items():
        module, cls, method = initialiser.rsplit(".", 2)
        owner = f"{cls}.{method}"
        init_source = inspect.getsource(_member(module, owner))
        for attribute in names:
            if f"self.{attribute}" not in init_source:
                missing.append(f"{owner} no longer sets self.{attribute}")
    module, path = needs["called_by"]
    caller = _member(module, path)
    # called (`name(`) or handed over as a callback (`self.name,` or `self.name)`)
    if caller is None or not re.search(rf"\.{override}[(,)]", inspect.getsource(caller)):
        missing.append(f"{module}.{path} no longer calls {override}")
    return missing


# Where each override is used and defined, when not the sink's per-record steps.
OVERRIDDEN_IN = {
    "_write_state_message": (TargetAep, TimelyState),
    "_process_state_message": (TargetAep, TimelyState),
    "_handle_max_record_age": (TargetAep, TimelyState),
    "_process_record_message": (TargetAep, LeanRecordPath),
    "_process_schema_message": (TargetAep, LeanRecordPath),
    "process_lines": (IdleAwareReader, IdleAwareReader),
    "_process_batch_message": (TargetAep, BatchFileRecords),
    "_handle_termination": (TargetAep, Interruptible),
    "drain_one": (TargetAep, Interruptible),
    "drain_all": (TargetAep, Interruptible),
}


@pytest.mark.parametrize("override", sorted(RELIES_ON))
def test_the_installed_sdk_still_has_every_internal_the_override_relies_on(override):
    missing = missing_internals(override, RELIES_ON[override])
    assert not missing, (
        f"singer-sdk {version('singer-sdk')} breaks the override {override} in "
        f"target_aep/sdk_adapters.py: {'; '.join(missing)}"
    )
    user, mixin = OVERRIDDEN_IN.get(override, (AepSink, LeanRecordSteps))
    assert getattr(user, override) is getattr(mixin, override)  # still in use


def test_a_missing_internal_is_reported_naming_what_changed():
    needs = {
        "members": [
            ("singer_sdk.sinks.core", "Sink._no_such_step", ("record",)),
            ("singer_sdk.sinks.core", "Sink._validate_and_parse", ("record", "extra")),
        ],
        "instance_attributes": ("_no_such_attribute",),
        "called_by": ("singer_sdk.target_base", "Target._process_record_message"),
    }
    assert missing_internals("_no_such_step", needs) == [
        "singer_sdk.sinks.core.Sink._no_such_step is gone",
        "singer_sdk.sinks.core.Sink._validate_and_parse now takes ('record',), "
        "not ('record', 'extra')",
        "Sink.__init__ no longer sets self._no_such_attribute",
        "singer_sdk.target_base.Target._process_record_message no longer calls _no_such_step",
    ]


def test_the_sdks_env_settings_notice_is_not_logged(tmp_path) -> None:
    charge = example("charges")
    messages = record_messages("charges", singer_schema("charges"), [charge], {"bookmarks": {}})
    config = {"tenant_id": "acme", "output_dir": str(tmp_path / "out")}
    done = run_cli(config, messages, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "target-aep v" in done.stderr  # the SDK's other start-up lines still come
    assert SDK_ENV_NOTICE not in done.stderr


# --- the reader's loop (IdleAwareReader.read_messages) ---------------------------------------


def _lines(messages: list) -> str:
    return "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)


def test_the_reader_counts_each_message_type_as_the_sdk_does(tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO)
    records = [record_message({**CHARGE, "id": f"ch_{n}"}) for n in range(3)]
    state = {"type": "STATE", "value": {"bookmarks": {"charges": {"created": 1}}}}
    run(tmp_path, [schema_message(), *records, state, schema_message(), *records[:1]])
    (line,) = [r.getMessage() for r in caplog.records if "completed processing" in r.msg]
    assert line.endswith(
        "completed processing 7 lines of input (2 schemas, 4 records, 0 batch manifests, "
        "1 state messages, 0 activate version messages)."
    )


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ('{"type": "RECORD", "stream": "charges", "record": {', "Unable to parse line as JSON"),
        ({"stream": "charges", "record": CHARGE}, "missing required type key"),
        ({"type": "RECORDS", "stream": "charges"}, "Unknown message type 'RECORDS'"),
        ({"type": "RECORD", "stream": "charges"}, "missing required record key"),
    ],
)
def test_a_bad_line_fails_as_the_sdk_says_in_process_and_through_a_pipe(bad, said, tmp_path):
    messages = [schema_message(), record_message(CHARGE), bad]
    with pytest.raises(Exception, match=said):
        TargetAep(config={"tenant_id": "acme", "output_dir": str(tmp_path / "a")}).listen(
            io.StringIO(_lines(messages))
        )
    config = {"tenant_id": "acme", "output_dir": str(tmp_path / "b")}
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("target-aep")), "--config", str(config_file)],
        input=_lines(messages), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert said in done.stderr
