"""Each wheel installed alone into a clean venv works: the plugins answer `--about` as in the
workspace, the tap reads every stream from the emulator (installed from its own wheel), and the
target turns the tap's output into XDM files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.packaging.conftest import EMULATOR_KEY
from tests.packaging.distributions import PROJECTS
from tests.shared_paths import REPO_ROOT

PLUGINS = ("tap-stripe-xdm", "target-aep")
# Stripe's list endpoints, with what lists every object (subscriptions leave canceled ones out
# without status=all: https://docs.stripe.com/api/subscriptions/list).
LISTS = {
    "charges": {},
    "customers": {},
    "subscriptions": {"status": "all"},
    "refunds": {},
    "balance_transactions": {},
    "prices": {},
}
WHERE_AM_I = """
import importlib.util, json, sys
print(json.dumps({
    "file": importlib.util.find_spec(sys.argv[1]).origin,
    "others": [m for m in sys.argv[2:] if importlib.util.find_spec(m) is not None],
    "path": sys.path,
}))
"""


@pytest.mark.parametrize("project", PROJECTS)
def test_each_wheel_installs_alone_and_imports_from_its_venv_only(project, venvs):
    venv = venvs[project]
    module = project.replace("-", "_")
    others = [p.replace("-", "_") for p in PROJECTS if p != project]
    where = json.loads(venv.run(str(venv.python), "-c", WHERE_AM_I, module, *others).stdout)
    assert Path(where["file"]).is_relative_to(venv.root)
    assert where["others"] == []
    assert not [entry for entry in where["path"] if entry.startswith(str(REPO_ROOT))]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_the_installed_plugin_answers_about_as_the_workspace_does(plugin, venvs, distributions):
    venv = venvs[plugin]
    installed = json.loads(venv.run(venv.command(plugin), "--about", "--format=json").stdout)
    workspace = subprocess.run(
        [str(Path(sys.executable).with_name(plugin)), "--about", "--format=json"],
        check=True,
        capture_output=True,
    )
    assert installed == json.loads(workspace.stdout)
    assert installed["version"] == distributions[plugin].metadata()["Version"]


def listed_ids(url: str, resource: str) -> set[str]:
    """Every object the emulator lists, read the way Stripe documents its lists."""
    ids, params = set(), {"limit": 100, **LISTS[resource]}
    while True:
        page = requests.get(
            f"{url}/v1/{resource}",
            params=params,
            headers={"Authorization": f"Bearer {EMULATOR_KEY}"},
            timeout=10,
        ).json()
        ids |= {obj["id"] for obj in page["data"]}
        if not page["has_more"]:
            return ids
        params["starting_after"] = page["data"][-1]["id"]


def test_the_installed_tap_reads_every_stream_from_the_installed_emulator(tap_output, emulator_url):
    assert tap_output.streams_with_schema() == set(LISTS)
    for resource in LISTS:
        emitted = [record["id"] for record in tap_output.records(resource)]
        assert emitted, resource
        assert sorted(emitted) == sorted(listed_ids(emulator_url, resource)), resource
    assert set(tap_output.last_state()["bookmarks"]) == set(LISTS)


def test_the_installed_target_writes_the_taps_records_as_xdm_files(venvs, tap_output, tmp_path):
    config = tmp_path / "config.json"
    output = tmp_path / "output"
    config.write_text(
        json.dumps({"destination": "files", "tenant_id": "demo", "output_dir": str(output)})
    )
    target = venvs["target-aep"]
    result = target.run(
        target.command("target-aep"), "--config", str(config), input=tap_output.raw.decode()
    )
    written = Counter()
    for manifest in output.glob("*/manifest.json"):
        for part in json.loads(manifest.read_text())["files"]:
            lines = (manifest.parent / part["name"]).read_text().splitlines()
            assert len(lines) == part["records"]
            written[manifest.parent.name] += len(lines)
            assert all("_id" in json.loads(line) for line in lines)
    assert written == tap_output.record_counts()
    assert not (output / "dead_letter.jsonl").exists()
    assert json.loads(result.stdout.splitlines()[-1]) == tap_output.last_state()
