"""`meltano invoke target-aep:provision` with the real Meltano CLI, then `meltano run`.

An empty AEP sandbox (the AEP double) is provisioned through the plugin command with the
target's settings as Meltano passes them (environment variables, `--config ENV`) and the tap's
own discovered catalog; a `meltano run` with the written ids then delivers every Stripe object,
each validated by the double against the schema provisioning created.
"""

from __future__ import annotations

import json

from tests.doubles.aep_api import aep_double
from tests.doubles.stripe_api import StripeDouble
from tests.e2e.test_meltano_run import (
    FIRST,
    START,
    STREAMS,
    TENANT,
    stripe_ids,
    tap_env,
    target_env,
)
from tests.shared_paths import XDM_DIR, require


def test_the_plugin_command_provisions_what_meltano_run_then_delivers_to(
    installed_project, tmp_path
):
    require(XDM_DIR)
    with StripeDouble() as stripe, aep_double(tenant_id=TENANT) as aep:
        stripe.seed(FIRST, start=START, end=START + 30 * 86_400, seed=11, events=True)
        config = aep.config(
            destination="streaming", tenant_id=TENANT, output_dir=str(tmp_path / "out")
        )
        config.pop("inlet_id")
        env = {**tap_env(stripe), **target_env(config)}
        catalog = installed_project.meltano_cmd("invoke", "tap-stripe-xdm", "--discover", env=env)
        catalog_file = tmp_path / "catalog.json"
        catalog_file.write_text(catalog[catalog.index("{") : catalog.rindex("}") + 1])
        settings_file = tmp_path / "provisioned.json"
        out = installed_project.meltano_cmd(
            "invoke",
            "target-aep:provision",
            "--catalog",
            str(catalog_file),
            "--output",
            str(settings_file),
            env=env,
        )
        assert "summary:" in out
        assert aep.client_secret not in out
        provisioned = json.loads(settings_file.read_text())
        assert set(provisioned["streams"]) == set(STREAMS)
        installed_project.run({**env, **target_env({**config, **provisioned})})
        for stream in STREAMS:
            dataset_id = provisioned["streams"][stream]["dataset_id"]
            delivered = {e[f"_{TENANT}"]["stripe"]["id"] for e in aep.dcs_entities[dataset_id]}
            assert delivered == stripe_ids(stripe, stream), stream
        assert not (tmp_path / "out" / "dead_letter.jsonl").exists()
