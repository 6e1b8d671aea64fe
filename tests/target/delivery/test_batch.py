"""Batch delivery: create -> upload JSON Lines files -> COMPLETE -> poll Catalog to a verdict;
one batch per dataset per run (or per batch_max_records / batch_max_bytes); the daily guardrail."""

from __future__ import annotations

import json
import logging
import time

import pytest
from target_aep.adobe.platform import PlatformClient
from target_aep.delivery.base import Dataset, MappedRecord
from target_aep.delivery.batch import BatchDelivery
from target_aep.errors import DeliveryError, SettingError
from target_aep.settings import TargetSettings

from tests.doubles.aep_api import (
    EXAMPLE_DATASET_ID,
    EXAMPLE_SCHEMA,
    EXAMPLE_SCHEMA_ID,
    aep_double,
    example_event,
)
from tests.target.delivery.records import mapped

CHARGES = Dataset("charges", EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID)
IMPORT = "/data/foundation/import/batches"
CATALOG = "/data/foundation/catalog/batches/"


@pytest.fixture
def aep():
    with aep_double() as double:
        yield double


def records(count: int, *, note: str = "") -> list[MappedRecord]:
    return [mapped("charges", f"ch_{n}", example_event(n, note=note)) for n in range(count)]


def settings(aep, **overrides) -> TargetSettings:
    return TargetSettings.from_config(aep.config(destination="batch", **overrides))


def batch_delivery(aep, **overrides) -> BatchDelivery:
    return BatchDelivery(PlatformClient(settings(aep, **overrides)))


def only_batch(aep):
    (batch_id,) = aep.batch_ids
    return aep.batch(batch_id)


def deliver(delivery: BatchDelivery, dataset: Dataset, sent: list[MappedRecord]) -> list:
    """One drain, then the end of input: the records' batch completed and waited for."""
    rejections = delivery.send(dataset, sent)
    delivery.settle()
    return rejections


def test_a_successful_batch_ingests_every_record_exactly_once(aep):
    sent = records(500)
    delivery = batch_delivery(aep)
    assert deliver(delivery, CHARGES, sent) == []
    assert aep.batch_rows[EXAMPLE_DATASET_ID] == [record.xdm for record in sent]
    assert aep.count("POST", IMPORT, status=201) == 1
    assert aep.count("PUT", IMPORT) == 1
    assert aep.count("GET", CATALOG) == 2  # processing, then success
    assert only_batch(aep).status == "success"


def test_files_are_json_lines_rotated_under_the_size_limit(aep):
    sent = records(60, note="n" * 400)  # ~0.6 KB per line -> ~36 KB
    assert deliver(batch_delivery(aep, batch_max_file_bytes=8_000), CHARGES, sent) == []
    files = only_batch(aep).files
    assert len(files) >= 5
    assert all(len(data) <= 8_000 for data in files.values())
    lines = [json.loads(line) for name in sorted(files) for line in files[name].splitlines()]
    assert lines == [record.xdm for record in sent]


def test_a_failed_batch_raises_with_adobes_errors_and_the_batch_id(aep):
    aep.fail_next_batch([{"code": "INGEST-1212-500", "description": "Storage unavailable"}])
    with pytest.raises(DeliveryError) as failure:
        deliver(batch_delivery(aep), CHARGES, records(3))
    batch = only_batch(aep)
    assert batch.batch_id in str(failure.value)
    assert "ended 'failed'" in str(failure.value)
    assert "INGEST-1212-500: Storage unavailable" in str(failure.value)
    assert not aep.batch_rows


def test_invalid_rows_without_partial_ingestion_fail_the_batch(aep):
    broken = mapped("charges", "ch_x", {"_id": "x"})  # no timestamp
    with pytest.raises(DeliveryError, match="INGEST-1212-400"):
        deliver(batch_delivery(aep), CHARGES, [*records(3), broken])


