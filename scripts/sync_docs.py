"""Regenerate what the docs repeat from the code, from each plugin's `--about`: the README
settings tables, the plugin definitions in meltano.yml, and the Meltano Hub plugin definitions
in hub/ (what `meltano add --from-ref` reads, and what a Meltano Hub listing is made of).

`uv run python scripts/sync_docs.py` rewrites them; `--check` exits 1 when any is out of date
(tests/test_docs_in_sync.py runs the check, so none can silently drift from the code).

The Hub format is documented at https://docs.meltano.com/reference/plugin-definition-syntax;
its JSON schemas are in https://github.com/meltano/hub/tree/main/schemas/plugin_definitions.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MELTANO_YML = ROOT / "meltano.yml"
HUB = ROOT / "hub"
GENERATED_HEADER = (
    "# Meltano Hub plugin definition of {name}, generated from `{name} --about` by\n"
    "# scripts/sync_docs.py (do not edit by hand). Add the plugin to a Meltano project with\n"
    "#   meltano add {name} --from-ref <this file's path or raw URL>\n"
)
# JSON Schema type -> Meltano setting kind (https://docs.meltano.com/reference/plugin-definition-syntax#settingskind).
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
# Words a label writes in capitals (https://docs.meltano.com/reference/plugin-definition-syntax#settingslabel).
ACRONYMS = {
    "api": "API",
    "url": "URL",
    "id": "ID",
    "ids": "IDs",
    "ims": "IMS",
    "dcs": "DCS",
}


def _required(about: dict[str, Any]) -> list[list[str]]:
    return [list(about["settings"].get("required", []))]


def _target_setting_groups(_about: dict[str, Any]) -> list[list[str]]:
    # The target has no always-required setting: what a run needs depends on its destination.
    from target_aep.settings import SETTING_GROUPS

    return [list(group) for group in SETTING_GROUPS]


@dataclass(frozen=True)
class Plugin:
    """What the Hub shows of a plugin beyond its `--about`: its kind, label and subject."""

    name: str
    plugin_type: str  # the Hub's folder: extractors | loaders
    label: str
    domain_url: str
    keywords: tuple[str, ...]
    setting_groups: Callable[[dict[str, Any]], list[list[str]]]
    # Meltano plugin commands (`meltano invoke <plugin>:<command>`), beside the executable.
    commands: dict[str, dict[str, str]] = field(default_factory=dict)


PLUGINS = (
    Plugin(
        "tap-stripe-xdm",
        "extractors",
        "Stripe",
        "https://docs.stripe.com/api",
        ("meltano_sdk", "stripe", "payments", "api"),
        _required,
    ),
    Plugin(
        "target-aep",
        "loaders",
        "Adobe Experience Platform",
        "https://experienceleague.adobe.com/en/docs/experience-platform/landing/home",
        ("meltano_sdk", "adobe", "xdm", "cdp", "api"),
        _target_setting_groups,
        commands={
            # meltano invoke target-aep:provision --catalog CATALOG [--dry-run] [--output FILE]
            # (bin/provision runs it); Meltano hands it the settings as TARGET_AEP_* variables.
            "provision": {
                "executable": "target-aep-provision",
                "args": "--config ENV",
                "description": "Find or create the AEP namespace, field groups, schemas, "
                "datasets and dataflows",
            }
        },
    ),
)


@functools.cache
def about(plugin: str, fmt: str) -> str:
    exe = Path(sys.executable).with_name(plugin)
    return subprocess.run(
        [str(exe), "--about", f"--format={fmt}"], check=True, capture_output=True, text=True
    ).stdout


def readme_table(plugin: Plugin) -> str:
    """The plugin's settings table, as its CLI prints it."""
    out = about(plugin.name, "markdown")
    start = out.find("## Settings")
    section = out[start:] if start >= 0 else out
    return re.sub(r"^## Settings\s*\n", "", section).strip() + "\n"


