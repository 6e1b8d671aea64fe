"""meltano.yml is valid for the Meltano version the project runs with (its own JSON Schema)."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests.e2e.meltano_project import meltano_executable
from tests.shared_paths import REPO_ROOT


def test_meltano_yml_validates_against_meltanos_own_schema():
    site = meltano_executable().parent.parent / "lib"
    (schema_path,) = site.glob("python3*/site-packages/meltano/schemas/meltano.schema.json")
    schema = json.loads(schema_path.read_text())
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    jsonschema.validate(project, schema)


def test_the_six_streams_are_selected_and_state_uses_the_system_database():
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    (tap,) = project["plugins"]["extractors"]
    assert set(tap["select"]) == {
        f"{s}.*"
        for s in (
            "charges",
            "subscriptions",
            "refunds",
            "balance_transactions",
            "customers",
            "prices",
        )
    }
    assert "state_backend" not in project  # Meltano's embedded system database (the default)
