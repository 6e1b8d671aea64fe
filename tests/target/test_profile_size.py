"""Profile's size guardrails: no ExperienceEvent over 10 KB and no profile record over 100 KB
leaves the target for a Profile-enabled dataset; trimmed records keep every standard field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from target_aep.json_encoding import to_json
from target_aep.profile_size import EXPERIENCE_EVENT_LIMIT_BYTES, PROFILE_RECORD_LIMIT_BYTES
from target_aep.route import Routes
from target_aep.settings import TargetSettings

from tests.target.examples import example, singer_schema
from tests.target.singer_run import record_messages, run_in_process


def subscription_with_items(count: int) -> dict:
    subscription = example("subscriptions")
    (template, *_) = subscription["items"]["data"]
    items = []
    for n in range(count):
        item = copy.deepcopy(template)
        item["id"] = f"si_{n:04d}"
        item["price"] = {**item["price"], "id": f"price_{n:04d}", "nickname": f"Seat {n}"}
        items.append(item)
    subscription["items"] = {**subscription["items"], "data": items, "has_more": False}
    subscription["customer"] = "cus_1"
    return subscription


def routes(tmp_path: Path, **config) -> Routes:
    settings = {"tenant_id": "acme", "output_dir": str(tmp_path), **config}
    return Routes(TargetSettings.from_config(settings))


def standard_part(xdm: dict) -> dict:
    return {key: value for key, value in xdm.items() if key != "_acme"}


def test_a_30_item_subscription_to_a_profile_dataset_arrives_under_10_kb_with_every_standard_field(
    tmp_path,
):
    subscription = subscription_with_items(30)
    whole = routes(tmp_path / "whole", streams={"subscriptions": {"enable_profile": False}})
    untrimmed = whole.route_for("subscriptions", singer_schema("subscriptions")).take(subscription)
    assert untrimmed is not None
    assert len(to_json(untrimmed.xdm)) > EXPERIENCE_EVENT_LIMIT_BYTES  # the case at hand

    run = routes(tmp_path / "profile")  # subscriptions are Profile-enabled by default
    route = run.route_for("subscriptions", singer_schema("subscriptions"))
    kept = route.take(copy.deepcopy(subscription))
    assert kept is not None
    sent = to_json(kept.xdm)
    assert len(sent) <= EXPERIENCE_EVENT_LIMIT_BYTES
    assert kept.encoded == sent  # measured as it is sent
    assert standard_part(kept.xdm) == standard_part(untrimmed.xdm)
    assert len(kept.xdm["productListItems"]) == 30
    items = kept.xdm["_acme"]["stripe"]["subscription"]["items"]
    assert items["totalCount"] == 30
    assert items["hasMore"] is True
    assert 0 < len(items["data"]) < 30
    assert [item["id"] for item in items["data"]] == [
        f"si_{n:04d}" for n in range(len(items["data"]))
    ]
    assert route.validator.errors(kept.xdm) == []
    assert run.summary.tallies["subscriptions"].trimmed == 1


def test_the_same_subscription_to_a_non_profile_dataset_arrives_whole(tmp_path, capsys):
    config = {
        "tenant_id": "acme",
        "output_dir": str(tmp_path),
        "streams": {"subscriptions": {"enable_profile": False}},
    }
    messages = record_messages(
        "subscriptions", singer_schema("subscriptions"), [subscription_with_items(30)], {}
    )
    run_in_process(config, messages, capsys)
    (part,) = (tmp_path / "subscriptions").glob("part-*.json")
    (line,) = part.read_bytes().splitlines()
    assert len(line) > EXPERIENCE_EVENT_LIMIT_BYTES
    items = json.loads(line)["_acme"]["stripe"]["subscription"]["items"]
    assert len(items["data"]) == 30
    assert items["hasMore"] is False


def test_every_record_a_profile_dataset_gets_from_the_target_is_within_the_limit(tmp_path, capsys):
    records = [subscription_with_items(n) for n in (1, 5, 10, 20, 30, 60)]
    for n, record in enumerate(records):
        record["id"] = f"sub_{n}"
    config = {"tenant_id": "acme", "output_dir": str(tmp_path)}
    run_in_process(
        config,
        record_messages("subscriptions", singer_schema("subscriptions"), records, {}),
        capsys,
    )
    lines = [
        line
        for part in (tmp_path / "subscriptions").glob("part-*.json")
        for line in part.read_bytes().splitlines()
    ]
    assert len(lines) == len(records)
    assert all(len(line) <= EXPERIENCE_EVENT_LIMIT_BYTES for line in lines)
    summary = json.loads((tmp_path / "run_summary.json").read_text())["streams"]["subscriptions"]
    assert summary["trimmed"] == 4  # 10 items and more are over 10 KB


def test_a_record_that_cannot_be_brought_under_the_limit_is_dead_lettered_with_the_reason(tmp_path):
    run = routes(tmp_path)
    route = run.route_for("charges", singer_schema("charges"))
    charge = {**example("charges"), "description": "x" * (EXPERIENCE_EVENT_LIMIT_BYTES + 1)}
    assert route.take(charge) is None
    route.deliver([])
    (letter,) = [
        json.loads(line) for line in (tmp_path / "dead_letter.jsonl").read_text().splitlines()
    ]
    assert letter["reason"].startswith("too large for Profile")
    assert "10,000-byte limit for an ExperienceEvent" in letter["reason"]
    assert "experience-platform/profile/guardrails" in letter["reason"]


def test_profile_records_have_the_100_kb_limit(tmp_path):
    run = routes(tmp_path)
    route = run.route_for("customers", singer_schema("customers"))
    customer = {**example("customers"), "description": "x" * 50_000}  # over 10 KB, under 100 KB
    kept = route.take(customer)
    assert kept is not None
    assert EXPERIENCE_EVENT_LIMIT_BYTES < len(kept.encoded) <= PROFILE_RECORD_LIMIT_BYTES
    too_large = {**example("customers"), "description": "x" * PROFILE_RECORD_LIMIT_BYTES}
    assert route.take(too_large) is None


def test_streams_not_enabled_for_profile_are_neither_measured_nor_trimmed(tmp_path):
    run = routes(tmp_path)
    route = run.route_for("balance_transactions", singer_schema("balance_transactions"))
    transaction = {**example("balance_transactions"), "description": "x" * 20_000}
    kept = route.take(transaction)
    assert kept is not None
    assert kept.xdm["_acme"]["stripe"]["balanceTransaction"]["description"] == "x" * 20_000
