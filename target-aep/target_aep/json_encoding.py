"""XDM records as compact UTF-8 JSON: the one encoder of every destination (files, DCS, batch).

A record the route validated is encoded by `valid_json` once, as it is taken: validation
refuses NaN and infinity (validation.py, through `non_finite_in`), so nothing is looked at
again. `to_json` is for values no validator has seen (an envelope's header).

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
from decimal import Decimal
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_AS_FLOAT64 = msgspec.msgpack.Encoder(decimal_format="number")
_FLOAT64 = b"\xcb"  # msgpack's float 64 marker


class NonFiniteNumberError(ValueError):
    """A NaN or infinity at `path` (a JSON pointer into the value, as validation's paths)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path or '/'} is NaN or infinite; JSON has no such number")
        self.path = path


def to_json(value: Any) -> bytes:
    """`value` as compact JSON; raises NonFiniteNumberError (a ValueError) or TypeError."""
    data = _ENCODER.encode(value)
    # A float NaN or infinity is written `null`, a Decimal one `NaN`, `sNaN` or `Infinity`.
    # `find`, not `in`: bytes' `in` first tries its operand as an integer, and the TypeError
    # it raises and clears costs more than the search (CPython's _Py_bytes_contains).
    if data.find(b"null") != -1 or data.find(b"NaN") != -1 or data.find(b"Infinity") != -1:
        path = non_finite_in(value)
        if path is not None:
            raise NonFiniteNumberError(path)
    return data


def valid_json(value: Any) -> bytes:
    """A validated record as compact JSON (validation refused any NaN or infinity in it);
    raises TypeError for a value of no JSON type."""
    return _ENCODER.encode(value)


def non_finite_in(value: Any) -> str | None:
    """The JSON pointer of the first NaN or infinite number in `value`, None when it holds
    none: one msgpack pass (see the module's doc), the value walked only after a hit."""
    return non_finite_path(value) if _may_hold_non_finite(value) else None


def _may_hold_non_finite(value: Any) -> bool:
    """False only when no number in `value` is a NaN or an infinity (see the module's doc)."""
    try:
        packed = _AS_FLOAT64.encode(value)
    except (TypeError, ValueError, OverflowError):  # sNaN, or an int over 64 bits: walk it
        return True
    # the bytes cb 7f|ff f0..ff, found marker by marker (a byte search, not a regex: a record
    # holds a few markers, each tested here, in far less time than a pattern scan of it all)
    last = len(packed) - 3
    at = packed.find(_FLOAT64)
    while at != -1 and at <= last:
        if packed[at + 1] & 0x7F == 0x7F and packed[at + 2] >= 0xF0:
            return True
        at = packed.find(_FLOAT64, at + 1)
    return False


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
