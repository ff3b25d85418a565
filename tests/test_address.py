"""The pass over samples handed to the training loop by address
(engine/kernels/address.py): compiled in another process only when the cache
lacks it, and compiled here, with a warning, when that process fails.
test_compile_cache.py checks a real cold start in fresh processes."""

import subprocess
import sys

import numpy as np
import pytest

import engine
from engine.kernels.address import PassAddress, pass_address, pass_signature
from engine.kernels.per_run import per_run_pass
from engine.kernels.train import run_pass


@pytest.fixture(scope="module")
def compiled():
    """Train once, so that run_pass for float64 is compiled and in the cache
    (8 lanes: one would take the per-run pass)."""
    engine.train(np.eye(2, 12), np.eye(2), [0], epochs=1, block_size=8)
    return pass_address("float64")


def test_the_pass_is_compiled_once_per_dtype_for_the_signature_train_block_calls_with(compiled):
    assert compiled.address is not None
    assert [args for args in run_pass.overloads if str(args[2].dtype) == "float64"] == [
        tuple(pass_signature("float64").args)
    ]


def test_no_other_process_compiles_a_pass_the_cache_holds(compiled):
    fresh = PassAddress("float64")
    assert fresh.cached()
    fresh.compile_elsewhere()
    assert fresh.elsewhere is None


def test_a_failed_compilation_elsewhere_is_done_here_with_a_warning(compiled):
    fresh = PassAddress("float64")
    fresh.elsewhere = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.exit('no compiler here')"], stderr=subprocess.PIPE, text=True
    )
    with pytest.warns(UserWarning, match=r"(?s)exit status 1\).*no compiler here"):
        address = fresh.__wrapper_address__()
    assert address == compiled.__wrapper_address__()


def test_one_pass_address_per_dtype_and_depth():
    assert pass_address("float64") is pass_address(np.float64, False)
    assert pass_address("float64", True) is not pass_address("float64")
    assert pass_address("float64", True).function is not pass_address("float64").function
    # the per-run pass takes every depth
    assert pass_address("float64", True, True) is pass_address("float64", False, True)
    assert pass_address("float64", per_run=True).function is per_run_pass