def setting_paths(properties: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict]]:
    """Each setting as Meltano names it: an object of fixed properties (the SDK's batch_config,
    faker_config) becomes one dotted setting per leaf, as the Hub lists SDK plugins; an object
    of free keys (stream_maps, streams) stays one `object` setting."""
    for name, spec in properties.items():
        nested = spec.get("properties")
        if nested and not isinstance(spec.get("additionalProperties"), dict):
            yield from setting_paths(nested, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", spec


def _types(spec: dict[str, Any]) -> list[str]:
    declared = spec.get("type")
    if declared is None:  # oneOf/anyOf alternatives (the SDK's faker_config.seed)
        alternatives = spec.get("oneOf") or spec.get("anyOf") or []
        declared = [t for alt in alternatives if isinstance(alt, dict) for t in _types(alt)]
    declared = declared if isinstance(declared, list) else [declared]
    return [t for t in declared if t != "null"] or ["string"]


def _plugin_reads_text(spec: dict[str, Any]) -> bool:
    """Whether Meltano should hand the setting over as the text the user wrote.

    Meltano (4.4.1) converts a value read from an environment variable by its setting's kind
    before the plugin sees it, and a number, integer or date kind breaks on the way
    (https://github.com/meltano/meltano/blob/main/src/meltano/core/setting_definition.py,
    `cast_value` and `post_process_value`): `decimal` makes a `Decimal` its JSON encoder then
    cannot write ("Object of type Decimal is not JSON serializable") and a non-number raises
    `[<class 'decimal.ConversionSyntax'>]`, `integer` raises Python's `int()` error naming no
    setting, `boolean` turns any unknown word into false, and `date_iso8601` reads free text
    ("yesterday", and 2024-13-01 as 13 January). A setting whose plugin reads text itself (its
    schema allows a string beside the number or flag, or is an ISO 8601 date-time the plugin
    checks) is declared `kind: string`: Meltano passes the environment's text and meltano.yml's
    YAML values through unchanged, and the plugin checks them, naming the setting and its
    environment variable."""
    types = _types(spec)
    return (len(types) > 1 and "string" in types) or spec.get("format") == "date-time"


def label(name: str, spec: dict[str, Any]) -> str:
    """The schema's title, else the name's words (`ims_org_id` -> `IMS Org ID`)."""
    if spec.get("title"):
        return str(spec["title"])
    words = re.split(r"[_.]", name)
    return " ".join(ACRONYMS.get(word, word.capitalize()) for word in words if word)


def setting_definition(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One Meltano setting: kind, label, description, default value, secrecy."""
    definition: dict[str, Any] = {"name": name, "label": label(name, spec)}
    if _plugin_reads_text(spec):  # a flag's enum of true/false and their text included
        definition["kind"] = "string"
    elif spec.get("enum"):
        definition["kind"] = "options"
        definition["options"] = [
            {"label": str(value), "value": value} for value in spec["enum"] if value is not None
        ]
    else:
        definition["kind"] = KINDS.get(_types(spec)[0], "string")
    definition["description"] = " ".join((spec.get("description") or name).split())
    if spec.get("default") is not None and not spec.get("secret"):
        definition["value"] = spec["default"]  # the plugin's own default
    if spec.get("secret"):
        definition["sensitive"] = True
    return definition


def definition_body(plugin: Plugin, about_json: dict[str, Any]) -> dict[str, Any]:
    """What meltano.yml and the Hub definition share: capabilities, commands, settings and
    their groups."""
    body: dict[str, Any] = {"capabilities": sorted(about_json["capabilities"])}
    if plugin.commands:
        body["commands"] = plugin.commands
    return {
        **body,
        "settings_group_validation": plugin.setting_groups(about_json),
        "settings": [
            setting_definition(name, spec)
            for name, spec in setting_paths(about_json["settings"]["properties"])
        ],
    }


def project_urls(package: str) -> dict[str, str]:
    """The package's [project.urls], from its installed metadata (one place: pyproject.toml)."""
    entries = metadata.metadata(package).get_all("Project-URL") or []
    return dict(entry.split(", ", 1) for entry in entries)


def hub_definition(plugin: Plugin) -> dict[str, Any]:
    """The plugin as a Meltano Hub variant file (plugin-definition-syntax; the variant is the
    repository's owner, as on the Hub)."""
    about_json = json.loads(about(plugin.name, "json"))
    urls = project_urls(plugin.name)
    owner = urlparse(urls["Repository"]).path.strip("/").split("/")[0]
    return {
        "name": plugin.name,
        "variant": owner.lower(),
        "namespace": plugin.name.replace("-", "_"),
        "label": plugin.label,
        "description": about_json["description"],
        "domain_url": plugin.domain_url,
        "repo": urls["Repository"],
        "docs": urls["Documentation"],
        "pip_url": plugin.name,
        "executable": plugin.name,
        "maintenance_status": "beta",
        "quality": "unknown",  # the Hub's maintainers rate connectors
        "keywords": list(plugin.keywords),
        # No supported_python_versions: `meltano add --from-ref` (4.4) copies it into
        # meltano.yml, whose own JSON schema then rejects the file.
        **definition_body(plugin, about_json),
    }


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as meltano.yml writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_IndentedDumper, sort_keys=False, allow_unicode=True, width=100)


def hub_path(plugin: Plugin) -> Path:
    """hub/<plugin type>/<name>/<variant>.yml, the layout of the Hub's own repository."""
    variant = hub_definition(plugin)["variant"]
    return HUB / plugin.plugin_type / plugin.name / f"{variant}.yml"


def hub_file(plugin: Plugin) -> str:
    return GENERATED_HEADER.format(name=plugin.name) + to_yaml(hub_definition(plugin))


def meltano_yml_block(plugin: Plugin) -> str:
    return to_yaml(definition_body(plugin, json.loads(about(plugin.name, "json"))))


def replace_block(text: str, begin: str, end: str, body: str, where: str) -> str:
    pattern = re.compile(r"([ \t]*)" + re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    match = pattern.search(text)
    if not match:
        raise SystemExit(f"{where} has no '{begin}' ... '{end}' block")
    indent = match.group(1)
    body = "".join(f"{indent}{line}" if line.strip() else line for line in body.splitlines(True))
    return text[: match.start()] + f"{indent}{begin}\n{body}{indent}{end}" + text[match.end() :]


def render(
    path: Path, marker: Callable[[str], tuple[str, str]], body: Callable[[Plugin], str]
) -> tuple[str, str]:
    current = path.read_text(encoding="utf-8")
    fresh = current
    for plugin in PLUGINS:
        begin, end = marker(plugin.name)
        fresh = replace_block(fresh, begin, end, body(plugin), path.name)
    return current, fresh


def main() -> int:
    outputs = {
        README: render(
            README,
            lambda p: (f"<!-- BEGIN {p} settings -->", f"<!-- END {p} settings -->"),
            readme_table,
        ),
        MELTANO_YML: render(
            MELTANO_YML,
            lambda p: (f"# BEGIN {p} definition (generated)", f"# END {p} definition"),
            meltano_yml_block,
        ),
    }
    for plugin in PLUGINS:
        path = hub_path(plugin)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        outputs[path] = (current, hub_file(plugin))
    stale = [
        str(path.relative_to(ROOT))
        for path, (current, fresh) in outputs.items()
        if current != fresh
    ]
    if "--check" in sys.argv:
        if stale:
            print(
                f"{', '.join(stale)} out of date with the plugins' --about: "
                "run `uv run python scripts/sync_docs.py`"
            )
            return 1
        return 0
    for path, (_current, fresh) in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
