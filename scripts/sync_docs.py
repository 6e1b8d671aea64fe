"""Regenerate what the docs repeat from the code: the README settings tables and the settings
declared in meltano.yml, both from each plugin's `--about`.

`uv run python scripts/sync_docs.py` rewrites them; `--check` exits 1 when either is out of date
(tests/test_docs_in_sync.py runs the check, so neither can silently drift from the code).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MELTANO_YML = ROOT / "meltano.yml"
PLUGINS = ("tap-stripe-xdm", "target-aep")
# JSON Schema type -> Meltano setting kind.
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}
DATE_SETTINGS = {"start_date", "end_date"}


def about(plugin: str, fmt: str) -> str:
    exe = Path(sys.executable).with_name(plugin)
    return subprocess.run(
        [str(exe), "--about", f"--format={fmt}"], check=True, capture_output=True, text=True
    ).stdout


def readme_table(plugin: str) -> str:
    """The plugin's settings table, as its CLI prints it."""
    out = about(plugin, "markdown")
    start = out.find("## Settings")
    section = out[start:] if start >= 0 else out
    return re.sub(r"^## Settings\s*\n", "", section).strip() + "\n"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def meltano_settings(plugin: str) -> str:
    """Every setting of the plugin as a Meltano setting definition (kind, description, default
    value, secret)."""
    properties = json.loads(about(plugin, "json"))["settings"]["properties"]
    lines = []
    for name, spec in properties.items():
        types = spec.get("type", "string")
        types = [t for t in types if t != "null"] if isinstance(types, list) else [types]
        kind = "date_iso8601" if name in DATE_SETTINGS else KINDS.get(types[0], "string")
        description = (spec.get("description") or name).strip().splitlines()[0]
        lines.append(f"- name: {name}")
        if spec.get("enum"):
            lines.append("  kind: options")
            lines.append("  options:")
            lines.extend(
                f"    - {{label: {value}, value: {value}}}" for value in spec["enum"] if value
            )
        else:
            lines.append(f"  kind: {kind}")
        lines.append(f"  description: {_quote(description)}")
        if "default" in spec and not spec.get("secret"):
            lines.append(f"  value: {json.dumps(spec['default'])}")  # the plugin's own default
        if spec.get("secret"):
            lines.append("  sensitive: true")
    return "\n".join(lines) + "\n"


def replace_block(text: str, begin: str, end: str, body: str, where: str) -> str:
    pattern = re.compile(r"([ \t]*)" + re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    match = pattern.search(text)
    if not match:
        raise SystemExit(f"{where} has no '{begin}' ... '{end}' block")
    indent = match.group(1)
    body = "".join(f"{indent}{line}" if line.strip() else line for line in body.splitlines(True))
    return text[: match.start()] + f"{indent}{begin}\n{body}{indent}{end}" + text[match.end() :]


def render(
    path: Path, marker: Callable[[str], tuple[str, str]], body: Callable[[str], str]
) -> tuple[str, str]:
    current = path.read_text(encoding="utf-8")
    fresh = current
    for plugin in PLUGINS:
        begin, end = marker(plugin)
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
            lambda p: (f"# BEGIN {p} settings (generated)", f"# END {p} settings"),
            meltano_settings,
        ),
    }
    stale = [path.name for path, (current, fresh) in outputs.items() if current != fresh]
    if "--check" in sys.argv:
        if stale:
            print(
                f"{', '.join(stale)} out of date with the plugins' --about: "
                "run `uv run python scripts/sync_docs.py`"
            )
            return 1
        return 0
    for path, (_current, fresh) in outputs.items():
        path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
