"""Property-based tests of experiment files (hypothesis): valid files mutated at
random (keys dropped, renamed or retyped, values at and past the edges of their
ranges, tables broken, bytes garbled) either load or raise one SpecError that
starts with the file's path; `nn47 sweep` then exits 2 with that one line and
creates no results folder. Never a traceback from deep inside.

The examples are the same on every run (the "ci" profile in conftest.py);
HYPOTHESIS_PROFILE=deep searches many more, at random. The bugs found so far
are cases of test_spec.ERRORS."""

import contextlib
import io
import tempfile
import tomllib
from pathlib import Path

from experiment_files import SMALL
from fuzz_mutations import mutated, toml_text
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import options
from engine.cli import main
from engine.sweep import spec
from engine.sweep.estimate import tuning_runs

ROOT = Path(__file__).resolve().parent.parent
# the valid files mutated: the tests' own and the shipped experiments
SOURCES = [SMALL] + [p.read_text() for p in (ROOT / "tests" / "tiny.toml", ROOT / "tests" / "tune_tiny.toml")]
SOURCES += [p.read_text() for p in sorted((ROOT / "experiments").glob("*.toml"))]
DOCS = [tomllib.loads(text) for text in SOURCES]
# each example writes its file into a folder of its own (tmp_path would be shared by all)
FILE_IO = settings(suppress_health_check=[HealthCheck.too_slow])


def checked(text, folder):
    """Load `text` as a file in `folder`; return (path, Experiment or SpecError).
    Any other exception fails the test with its traceback."""
    path = Path(folder) / "exp.toml"
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    try:
        return path, spec.load(path)
    except spec.SpecError as error:
        message = str(error)
        assert message.startswith(f"{path}: "), message
        assert "\n" not in message, message
        return path, error


def sound(experiment):
    """What a file that loads promises the sweep: a bounded number of runs, seeds
    that fit the kernels' integers, a configuration table."""
    assert 1 <= experiment.n_runs <= spec.MAX_RUNS
    assert all(0 <= s <= options.INT64_MAX for s in experiment.seeds)
    if experiment.tune is not None:
        assert max(experiment.tune.seeds) <= options.INT64_MAX
        assert tuning_runs(experiment)[1] <= 2 * spec.MAX_RUNS  # halving's rungs add at most the first's runs
    assert len(experiment.config_frame()) == len(experiment.configs)


@FILE_IO
@given(mutated(DOCS))
@example(({"seeds": 10**400}, []))  # OverflowError: int too large to convert to float
@example(({"seeds": 1, "settings": {"target_loss": 10**400}}, []))
@example(({"seeds": 1, "settings": {"epochs": 2**63}}, []))  # numba: Int value is too large
@example(({"seeds": [2**63]}, []))
@example(({"seeds": 1, "tune": {"factors": ["optimizer"], "trials": 2, "seeds": 10**12}}, []))  # range(10^12)
@example(({"seeds": 1, "data": {"n_train": 10**15}}, []))  # numpy: unable to allocate
def test_a_mutated_file_loads_or_names_file_and_key(case):
    doc, _ = case
    with tempfile.TemporaryDirectory() as folder:
        _, result = checked(toml_text(doc), folder)
    if isinstance(result, spec.Experiment):
        sound(result)


@FILE_IO
@given(st.sampled_from(SOURCES).map(str.encode), st.data())
def test_garbled_bytes_load_or_name_the_file(raw, data):
    # a few bytes replaced, inserted or cut anywhere in a valid file
    raw = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        cut = data.draw(st.integers(0, 3))
        raw[at : at + cut] = data.draw(st.binary(max_size=3))
    with tempfile.TemporaryDirectory() as folder:
        _, result = checked(bytes(raw), folder)
    if isinstance(result, spec.Experiment):
        sound(result)


@FILE_IO
@given(mutated(DOCS))
def test_nn47_sweep_refuses_a_bad_file_in_one_line_and_writes_nothing(case):
    with tempfile.TemporaryDirectory() as folder:
        path, result = checked(toml_text(case[0]), folder)
        if not isinstance(result, spec.SpecError):
            return  # a file that loads would be trained
        out, err = path.parent / "out", io.StringIO()
        with contextlib.redirect_stderr(err):
            assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
        assert err.getvalue() == f"nn47 sweep: {result}\n"
        assert not out.exists()
