"""A kernel compiled in this process and the same kernel loaded from numba's
on-disk cache must give the same bits (they do not when LLVM may fuse a·b + c
differently depending on what it inlined; see engine/kernels/config.py), and
the second process must really load it (numba's cache statistics say so).
On a cold start the pass over samples is compiled by another process at the
same time as the training loop (engine/kernels/address.py): the first
process then loads it too.

The cold start compiles float64 only: float32's kernels go through the same
cache code, `make install` compiles them cold, and every float32 test loads
them from that cache; a second cold compile here took 2 min on Intel Xeon."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine

SCRIPT = """
import json, sys, numpy as np, engine
from engine.kernels.per_run import per_run_pass
from engine.kernels.train import run_pass, train_block
from engine.training import kernels_compiled
d = engine.make_dataset(8, 20, seed=0)
compiled = kernels_compiled("float64")
kw = dict(X_test=d.X_test, T_test=d.T_test, optimizer="adam", lr=0.05, epochs=30, record_every=10)
runs = [engine.train(d.X_train, d.T_train, list(range(5)), target_loss=0.3, block_size=lanes, **kw)
        for lanes in (8, 1)]  # the lane pass, the per-run pass
runs.append(engine.train(d.X_train, d.T_train, list(range(5)), batch_size=3, dropout=0.1, block_size=8, **kw))
np.save(sys.argv[1], np.concatenate([np.concatenate([r.runs[["train_loss", "test_loss"]].to_numpy().ravel(),
                                                     r.params.ravel()]) for r in runs]))
print(json.dumps({"compiled_before": compiled, **{
    f"{f.__name__} {kind}": sum(getattr(f.stats, f"cache_{kind}").values())
    for f in (train_block, run_pass, per_run_pass)
    for kind in ("hits", "misses")}}))
"""


@pytest.mark.slow
def test_cold_compiled_and_cached_kernels_agree_bit_for_bit(tmp_path):
    # a copy of the package with no cache beside it: the first run compiles, the second loads
    shutil.copytree(Path(engine.__file__).parent, tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    stats = {}
    for name in ("cold", "warm"):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path / f"{name}.npy")],
            env=env,
            check=True,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        stats[name] = json.loads(done.stdout.strip().splitlines()[-1])
    assert any((tmp_path / "engine").rglob("*.nbc"))
    # one specialisation of each: the loop compiled by the first process, each pass compiled
    # by a process it started and loaded from the cache; the second process loads them all
    assert stats["cold"] == {
        "compiled_before": False,
        "train_block hits": 0,
        "train_block misses": 1,
        "run_pass hits": 1,
        "run_pass misses": 0,
        "per_run_pass hits": 1,
        "per_run_pass misses": 0,
    }
    assert stats["warm"] == {
        "compiled_before": True,
        "train_block hits": 1,
        "train_block misses": 0,
        "run_pass hits": 1,
        "run_pass misses": 0,
        "per_run_pass hits": 1,
        "per_run_pass misses": 0,
    }
    assert np.array_equal(np.load(tmp_path / "cold.npy"), np.load(tmp_path / "warm.npy"))


def test_the_cache_is_emptied_when_a_kernel_source_changes(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from engine.kernels import cache

    source = tmp_path / "kernel.py"
    source.write_text("x = 1\n")
    monkeypatch.setattr(cache, "SOURCES", [source])
    folder = tmp_path / "cache"
    folder.mkdir()
    dispatcher = SimpleNamespace(stats=SimpleNamespace(cache_path=str(folder)))

    def fill():
        for name in ("f-1.py311.nbi", "f-1.py311.1.nbc"):
            (folder / name).write_bytes(b"machine code")

    fill()
    cache.drop_stale([dispatcher])  # no stamp yet: emptied
    assert not list(folder.glob("*.nb?"))
    fill()
    cache.drop_stale([dispatcher])  # same sources: kept
    assert len(list(folder.glob("*.nb?"))) == 2
    source.write_text("x = 2\n")
    cache.drop_stale([dispatcher])  # a source changed: emptied
    assert not list(folder.glob("*.nb?"))


PLAIN = """
import sys, numpy as np, engine
from engine.kernels import numba_internals
assert numba_internals.INTERNALS == (sys.argv[2] == "internals"), numba_internals.INTERNALS
d = engine.make_dataset(8, 20, seed=0)
kw = dict(X_test=d.X_test, T_test=d.T_test, optimizer="adam", lr=0.05, epochs=30, record_every=10)
runs = [engine.train(d.X_train, d.T_train, list(range(5)), target_loss=0.3, **kw),
        engine.train(d.X_train, d.T_train, list(range(5)), batch_size=3, dropout=0.1, **kw),
        # the lane pass (compiled with noalias where the internals are there)
        engine.train(d.X_train, d.T_train, list(range(5)), dropout=0.1, target_loss=0.3, block_size=8, **kw)]
np.save(sys.argv[1], np.concatenate([np.concatenate([r.runs.to_numpy(float).ravel(), r.params.ravel(),
                                                     r.curves.to_numpy(float).ravel()]) for r in runs]))
"""


@pytest.mark.slow
def test_the_plain_path_without_numbas_internals_gives_the_same_numbers(tmp_path):
    # NN47_PLAIN_NUMBA=1 is what a numba release without these internals would get
    for path in ("internals", "plain"):
        env = {**os.environ, "NN47_PLAIN_NUMBA": "1" if path == "plain" else "0"}
        subprocess.run([sys.executable, "-c", PLAIN, str(tmp_path / f"{path}.npy"), path], env=env, check=True)
    assert np.array_equal(np.load(tmp_path / "internals.npy"), np.load(tmp_path / "plain.npy"), equal_nan=True)


def test_numbas_internals_are_used_where_present():
    from engine.kernels import numba_internals

    assert numba_internals.INTERNALS == numba_internals._internals_present()


def test_unaliased_marks_the_arrays_noalias_where_the_internals_are_there():
    import numba

    from engine.kernels.numba_internals import INTERNALS, unaliased

    def add(a, b):
        for i in range(a.shape[0]):
            a[i] += b[i]

    def attributes(f, name):
        """The LLVM type and attributes of f's argument `name` (numba's: arg.a.4 is a's
        data), as the `define` line lists them: `ptr noalias …` or, before LLVM's opaque
        pointers, `double* noalias …`."""
        define = next(line for line in f.inspect_llvm(f.signatures[0]).splitlines() if line.startswith("define"))
        return re.search(rf",([^,]*)%{re.escape(name)}\b", define).group(1).split()

    plain, marked = numba.njit(add), unaliased(numba.njit(add))
    for f in (plain, marked):
        f(np.zeros(3), np.ones(3))
    for data in ("arg.a.4", "arg.b.4"):
        assert "noalias" not in attributes(plain, data)
        assert ("noalias" in attributes(marked, data)) == INTERNALS
