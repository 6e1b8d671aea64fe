"""`_id`s: the same state gives the same id, a changed state (or a delete) a new one."""

from __future__ import annotations

from target_aep.mapping.ids import record_id


def test_same_state_gives_the_same_id_and_a_changed_state_a_new_one():
    charge = {"id": "ch_1", "status": "pending", "amount": 1099, "metadata": {"b": "2", "a": "1"}}
    reordered = {
        "metadata": {"a": "1", "b": "2"},
        "amount": 1099,
        "status": "pending",
        "id": "ch_1",
    }
    changed = {**charge, "status": "succeeded"}
    assert record_id("charges", "ch_1", charge) == record_id("charges", "ch_1", reordered)
    assert record_id("charges", "ch_1", charge) != record_id("charges", "ch_1", changed)
    assert record_id("charges", "ch_1", charge).startswith("stripe:charges:ch_1:")


def test_singer_bookkeeping_does_not_change_the_id_but_a_delete_does():
    charge = {"id": "cus_1", "email": "a@example.com"}
    with_metadata = {**charge, "_sdc_extracted_at": "2024-01-01T00:00:00Z", "_sdc_sequence": 5}
    deleted = {**charge, "_sdc_deleted_at": "2024-02-01T00:00:00Z"}
    assert record_id("customers", "cus_1", charge) == record_id("customers", "cus_1", with_metadata)
    assert record_id("customers", "cus_1", charge) != record_id("customers", "cus_1", deleted)