def test_success_with_failed_records_is_reported_with_its_counts(aep, caplog):
    broken = mapped("charges", "ch_x", {"_id": "x"})
    delivery = batch_delivery(aep, batch_partial_ingestion_percent=50)
    with caplog.at_level(logging.WARNING):
        rejections = deliver(delivery, CHARGES, [*records(3), broken])
    # Platform does not name the failed records per record: nothing to dead-letter here
    assert rejections == []
    assert "dropped 1 of 4 records" in caplog.text  # Catalog's failedRecordCount, reported
    assert f"/data/foundation/export/batches/{only_batch(aep).batch_id}/failed" in caplog.text
    assert len(aep.batch_rows[EXAMPLE_DATASET_ID]) == 3


def test_a_batch_still_processing_at_the_poll_timeout_stops_the_run(aep):
    aep.batch_processing_polls = 10**6
    with pytest.raises(DeliveryError, match=r"still 'processing' after 0 s"):
        deliver(batch_delivery(aep, batch_poll_timeout_seconds=0), CHARGES, records(2))


def test_an_upload_refused_for_good_aborts_the_batch_and_stops_the_run(aep):
    aep.inject(IMPORT + "/", 415)
    with pytest.raises(DeliveryError, match="HTTP 415"):
        deliver(batch_delivery(aep), CHARGES, records(2))
    assert only_batch(aep).status == "aborted"


def test_transient_failures_at_every_step_are_retried(aep):
    aep.inject(IMPORT, 503)
    aep.inject(IMPORT + "/", 429, "drop")
    aep.inject(CATALOG, 500)
    sent = records(10)
    assert deliver(batch_delivery(aep), CHARGES, sent) == []
    assert aep.batch_rows[EXAMPLE_DATASET_ID] == [record.xdm for record in sent]


def test_token_expiring_between_upload_and_polling_is_renewed(aep):
    delivery = batch_delivery(aep)
    delivery.send(CHARGES, records(2))
    aep.revoke_tokens()
    delivery.settle()  # uploads, completes and polls with a renewed token
    assert aep.count("POST", "/ims/token/v3") == 2
    assert only_batch(aep).status == "success"


def test_no_records_means_no_batch(aep):
    assert deliver(batch_delivery(aep), CHARGES, []) == []
    assert aep.requests == []


def test_a_dataset_without_dataset_id_fails_naming_the_setting(aep):
    # A stream the config does not name is checked when its SCHEMA arrives, before any record.
    with pytest.raises(SettingError, match=r"'streams\.charges\.dataset_id' is required"):
        settings(aep).stream("charges")
    assert aep.requests == []


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"ims_org_id": None}, "ims_org_id"),
        ({"streams": {"charges": {"schema_id": "s"}}}, "streams.charges.dataset_id"),
    ],
)
def test_missing_settings_fail_before_any_request_naming_the_setting(aep, overrides, setting):
    with pytest.raises(SettingError, match=f"'{setting}' is required"):
        batch_delivery(aep, **overrides)
    assert aep.requests == []


def test_by_default_every_drain_of_a_run_goes_into_one_batch_completed_at_the_end(aep):
    delivery = batch_delivery(aep)
    drains = [records(40, note=f"drain {n}") for n in range(3)]
    for sent in drains:
        assert delivery.send(CHARGES, sent) == []
        assert not delivery.state_may_follow()  # open: STATE would be ahead of the data
    assert aep.count("POST", IMPORT + "/") == 0  # no COMPLETE yet
    delivery.settle()
    assert delivery.state_may_follow()
    assert only_batch(aep).status == "success"
    assert aep.batch_rows[EXAMPLE_DATASET_ID] == [r.xdm for sent in drains for r in sent]


