"""Batch delivery: create -> upload JSON Lines files -> COMPLETE -> poll Catalog to a verdict."""

from __future__ import annotations

import json
import logging

import pytest
from target_aep.adobe.platform import PlatformClient
from target_aep.delivery.base import Dataset, MappedRecord
from target_aep.delivery.batch import BatchDelivery
from target_aep.errors import DeliveryError, SettingError
from target_aep.settings import TargetSettings

from tests.doubles.aep_api import (
    EXAMPLE_DATASET_ID,
    EXAMPLE_SCHEMA_ID,
    aep_double,
    example_event,
)

CHARGES = Dataset("charges", EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID)
IMPORT = "/data/foundation/import/batches"
CATALOG = "/data/foundation/catalog/batches/"


@pytest.fixture
def aep():
    with aep_double() as double:
        yield double


def records(count: int, *, note: str = "") -> list[MappedRecord]:
    return [MappedRecord("charges", f"ch_{n}", example_event(n, note=note)) for n in range(count)]


def settings(aep, **overrides) -> TargetSettings:
    return TargetSettings.from_config(aep.config(destination="batch", **overrides))


def batch_delivery(aep, **overrides) -> BatchDelivery:
    return BatchDelivery(PlatformClient(settings(aep, **overrides)))


def only_batch(aep):
    (batch_id,) = aep.batch_ids  # one batch per dataset per send()
    return aep.batch(batch_id)


def test_a_successful_batch_ingests_every_record_exactly_once(aep):
    sent = records(500)
    delivery = batch_delivery(aep)
    assert delivery.send(CHARGES, sent) == []
    assert aep.batch_rows[EXAMPLE_DATASET_ID] == [record.xdm for record in sent]
    assert aep.count("POST", IMPORT, status=201) == 1
    assert aep.count("PUT", IMPORT) == 1
    assert aep.count("GET", CATALOG) == 2  # processing, then success
    assert only_batch(aep).status == "success"


def test_files_are_json_lines_rotated_under_the_size_limit(aep):
    sent = records(60, note="n" * 400)  # ~0.6 KB per line -> ~36 KB
    assert batch_delivery(aep, batch_max_file_bytes=8_000).send(CHARGES, sent) == []
    files = only_batch(aep).files
    assert len(files) >= 5
    assert all(len(data) <= 8_000 for data in files.values())
    lines = [json.loads(line) for name in sorted(files) for line in files[name].splitlines()]
    assert lines == [record.xdm for record in sent]


def test_a_failed_batch_raises_with_adobes_errors_and_the_batch_id(aep):
    aep.fail_next_batch([{"code": "INGEST-1212-500", "description": "Storage unavailable"}])
    with pytest.raises(DeliveryError) as failure:
        batch_delivery(aep).send(CHARGES, records(3))
    batch = only_batch(aep)
    assert batch.batch_id in str(failure.value)
    assert "ended 'failed'" in str(failure.value)
    assert "INGEST-1212-500: Storage unavailable" in str(failure.value)
    assert not aep.batch_rows


def test_invalid_rows_without_partial_ingestion_fail_the_batch(aep):
    broken = MappedRecord("charges", "ch_x", {"_id": "x"})  # no timestamp
    with pytest.raises(DeliveryError, match="INGEST-1212-400"):
        batch_delivery(aep).send(CHARGES, [*records(3), broken])


def test_success_with_failed_records_is_reported_with_its_counts(aep, caplog):
    broken = MappedRecord("charges", "ch_x", {"_id": "x"})
    delivery = batch_delivery(aep, batch_partial_ingestion_percent=50)
    with caplog.at_level(logging.WARNING):
        rejections = delivery.send(CHARGES, [*records(3), broken])
    # Platform does not name the failed records per record: nothing to dead-letter here
    assert rejections == []
    assert "dropped 1 of 4 records" in caplog.text  # Catalog's failedRecordCount, reported
    assert f"/data/foundation/export/batches/{only_batch(aep).batch_id}/failed" in caplog.text
    assert len(aep.batch_rows[EXAMPLE_DATASET_ID]) == 3


def test_a_batch_still_processing_at_the_poll_timeout_stops_the_run(aep):
    aep.batch_processing_polls = 10**6
    with pytest.raises(DeliveryError, match=r"still 'processing' after 0 s"):
        batch_delivery(aep, batch_poll_timeout_seconds=0).send(CHARGES, records(2))


def test_an_upload_refused_for_good_aborts_the_batch_and_stops_the_run(aep):
    aep.inject(IMPORT + "/", 415)
    with pytest.raises(DeliveryError, match="HTTP 415"):
        batch_delivery(aep).send(CHARGES, records(2))
    assert only_batch(aep).status == "aborted"


def test_transient_failures_at_every_step_are_retried(aep):
    aep.inject(IMPORT, 503)
    aep.inject(IMPORT + "/", 429, "drop")
    aep.inject(CATALOG, 500)
    sent = records(10)
    assert batch_delivery(aep).send(CHARGES, sent) == []
    assert aep.batch_rows[EXAMPLE_DATASET_ID] == [record.xdm for record in sent]


def test_token_expiring_between_upload_and_polling_is_renewed(aep):
    delivery = batch_delivery(aep)
    delivery.send(CHARGES, records(2))
    aep.revoke_tokens()
    assert delivery.send(CHARGES, records(2)) == []
    assert aep.count("POST", "/ims/token/v3") == 2


def test_no_records_means_no_batch(aep):
    assert batch_delivery(aep).send(CHARGES, []) == []
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
