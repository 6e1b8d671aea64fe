"""XDM `_id`s: deterministic, from the stream, the Stripe id and a digest of the object's state.

The same state always gives the same `_id`, so a re-send is idempotent; a changed state gives a
new one. ExperienceEvent `_id`s must be regenerable identically when the same event is ingested
again (https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/tutorials/streaming-time-series-data).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from target_aep.sdk_adapters import SDC_BOOKKEEPING

# Sorted keys make the encoding canonical; msgspec (already here through singer-sdk[msgspec])
# does it in ~2 µs for a charge where json.dumps(sort_keys=True) takes ~30 µs.
_CANONICAL = msgspec.json.Encoder(order="sorted", decimal_format="number")


def state_digest(obj: dict) -> str:
    """Canonical digest of an object's whole state (key order ignored).

    Changes whenever any field changes, so a changed object gets a new `_id` while a re-send of
    the same state keeps the old one.
    """
    return hashlib.blake2b(_CANONICAL.encode(obj), digest_size=12).hexdigest()


def record_id(
    stream: str, source_id: Any, obj: Any, ignore: frozenset[str] = SDC_BOOKKEEPING
) -> str:
    """`stripe:<stream>:<Stripe id>:<state digest>` (without the id when the record has none).

    The `ignore` fields do not count: Singer's `_sdc_*` bookkeeping (extraction time,
    sequence...) and other taps' (the `id_ignore_fields` setting) describe the reading, not the
    object; only `_sdc_deleted_at` is state, since a delete is a new state.
    """
    state = obj
    if not obj.keys().isdisjoint(ignore):  # no set built per record
        state = {key: value for key, value in obj.items() if key not in ignore}
    if source_id is None or source_id == "":
        return f"stripe:{stream}:{state_digest(state)}"
    return f"stripe:{stream}:{source_id}:{state_digest(state)}"


def object_id(stream: str, source_id: Any, obj: Any, ignore: frozenset[str]) -> str:
    """`stripe:<stream>:<Stripe id>`: one id per object for the fact its creation is (a
    purchase, a refund...), whatever state a later read finds it in; a record without an id
    falls back to the state digest."""
    if source_id is None or source_id == "":
        return record_id(stream, source_id, obj, ignore)
    return f"stripe:{stream}:{source_id}"


def change_id(stream: str, source_id: Any, stripe_type: str, at: int) -> str:
    """`stripe:<stream>:<Stripe id>:<event type>:<Unix seconds>`: a change event is the Stripe
    event that made it, so sending it again (from either tap) gives the same `_id`."""
    return f"stripe:{stream}:{source_id}:{stripe_type}:{at}"


def creation_id(stream: str, source_id: Any, obj: Any, ignore: frozenset[str]) -> str:
    """`stripe:<stream>:<Stripe id>:created`: the first state of an object that is not its
    business fact yet (a charge still pending). One per object, and never the fact's own `_id`
    (`object_id`), which the change making the object its fact carries later."""
    if source_id is None or source_id == "":
        return record_id(stream, source_id, obj, ignore)
    return f"stripe:{stream}:{source_id}:created"