def test_batch_max_records_completes_a_batch_as_soon_as_it_is_full(aep):
    delivery = batch_delivery(aep, batch_max_records=10)
    delivery.send(CHARGES, records(25))
    assert [aep.batch(b).status for b in aep.batch_ids] == ["success", "success", "loading"]
    assert delivery.state_may_follow()  # by size: the open batch is completed for STATE
    assert [aep.batch(b).rows for b in aep.batch_ids] == [10, 10, 5]


def test_batch_max_bytes_completes_a_batch_once_it_holds_that_many_bytes(aep):
    sent = records(30, note="n" * 400)
    line = len(sent[0].json_line())
    deliver(batch_delivery(aep, batch_max_bytes=10 * line), CHARGES, sent)
    assert len(aep.batch_ids) == 3
    assert sum(aep.batch(b).rows for b in aep.batch_ids) == 30


def test_a_run_that_stops_aborts_its_open_batch(aep):
    delivery = batch_delivery(aep)
    delivery.send(CHARGES, records(5))
    delivery.close()  # the run stopped before the end of input
    assert only_batch(aep).status == "aborted"
    assert not aep.batch_rows[EXAMPLE_DATASET_ID]


PROFILE_CHARGES = Dataset("charges", EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID, profile_enabled=True)
OTHER_DATASET = "65f0c0ffee0000000customers"


def budget_delivery(aep, **overrides) -> BatchDelivery:
    streams = {
        "charges": {"dataset_id": EXAMPLE_DATASET_ID},
        "customers": {"dataset_id": OTHER_DATASET},
        "balance_transactions": {"dataset_id": "65f0c0ffee00000000ledger"},  # not Profile
    }
    return batch_delivery(aep, streams=streams, **overrides)


def today_ms() -> int:
    return int(time.time() * 1000)


def test_the_daily_guardrail_counts_todays_catalog_batches_and_warns_before_it_is_passed(
    aep, caplog
):
    aep.register_dataset(OTHER_DATASET, EXAMPLE_SCHEMA_ID, EXAMPLE_SCHEMA)
    aep.add_earlier_batches(EXAMPLE_DATASET_ID, 60, created_ms=today_ms() - 1000)
    aep.add_earlier_batches(OTHER_DATASET, 29, created_ms=today_ms() - 1000)
    aep.add_earlier_batches(OTHER_DATASET, 50, created_ms=today_ms() - 2 * 86_400_000)  # old
    delivery = budget_delivery(aep, batch_max_records=5)
    with caplog.at_level(logging.WARNING):
        delivery.send(PROFILE_CHARGES, records(5))  # batch 90 of today: within the guardrail
        assert "batch_daily_limit" not in caplog.text
        delivery.send(PROFILE_CHARGES, records(10))  # 91 and 92: warned once
    assert caplog.text.count("batch_daily_limit: the batch about to open") == 1
    assert "Profile batch 91 of today (UTC)" in caplog.text
    assert aep.count("GET", "/data/foundation/catalog/batches", status=200) >= 2
    lists = [e for e in aep.requests if e.path == "/data/foundation/catalog/batches"]
    assert len(lists) == 2  # one per Profile dataset of the configuration, once per run


def test_batches_of_datasets_not_enabled_for_profile_are_not_counted(aep, caplog):
    aep.add_earlier_batches(EXAMPLE_DATASET_ID, 95, created_ms=today_ms() - 1000)
    with caplog.at_level(logging.WARNING):
        deliver(budget_delivery(aep), CHARGES, records(3))  # CHARGES: not Profile-enabled
    assert "batch_daily_limit" not in caplog.text
    assert not [e for e in aep.requests if e.path == "/data/foundation/catalog/batches"]


def test_batch_daily_limit_zero_turns_the_check_off(aep, caplog):
    aep.add_earlier_batches(EXAMPLE_DATASET_ID, 95, created_ms=today_ms() - 1000)
    with caplog.at_level(logging.WARNING):
        deliver(budget_delivery(aep, batch_daily_limit=0), PROFILE_CHARGES, records(3))
    assert "batch_daily_limit" not in caplog.text
