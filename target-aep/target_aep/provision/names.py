"""What provisioning names each object (which streams are Profile-enabled: settings.py).

Objects are found again by these names, so a rerun reuses what an earlier run created. The
`(target-aep)` mark keeps them apart from objects a user made by hand; compat mode has its own
names because its schemas use another class.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_NAME = "Stripe Customer ID"
NAMESPACE_DESCRIPTION = "Stripe customer ids (cus_...), primary identity of target-aep records"
RECORD_CLASS_TITLE = "Stripe object (target-aep)"
RECORD_CLASS_DESCRIPTION = "A Stripe object kept as a record, in Stripe's own layout"
BASE_CONNECTION_NAME = "target-aep Stripe streaming"


@dataclass(frozen=True)
class StreamNames:
    field_group: str
    schema: str
    dataset: str
    source_connection: str
    target_connection: str
    dataflow: str


def stream_names(stream: str, *, compat: bool) -> StreamNames:
    mark = "target-aep compat" if compat else "target-aep"
    return StreamNames(
        field_group=f"Stripe {stream} fields ({mark})",
        schema=f"Stripe {stream} ({mark})",
        dataset=f"Stripe {stream} ({mark})",
        source_connection=f"{mark} {stream} source",
        target_connection=f"{mark} {stream} to dataset",
        dataflow=f"{mark} {stream} dataflow",
    )
