from __future__ import annotations

import pytest

from tests.e2e.meltano_project import MeltanoProject


@pytest.fixture(scope="module")
def installed_project(tmp_path_factory) -> MeltanoProject:
    """One copy of the project per test module, with both plugins installed by `meltano install`."""
    project = MeltanoProject(tmp_path_factory.mktemp("meltano-project"))
    project.install()
    return project
