"""bin/run's preflight: another Stripe key over the environment's stored bookmarks, and an
output folder of another tenant, are refused before anything runs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.shared_paths import REPO_ROOT

STATE = 'some log line\n{"singer_state": {"bookmarks": {"charges": {"replication_key_value": 1}}}}'


@pytest.fixture
def preflight(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("preflight", REPO_ROOT / "scripts/preflight.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    (tmp_path / ".meltano").mkdir()
    return module


def test_another_stripe_key_over_stored_bookmarks_is_refused_saying_what_to_do(preflight):
    key_file = preflight.stripe_key_file("stripe-test")
    key_file.write_text(preflight.fingerprint("sk_test_account_a") + "\n")

    problem = preflight.other_stripe_key("stripe-test", "sk_test_account_b", STATE)

    assert problem is not None
    assert "bin/run --full-refresh" in problem
    assert "MELTANO_ENVIRONMENT" in problem
    assert "sk_test_account" not in problem + key_file.read_text()  # the key is never kept
    assert preflight.other_stripe_key("stripe-test", "sk_test_account_a", STATE) is None
    assert preflight.other_stripe_key("stripe-test", "sk_test_account_b", "{}") is None
    assert preflight.other_stripe_key("prod", "sk_test_account_b", STATE) is None  # first run


def test_an_output_folder_of_another_tenant_is_a_problem_led_by_its_variable(preflight, tmp_path):
    folder = tmp_path / "output" / "stripe-test" / "charges"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"tenant_id": "acme", "files": []}))
    config = {"tenant_id": "demo", "output_dir": str(folder.parent)}

    (problem,) = preflight.problems_of(config, "target-aep")

    variable, text = preflight.as_line(problem, "stripe-test")
    assert variable == "TARGET_AEP_OUTPUT_DIR"
    assert "tenant 'acme'" in text
    assert preflight.problems_of({**config, "tenant_id": "acme"}, "target-aep") == []
    assert Path(config["output_dir"]).exists()
