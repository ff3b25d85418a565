"""Fixtures shared by the test modules, and the fuzz tests' hypothesis profiles."""

import os

import pytest
from experiment_files import SMALL, load
from hypothesis import settings

# "ci" (the default): the same examples on every run (derandomize), no example
# database left in the clone, no per-example deadline (the machine may be busy).
# "deep": HYPOTHESIS_PROFILE=deep pytest tests/test_fuzz_*.py, fresh random examples, many more.
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, deadline=None)
settings.register_profile("deep", max_examples=3000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def small(tmp_path):
    """SMALL written to a file and loaded: 4 configurations x 5 seeds."""
    return load(tmp_path, SMALL, "small.toml")
