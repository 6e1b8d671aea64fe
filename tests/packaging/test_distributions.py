"""Each package builds an sdist and a wheel with complete metadata and every file it needs, and
the sdist builds the same wheel as the source tree."""

from __future__ import annotations

import hashlib
import re
import tarfile
from importlib import metadata

import pytest

from tests.packaging.distributions import PROJECTS, wheel_digests
from tests.shared_paths import REPO_ROOT

PROJECT_URLS = {"Homepage", "Documentation", "Repository", "Issues", "Changelog"}
# From requires-python's 3.10 to the newest singer-sdk 0.54 declares in its classifiers.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]


def package_files(distributions) -> dict[str, bytes]:
    """Every file of the package's source folder (no bytecode), by its path in the wheel."""
    folder = distributions.source / distributions.module
    return {
        str(path.relative_to(distributions.source)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("project", PROJECTS)
def test_the_sdist_builds_the_same_wheel_as_the_source_tree(project, distributions):
    built = distributions[project]
    assert wheel_digests(built.wheel) == wheel_digests(built.tree_wheel)


@pytest.mark.parametrize("project", PROJECTS)
def test_the_wheel_holds_every_file_of_the_package_and_the_license(project, distributions):
    built = distributions[project]
    digests = wheel_digests(built.wheel)
    for name, content in package_files(built).items():
        assert digests.get(name) == hashlib.sha256(content).hexdigest(), f"{name} missing"
    licenses = [n for n in digests if re.fullmatch(r"[^/]+\.dist-info/licenses/LICENSE", n)]
    assert len(licenses) == 1
    # Only the package and its metadata: no tests, scripts or workspace files.
    assert {name.split("/")[0] for name in digests} == {
        built.module,
        licenses[0].split("/")[0],
    }


@pytest.mark.parametrize("project", PROJECTS)
def test_the_sdist_holds_the_package_its_readme_license_and_pyproject(project, distributions):
    built = distributions[project]
    with tarfile.open(built.sdist) as sdist:
        members = {m.name.split("/", 1)[1]: m for m in sdist.getmembers() if "/" in m.name}
        for name in ("README.md", "LICENSE", "pyproject.toml"):
            assert members[name].isfile(), name  # a file, not a link out of the archive
        for name, content in package_files(built).items():
            assert sdist.extractfile(members[name]).read() == content, name


@pytest.mark.parametrize("project", PROJECTS)
def test_the_license_is_the_repositorys(project):
    assert (REPO_ROOT / project / "LICENSE").read_bytes() == (REPO_ROOT / "LICENSE").read_bytes()


@pytest.mark.parametrize("project", PROJECTS)
def test_the_wheel_metadata_is_complete(project, distributions):
    built = distributions[project]
    info = built.metadata()
    assert info["Name"] == project
    assert info["Version"] == metadata.version(project)  # one version: the pyproject's
    assert info["Summary"]
    assert info["License-Expression"] == "Apache-2.0"
    assert info.get_all("License-File") == ["LICENSE"]
    assert info["Description-Content-Type"] == "text/markdown"
    assert info.get_payload() == (built.source / "README.md").read_text()
    assert info["Keywords"]
    urls = dict(entry.split(", ", 1) for entry in info.get_all("Project-URL"))
    assert set(urls) == PROJECT_URLS
    assert all(url.startswith("https://") for url in urls.values())
    assert info["Requires-Python"] == ">=3.10"
    classifiers = info.get_all("Classifier")
    pythons = [c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)]
    assert pythons == PYTHONS
    typed = f"{built.module}/py.typed" in wheel_digests(built.wheel)
    assert typed == ("Typing :: Typed" in classifiers)
