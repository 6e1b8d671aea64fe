"""`python -m stripe_emulator`: the same as the `stripe-emulator` command."""

import sys

from stripe_emulator.cli import main

sys.exit(main())
