"""Field names: Stripe's snake_case -> XDM camelCase."""

from __future__ import annotations

from target_aep.mapping.names import camel_case


def test_camel_case_follows_xdm_naming():
    assert camel_case("amount_captured") == "amountCaptured"
    assert camel_case("last4") == "last4"
    assert camel_case("address_line1_check") == "addressLine1Check"
    assert camel_case("_private") == "private"
    assert camel_case("with space") == "withSpace"
