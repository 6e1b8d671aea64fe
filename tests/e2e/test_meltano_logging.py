"""logging.yaml: Meltano's own console log less its line per STATE, in a real `meltano run`."""

from __future__ import annotations

import re

from tests.doubles.stripe_api import StripeDouble

START = 1735689600  # 2025-01-01
# Meltano's console line: ISO timestamp, padded level, the logger's short name, the message.
MELTANO_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \[(\w+) *\] (\S+) +(.*)$")


def test_the_run_logs_no_line_per_state_and_keeps_meltanos_and_the_plugins_lines(
    installed_project, tmp_path
):
    with StripeDouble() as stripe:
        stripe.seed({"charges": 30, "customers": 5}, start=START, end=START + 86_400, seed=2)
        env = {
            "TAP_STRIPE_XDM_API_URL": stripe.url,
            "TAP_STRIPE_XDM_API_KEY": "sk_test_double",
            "TAP_STRIPE_XDM_START_DATE": "2025-01-01T00:00:00Z",
            "TARGET_AEP_OUTPUT_DIR": str(tmp_path / "out"),
            "TARGET_AEP_TENANT_ID": "acme",
            "TARGET_AEP_BATCH_SIZE_ROWS": "5",  # a STATE after every 5 records
        }
        output = installed_project.run(env, "--state-id-suffix=logging")
    assert "Incremental state has been updated" not in output, output[-4000:]
    lines = [match.groups() for line in output.splitlines() if (match := MELTANO_LINE.match(line))]
    by_source = {source for _, source, _ in lines}
    assert {"meltano", "tap-stripe-xdm", "target-aep"} <= by_source, output[-4000:]
    messages = [message for _, _, message in lines]
    assert "Block run completed" in messages
    assert any(m.startswith("Reading charges created in [") for m in messages)
    assert "Run summary:" in messages
    assert "\x1b[" not in output  # Meltano's own lines uncoloured, as the plugins' are
    # The STATEs were still stored: Meltano only stopped saying so.
    state = installed_project.state(env, "logging")
    assert state["singer_state"]["bookmarks"]["charges"]
