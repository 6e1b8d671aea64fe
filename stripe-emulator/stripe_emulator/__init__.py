"""A local Stripe API emulator: Stripe's documented read behaviour over HTTP, with sample data.

`StripeEmulator` serves it in-process; the `stripe-emulator` command (or `python -m
stripe_emulator`) serves it until interrupted. See README.md for endpoints, flags and limits.
"""

from stripe_emulator.emulator import StripeEmulator

__all__ = ["StripeEmulator"]
