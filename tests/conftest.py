"""Fixtures shared by the test modules."""

import pytest
from experiment_files import SMALL

from engine.sweep import spec


@pytest.fixture
def small(tmp_path):
    """SMALL written to a file and loaded: 4 configurations x 5 seeds."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return spec.load(path)
