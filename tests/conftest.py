"""Fixtures shared by the test modules."""

import pytest
from experiment_files import SMALL, load


@pytest.fixture
def small(tmp_path):
    """SMALL written to a file and loaded: 4 configurations x 5 seeds."""
    return load(tmp_path, SMALL, "small.toml")
