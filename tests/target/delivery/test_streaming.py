"""Streaming delivery to DCS: envelope, packing, 207 per message, 413 split, retries, failures."""

from __future__ import annotations

import json

import pytest
from target_aep.adobe.platform import PlatformClient
from target_aep.delivery.base import Dataset, MappedRecord
from target_aep.delivery.streaming import StreamingDelivery
from target_aep.errors import DeliveryError, SettingError
from target_aep.settings import TargetSettings

from tests.doubles.aep_api import (
    EXAMPLE_DATASET_ID,
    EXAMPLE_FLOW_ID,
    EXAMPLE_SCHEMA_ID,
    aep_double,
    example_event,
)
from tests.target.delivery.records import mapped

CHARGES = Dataset("charges", EXAMPLE_DATASET_ID, EXAMPLE_SCHEMA_ID, EXAMPLE_FLOW_ID)
BATCH = "/collection/batch/"


@pytest.fixture
def aep():
    with aep_double() as double:
        yield double


def records(count: int, *, note: str = "", start: int = 0) -> list[MappedRecord]:
    return [
        mapped("charges", f"ch_{n:08d}", example_event(n, note=note))
        for n in range(start, start + count)
    ]


def settings(aep, **overrides) -> TargetSettings:
    return TargetSettings.from_config(aep.config(destination="streaming", **overrides))


def streaming(aep, **overrides) -> StreamingDelivery:
    return StreamingDelivery(PlatformClient(settings(aep, **overrides)))


def received_ids(aep) -> list[str]:
    return [entity["_id"] for entity in aep.dcs_entities[EXAMPLE_DATASET_ID]]


def assert_each_sent_once(aep, sent: list[MappedRecord]) -> None:
    assert sorted(received_ids(aep)) == sorted(record.xdm["_id"] for record in sent)


def test_every_record_is_accepted_exactly_once_in_the_documented_envelope(aep):
    sent = records(250)
    assert streaming(aep).send(CHARGES, sent) == []
    assert_each_sent_once(aep, sent)
    # the double checked header/body against the dataset; the entity arrives unchanged
    assert aep.dcs_entities[EXAMPLE_DATASET_ID][0] == sent[0].xdm


def test_requests_are_packed_up_to_the_configured_size(aep):
    sent = records(200, note="x" * 900)  # ~1.3 KB per message -> ~260 KB in all
    assert streaming(aep, streaming_max_request_bytes=50_000).send(CHARGES, sent) == []
    requests = aep.count("POST", BATCH)
    assert 6 <= requests <= 8  # packed, not one request per record, none over 50 KB
    assert aep.count("POST", BATCH, status=413) == 0
    assert_each_sent_once(aep, sent)


def test_a_413_splits_the_request_and_resends_both_halves(aep):
    sent = records(40)
    aep.inject(BATCH, 413)
    assert streaming(aep).send(CHARGES, sent) == []
    assert aep.count("POST", BATCH, status=413) == 1
    assert aep.count("POST", BATCH, status=207) == 2
    assert_each_sent_once(aep, sent)


def test_a_mixed_207_accepts_valid_messages_and_rejects_invalid_ones_with_adobes_reason(aep):
    sent = records(10)
    unknown_key = mapped("charges", "ch_bad1", {**example_event(100), "extra": 1})
    no_timestamp = {key: value for key, value in example_event(101).items() if key != "timestamp"}
    missing = mapped("charges", "ch_bad2", no_timestamp)
    rejections = streaming(aep).send(CHARGES, [*sent[:5], unknown_key, *sent[5:], missing])
    assert [rejection.record.source_id for rejection in rejections] == ["ch_bad1", "ch_bad2"]
    first = rejections[0].reasons[0]
    assert first["status"] == 400
    assert first["code"] == "additionalProperties"
    assert "extraneous key [extra]" in first["message"]
    assert rejections[1].reasons[0]["code"] == "required"
    assert_each_sent_once(aep, sent)


def test_per_message_5xx_are_resent_with_backoff_and_then_accepted_once(aep):
    sent = records(30)
    aep.fail_messages(503, 5)
    assert streaming(aep).send(CHARGES, sent) == []
    assert aep.count("POST", BATCH) == 2  # the whole batch, then the five failures again
    assert_each_sent_once(aep, sent)


def test_per_message_5xx_that_never_recovers_is_rejected_after_bounded_retries(aep):
    aep.fail_messages(500, 1 + 2)  # fails on the first try and on both retries
    rejections = streaming(aep, max_retries=2).send(CHARGES, records(1))
    assert [rejection.record.source_id for rejection in rejections] == ["ch_00000000"]
    assert rejections[0].reasons[0]["status"] == 500
    assert "after 2 retries" in rejections[0].reasons[0]["message"]
    assert aep.count("POST", BATCH) == 3
    assert not received_ids(aep)


