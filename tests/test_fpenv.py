"""Subnormals flushed to zero inside the kernel calls only (engine/kernels/fpenv.py)."""

import contextlib

import naive
import numpy as np
import pytest

import engine
from engine.kernels import entry, fpenv
from engine.options import TRAIN_DEFAULTS

pytestmark = pytest.mark.skipif(not fpenv.X86, reason="FTZ/DAZ are set on x86-64 only")

# ReLU, He and momentum with a large step (as make sweep's tuning chose once): the softmax
# saturates and δ, the gradient and the velocity go subnormal
SATURATING = dict(activation="relu", init="he", optimizer="momentum", lr=0.3623, momentum=0.9964)


def subnormal_product():
    return (np.array([1e-300]) * 1e-10)[0]


def test_flush_subnormals_sets_ftz_and_daz_within_and_restores_after():
    before = fpenv.get_mxcsr()
    assert subnormal_product() > 0.0
    with fpenv.flush_subnormals():
        assert fpenv.get_mxcsr() & (fpenv.FTZ | fpenv.DAZ) == fpenv.FTZ | fpenv.DAZ
        assert subnormal_product() == 0.0
    assert fpenv.get_mxcsr() & (fpenv.FTZ | fpenv.DAZ) == before & (fpenv.FTZ | fpenv.DAZ)
    assert subnormal_product() > 0.0


def test_the_kernel_runs_flushed_and_the_caller_does_not_see_it(monkeypatch):
    seen = []
    real_block = entry.train_block

    def train_block(*args):
        seen.append(fpenv.get_mxcsr() & fpenv.FTZ)
        return real_block(*args)

    entry.fresh_cache()  # before the stand-in: it reads the real kernel's cache folder
    monkeypatch.setattr(entry, "train_block", train_block)
    d = engine.make_dataset(8, 1, seed=0)
    engine.train(d.X_train, d.T_train, list(range(20)), epochs=3, threads=2, block_size=8)
    assert seen == [fpenv.FTZ] * 2  # every queue, on either thread
    assert fpenv.get_mxcsr() & fpenv.FTZ == 0 and subnormal_product() > 0.0


def test_the_saturating_case_keeps_its_numbers_and_matches_the_naive_reference(monkeypatch):
    # Flushing changes only numbers that were subnormal: here the velocity and gradient
    # terms far below a weight's last bit, so no weight, loss or curve point changes.
    d = engine.make_dataset(12, 30, seed=2)
    seeds = [0, 1, 2, 3]
    kw = dict(X_test=d.X_test, T_test=d.T_test, record_every=1, epochs=40, **SATURATING)
    flushed = engine.train(d.X_train, d.T_train, seeds, **kw)
    monkeypatch.setattr(entry, "flush_subnormals", contextlib.nullcontext)
    kept = engine.train(d.X_train, d.T_train, seeds, **kw)
    assert np.array_equal(flushed.params, kept.params)
    assert flushed.runs.equals(kept.runs) and flushed.curves.equals(kept.curves)
    s = {**TRAIN_DEFAULTS, **SATURATING, "epochs": 40}
    params0 = engine.initial_params(engine.Layout(), "he", seeds)
    with fpenv.flush_subnormals():  # the reference computed the same way
        for i, seed in enumerate(seeds):
            theta, epochs_run, _, _ = naive.train(params0[i], d.X_train, d.T_train, seed, s)
            np.testing.assert_allclose(flushed.params[i], theta, rtol=1e-9, atol=1e-12)
            assert flushed.runs.epochs_run[i] == epochs_run
