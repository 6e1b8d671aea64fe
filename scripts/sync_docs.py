"""Regenerate the settings tables in README.md from each plugin's `--about --format=markdown`.

Run `uv run python scripts/sync_readme.py`; `--check` exits 1 when the README is out of date
(tests/test_readme.py runs the check, so the tables cannot silently drift from the code).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PLUGINS = ("tap-stripe-xdm", "target-aep")


def about_markdown(plugin: str) -> str:
    """The plugin's own settings table, as its CLI prints it."""
    exe = Path(sys.executable).with_name(plugin)
    out = subprocess.run(
        [str(exe), "--about", "--format=markdown"], check=True, capture_output=True, text=True
    ).stdout
    # Keep only the settings section: the table is what the README promises.
    start = out.find("## Settings")
    section = out[start:] if start >= 0 else out
    section = re.sub(r"^## Settings\s*\n", "", section)
    return section.strip() + "\n"


def render(text: str) -> str:
    for plugin in PLUGINS:
        begin, end = f"<!-- BEGIN {plugin} settings -->", f"<!-- END {plugin} settings -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no '{begin}' ... '{end}' block")
        block = f"{begin}\n{about_markdown(plugin)}{end}"
        text = pattern.sub(lambda _m, block=block: block, text)
    return text


def main() -> int:
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print("README.md settings tables are out of date: run scripts/sync_readme.py")
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
