"""The foreign plugins the interop tests run, at the versions they were checked with."""

from __future__ import annotations

from tests.interop.foreign_venv import ForeignPlugin

# singer-io's tap (PyPI `tap-stripe`, the Stitch tap; pins stripe==5.5.0, API 2022-11-15).
SINGER_IO_TAP_STRIPE = ForeignPlugin("tap-stripe", ("tap-stripe==3.3.0",))
# MeltanoLabs publishes its CSV target on PyPI as meltanolabs-target-csv (SDK-based). It
# publishes no JSON Lines target there: `target-jsonl` is the andyh1203 variant, Meltano Hub's
# default target-jsonl.
TARGET_CSV = ForeignPlugin("target-csv", ("meltanolabs-target-csv==0.5.0",))
TARGET_JSONL = ForeignPlugin("target-jsonl", ("target-jsonl==0.1.4",))
# singer-check-tap: Singer's own checker of a tap's output (schemas, records, state).
SINGER_TOOLS = ForeignPlugin("singer-tools", ("singer-tools==0.4.1",))
