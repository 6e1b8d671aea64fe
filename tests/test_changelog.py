"""CHANGELOG.md follows Keep a Changelog (https://keepachangelog.com/en/1.1.0/) and its newest
release is the version every package declares."""

from __future__ import annotations

import re
from importlib import metadata

import pytest

from tests.shared_paths import REPO_ROOT

PACKAGES = ("tap-stripe-xdm", "target-aep", "stripe-emulator")
# The kinds of change Keep a Changelog names.
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$")


def changelog() -> list[str]:
    return (REPO_ROOT / "CHANGELOG.md").read_text().splitlines()


def releases() -> list[tuple[str, str]]:
    return [m.groups() for line in changelog() if (m := RELEASE.match(line))]


def test_changelog_has_unreleased_then_dated_releases_newest_first():
    lines = changelog()
    assert lines[0] == "# Changelog"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    assert all(RELEASE.match(h) for h in headings[1:]), headings
    versions = [tuple(map(int, v.split("."))) for v, _date in releases()]
    assert versions
    assert versions == sorted(versions, reverse=True)
    dates = [date for _v, date in releases()]
    assert dates == sorted(dates, reverse=True)


def test_changelog_sections_are_keep_a_changelog_kinds_and_every_heading_has_a_link():
    lines = changelog()
    kinds = {line[4:] for line in lines if line.startswith("### ")}
    assert kinds <= SECTIONS
    links = {m.group(1) for line in lines if (m := re.match(r"^\[([^\]]+)\]: https://", line))}
    assert {"Unreleased", *(v for v, _date in releases())} <= links


@pytest.mark.parametrize("package", PACKAGES)
def test_the_newest_release_is_the_version_each_package_declares(package):
    newest, _date = releases()[0]
    assert metadata.version(package) == newest
