"""XDM records as compact UTF-8 JSON: the one encoder of every destination (files, DCS, batch).

msgspec encodes a ~1.5 KB record in a few µs (several times faster than `json.dumps`) and comes
with singer-sdk[msgspec], already a dependency. JSON has no NaN or infinity (RFC 8259, section 6:
https://www.rfc-editor.org/rfc/rfc8259#section-6), and msgspec writes a float NaN or infinity as
`null` and a Decimal one as the bare word `NaN` or `Infinity`; a record holding one fails here
(NonFiniteNumberError, with the field's path), so its destination dead-letters it instead of
sending it.

Telling such a number apart from a real `null` or from the text "null" inside a string (a
charge's `paymentMethodDetails` is JSON text full of them) must not cost a second, slow
encoding per record: msgpack writes every float, and every Decimal when asked to, as a float64,
the byte 0xcb then eight bytes big-endian
(https://github.com/msgpack/msgpack/blob/master/spec.md#float-format-family). A NaN or an
infinity has all eleven exponent bits set, so its bytes start cb 7f|ff f0..ff; UTF-8 text never
holds 0x7f or 0xff after 0xcb, so only another number's bytes can look the same, and those few
are told apart by walking the value. A record whose JSON holds none of those words (`null`,
`NaN`, `Infinity`) holds no such number and is not looked at again.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_AS_FLOAT64 = msgspec.msgpack.Encoder(decimal_format="number")
_NON_FINITE_FLOAT64 = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


class NonFiniteNumberError(ValueError):
    """A NaN or infinity at `path` (a JSON pointer into the value, as validation's paths)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path or '/'} is NaN or infinite; JSON has no such number")
        self.path = path


def to_json(value: Any) -> bytes:
    """`value` as compact JSON; raises NonFiniteNumberError (a ValueError) or TypeError."""
    data = _ENCODER.encode(value)
    # a float NaN or infinity is written `null`, a Decimal one `NaN`, `sNaN` or `Infinity`
    if (b"null" in data or b"NaN" in data or b"Infinity" in data) and _may_hold_non_finite(value):
        path = non_finite_path(value)
        if path is not None:
            raise NonFiniteNumberError(path)
    return data


def to_json_line(value: Any) -> bytes:
    """`value` as one line of JSON Lines (batch ingestion's `json` format, one record a line)."""
    return to_json(value) + b"\n"


def _may_hold_non_finite(value: Any) -> bool:
    """False only when no number in `value` is a NaN or an infinity (see the module's doc)."""
    try:
        return _NON_FINITE_FLOAT64.search(_AS_FLOAT64.encode(value)) is not None
    except (TypeError, ValueError, OverflowError):  # sNaN, or an int over 64 bits: walk it
        return True


def non_finite_path(value: Any, path: str = "") -> str | None:
    """The JSON pointer of the first NaN or infinite number in `value` ("" for `value`
    itself), None when it holds none."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, Decimal):
        return None if value.is_finite() else path
    if isinstance(value, dict):
        for key, item in value.items():
            found = non_finite_path(item, f"{path}/{key}")
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = non_finite_path(item, f"{path}/{index}")
            if found is not None:
                return found
    return None