def test_429_then_success_delivers_every_record_once(aep):
    sent = records(20)
    aep.inject(BATCH, 429)
    assert streaming(aep).send(CHARGES, sent) == []
    assert aep.count("POST", BATCH, status=429) == 1
    assert_each_sent_once(aep, sent)


def test_5xx_exhausted_raises_delivery_error_without_secrets(aep):
    aep.inject(BATCH, *[503] * 3)
    with pytest.raises(DeliveryError, match="after 3 attempts: HTTP 503") as failure:
        streaming(aep, max_retries=2).send(CHARGES, records(5))
    assert aep.client_secret not in str(failure.value)
    assert not received_ids(aep)


def test_token_expiring_mid_run_is_renewed_after_a_401_and_nothing_is_lost(aep):
    delivery = streaming(aep)
    first, second = records(10), records(10, start=10)
    delivery.send(CHARGES, first)
    aep.revoke_tokens()  # as if the token expired between two drains
    assert delivery.send(CHARGES, second) == []
    assert aep.count("POST", BATCH, status=401) == 1
    assert aep.count("POST", "/ims/token/v3") == 2
    assert_each_sent_once(aep, first + second)


def test_connection_drop_is_retried(aep):
    sent = records(5)
    aep.inject(BATCH, "drop")
    assert streaming(aep).send(CHARGES, sent) == []
    assert_each_sent_once(aep, sent)


def test_concurrent_requests_deliver_every_record_exactly_once(aep):
    sent = records(400, note="y" * 400)
    aep.fail_messages(503, 7)
    delivery = streaming(aep, streaming_max_request_bytes=20_000, streaming_concurrency=4)
    assert delivery.send(CHARGES, sent) == []
    assert aep.count("POST", BATCH) > 10
    assert_each_sent_once(aep, sent)


def test_a_message_over_one_megabyte_is_rejected_without_being_sent(aep):
    huge = mapped("charges", "ch_huge", example_event(1, note="z" * 1_100_000))
    rejections = streaming(aep).send(CHARGES, [huge, *records(2, start=2)])
    assert [rejection.record.source_id for rejection in rejections] == ["ch_huge"]
    assert rejections[0].reasons[0]["status"] == 413
    assert aep.count("POST", BATCH, status=413) == 0
    assert sorted(received_ids(aep)) == ["evt-00000002", "evt-00000003"]


def test_a_dataset_without_a_flow_id_fails_naming_the_setting(aep):
    # A stream the config does not name is checked when its SCHEMA arrives, before any record.
    with pytest.raises(SettingError, match=r"'streams\.charges\.flow_id' is required"):
        settings(aep).stream("charges")
    assert aep.requests == []


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"inlet_id": None}, "inlet_id"),
        ({"client_secret": ""}, "client_secret"),
        (
            {"streams": {"charges": {"dataset_id": "d", "schema_id": "s"}}},
            "streams.charges.flow_id",
        ),
    ],
)
def test_missing_settings_fail_before_any_request_naming_the_setting(aep, overrides, setting):
    with pytest.raises(SettingError, match=f"'{setting}' is required"):
        streaming(aep, **overrides)
    assert aep.requests == []


def test_envelope_header_and_body_follow_the_documented_shape():
    from target_aep.adobe.dcs import Envelope

    envelope = Envelope(ims_org_id="O@AdobeOrg", dataset_id="d1", schema_id="s1", flow_id="f1")
    message = json.loads(envelope.message(b'{"_id":"1"}'))
    ref = {"id": "s1", "contentType": "application/vnd.adobe.xed-full+json;version=1"}
    assert message == {
        "header": {
            "schemaRef": ref,
            "imsOrgId": "O@AdobeOrg",
            "datasetId": "d1",
            "flowId": "f1",
            "source": {"name": "target-aep"},
        },
        "body": {"xdmMeta": {"schemaRef": ref}, "xdmEntity": {"_id": "1"}},
    }


def test_a_request_level_400_stops_the_run_instead_of_dead_lettering_everything(aep):
    aep.inject(BATCH, 400)
    with pytest.raises(DeliveryError, match="HTTP 400"):
        streaming(aep).send(CHARGES, records(4))
    assert aep.count("POST", BATCH) == 1


def test_a_403_from_dcs_renews_the_token_once_as_for_an_expired_token(aep):
    sent = records(3)
    aep.inject(BATCH, 403)
    assert streaming(aep).send(CHARGES, sent) == []
    assert aep.count("POST", "/ims/token/v3") == 2
    assert_each_sent_once(aep, sent)
