"""The one record encoder: compact JSON, and no NaN or infinity ever written, whatever the text
"null" inside a record's strings."""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal

import msgspec
import pytest
from target_aep.json_encoding import NonFiniteNumberError, non_finite_path, to_json

from tests.target.examples import example

# A charge's payment_method_details as the tenant area's JSON text: "null" inside a string.
TEXT_WITH_NULLS = json.dumps(example("charges")["payment_method_details"])


@pytest.mark.parametrize(
    "value",
    [
        {"paymentMethodDetails": TEXT_WITH_NULLS, "amount": Decimal("12.50"), "n": 3},
        {"real": None, "nested": [None, {"x": None}], "text": "NaN Infinity null"},
        # numbers whose msgpack bytes look like a float64 NaN (cb 7f f8) or -infinity (cb ff f0)
        {"int": 0xCB7FF8, "other": -0xCBFFF0, "f": 1.5e300},
        {"big": 2**70, "tiny": Decimal("1E-400"), "huge": Decimal("1E+400")},
        # the largest finite float64 (cb 7f ef ...) and a marker byte 0xcb at the very end
        {"max": [1.7976931348623157e308, -1.7976931348623157e308], "x": None, "end": 0xCB},
        [None, 0xCB7F],
    ],
    ids=["text-null", "real-nulls", "look-alike-bytes", "beyond-float64", "largest", "end"],
)
def test_finite_values_are_written_whole_and_no_text_or_null_is_taken_for_a_nan(value):
    data = to_json(value)
    assert data == msgspec.json.Encoder(decimal_format="number").encode(value)  # nothing altered


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": [1, {"b": math.nan}]}, "/a/1/b"),
        ({"a": math.inf}, "/a"),
        ({"t": TEXT_WITH_NULLS, "list": [0, 1, -math.inf]}, "/list/2"),
        ({"rate": Decimal("NaN")}, "/rate"),
        ({"rate": Decimal("Infinity")}, "/rate"),
        ({"rate": Decimal("-Infinity")}, "/rate"),
        ({"rate": Decimal("sNaN")}, "/rate"),
        ({"big": 2**70, "then": [math.nan]}, "/then/0"),
        ({"finite": [1.5, 2.5e-300, 1.7976931348623157e308], "x": None, "last": math.inf}, "/last"),
        (math.nan, ""),
    ],
)
def test_a_nan_or_infinity_fails_with_its_path(value, path):
    with pytest.raises(NonFiniteNumberError) as raised:
        to_json(value)
    assert raised.value.path == path
    assert isinstance(raised.value, ValueError)  # what every destination catches
    assert "NaN or infinite" in str(raised.value)


def test_non_finite_path_finds_the_first_one_in_order_and_none_in_finite_values():
    assert non_finite_path({"a": 1, "b": [2.5, {"c": math.inf}], "d": math.nan}) == "/b/1/c"
    assert non_finite_path({"a": [1, 2.5, Decimal("3")], "b": "nan"}) is None


# -- random values, whose strings hold nulls and JSON text: refused exactly when they hold a NaN --

TRICKY_TEXT = ["", "null", "nullable", ":null", '":null', '\\":null', "\\", '\\"', "[null",
               ",null", "a\\\\", "NaN", 'x"y']  # fmt: skip


def _random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth < 3 and roll < 0.25:
        keys = [rng.choice(["a", "a\\", 'a"', "\\", '"', "x:null", "", "k"]) + str(n)
                for n in range(rng.randint(0, 4))]  # fmt: skip
        return {key: _random_value(rng, depth + 1) for key in keys}
    if depth < 3 and roll < 0.4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.5:  # JSON text held as a string, as the tenant area's for a loose object
        return json.dumps(_random_value(rng, depth + 1), default=str)
    return rng.choice(LEAVES)


LEAVES = [None, None, 0, -7, 2.5, 1e300, Decimal("1.25"), True, *TRICKY_TEXT,
          math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("-Infinity")]  # fmt: skip


def _first_non_finite(value, path=""):
    """The oracle, independent of the code under test: the first NaN or infinity, in order."""
    if isinstance(value, (float, Decimal)) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_non_finite(item, f"{path}/{key}")
        if found is not None:
            return found
    return None


def test_random_values_fail_exactly_when_they_hold_a_non_finite_number():
    rng = random.Random(20261203)
    encode = msgspec.json.Encoder(decimal_format="number").encode
    checked = 0
    for _ in range(4_000):
        value = {"record": _random_value(rng)}
        path = _first_non_finite(value)
        if path is None:
            assert to_json(value) == encode(value)
        else:
            with pytest.raises(NonFiniteNumberError) as raised:
                to_json(value)
            assert raised.value.path == path
            checked += 1
    assert checked > 500  # the generator makes NaNs often enough to test both sides
