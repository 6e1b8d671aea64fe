"""Which moment a record describes: its object's creation (the first state) or a change.

Change capture re-emits an object's whole current state after a Stripe event. The tap stamps
such a record with the event's type and time under the names singer-io's tap-stripe uses for
the same purpose, `updated_by_event_type` and `updated`
(https://github.com/singer-io/tap-stripe/blob/master/tap_stripe/__init__.py, `sync_event_updates`),
so both taps' records read the same way. A first read carries neither (singer-io stamps
`updated` = `created` on it). A delete is a change too: Singer's `_sdc_deleted_at`, or
singer-io's `updated_by_event_type: <object>.deleted`.

A record stamped with its object's creation second (`customer.created`, a `charge.succeeded`
sent as the charge is made) describes the first state: singer-io re-sends every object so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from target_aep.mapping.timestamps import to_rfc3339, to_unix
from target_aep.sdk_adapters import SDC_DELETED_AT

CHANGE_TYPE_FIELD = "updated_by_event_type"
CHANGE_TIME_FIELD = "updated"
# Fields other Stripe taps add to every record that describe their reading, not the object:
# they never count in an `_id` digest (the `id_ignore_fields` default).
TAP_BOOKKEEPING_FIELDS = (CHANGE_TYPE_FIELD, CHANGE_TIME_FIELD)
T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """The Stripe event a record was re-emitted after."""

    stripe_type: str  # e.g. charge.refunded
    at: int  # Unix seconds of the event (what its `_id` names)
    stamp: str  # the same moment in RFC 3339, as precise as the record gave it
    deleted: bool


def change_of(record: Mapping[str, Any], delete_type: str) -> Change | None:
    """The change `record` describes, or None for the first state (see the module docstring).

    `delete_type` names a delete that carries no event type (only `_sdc_deleted_at`); without
    one, `<object>.deleted`.
    """
    kind = record.get(CHANGE_TYPE_FIELD)
    deleted_at = record.get(SDC_DELETED_AT)
    if deleted_at:
        default = delete_type or f"{record.get('object') or 'object'}.deleted"
        return Change(kind or default, _present(to_unix(deleted_at)), _stamp(deleted_at), True)
    changed_at = record.get(CHANGE_TIME_FIELD)
    when = to_unix(changed_at)
    if when is None:
        return None
    if isinstance(kind, str) and kind.endswith(".deleted"):
        return Change(kind, when, _stamp(changed_at), True)
    created = to_unix(record.get("created"))
    if created is not None and when <= created:
        return None
    return Change(kind or "", when, _stamp(changed_at), False)


def _stamp(value: Any) -> str:
    """A present timestamp in RFC 3339 (to_rfc3339 is None only for an absent one)."""
    return _present(to_rfc3339(value))


def _present(converted: T | None) -> T:
    if converted is None:  # a present value converts or raises ValueError
        raise ValueError("not a timestamp")
    return converted
