"""Property-based tests of the command line's settings (hypothesis): any mix of
`nn47 train` options with values valid, at the edges of their ranges or not
numbers at all is either trained or refused with one line that names an option
given, or by argparse with its usage; `nn47 sweep`'s own options likewise.
Never a traceback from numpy, numba or pandas.

Training is stopped right after train() has checked everything (its call of
thread_count), so a valid mix costs no epochs."""

import contextlib
import io
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine import options, training
from engine.cli import TRAIN_DATA, main
from engine.sweep.spec import DATA_COLUMNS

EDGES = ["0", "1", "-1", "0.5", "2", "1e-320", "1e400", "-0", "nan", "inf", "-inf", "9223372036854775807"]
EDGES += ["9223372036854775808", "1" + "0" * 40, "", "x", " 3", "1_0", "0x10", "full", "none"]
FLAGS = {f"--{key.replace('_', '-')}": key for key in options.TRAIN_DEFAULTS}
FLAGS |= {f"--{DATA_COLUMNS[key].replace('_', '-')}": DATA_COLUMNS[key] for key in TRAIN_DATA}
FLAGS |= {"--seed": "seed", "--record-every": "record_every"}


def _value(key):
    words = st.sampled_from(options.NAMED.get(key, EDGES))
    numbers = st.integers(-(2**70), 2**70).map(str) | st.floats().map(repr)
    return words | st.sampled_from(EDGES) | numbers | st.text(max_size=4)


@st.composite
def train_args(draw):
    args = []
    for flag in draw(st.lists(st.sampled_from(sorted(FLAGS)), max_size=5, unique=True)):
        key = FLAGS[flag]
        if isinstance(options.TRAIN_DEFAULTS.get(key), bool):
            args.append(draw(st.sampled_from([flag, flag.replace("--", "--no-")])))
        else:
            args += [flag, draw(_value(key))]
    return args


class Checked(Exception):
    """train() got past every check: the settings are valid."""


def run(argv):
    """(exit status, stderr) of nn47 ARGV; argparse's own refusals give status 2 too."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as stop:
            status = stop.code
    return status, err.getvalue()


@pytest.fixture(scope="module")
def checks_only():
    assert hasattr(training, "thread_count"), "the seam moved: stop train() after its checks elsewhere"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "thread_count", lambda n: (_ for _ in ()).throw(Checked()))
        yield


def named_option(message, args):
    """Whether the text before the message's first ': ' names an option of `args`."""
    head = message.split(": ", 1)[0]
    given = {FLAGS[a] for a in args if a in FLAGS} | {FLAGS[a.replace("--no-", "--")] for a in args if "--no-" in a}
    return any(re.search(rf"\b{key}\b", head) or FLAGS_BY_KEY[key] in head for key in given)


FLAGS_BY_KEY = {key: flag for flag, key in FLAGS.items()}


@given(train_args())
@example(["--data-seed", "-1"])  # numpy: expected non-negative integer
@example(["--epochs", "100000000000000000000"])  # numba: Int value is too large
@example(["--n-train", "100000000000"])  # numpy: unable to allocate 745 GiB
@example(["--noise", "1e400"])  # inf noise was taken
def test_train_options_train_or_name_the_option(checks_only, args):
    try:
        status, err = run(["train", *args])
    except Checked:
        return
    assert status == 2, err
    if "usage:" in err:  # argparse: a value of the wrong type or not a choice
        assert re.search(r"nn47 train: error: argument --[a-z-]+", err), err
        return
    assert err.startswith("nn47 train: ") and err.count("\n") == 1, err
    assert named_option(err.removeprefix("nn47 train: "), args), err


SWEEP_VALUES = st.sampled_from(EDGES) | st.integers(-5, 2**64).map(str) | st.text(max_size=6)
SWEEP_OPTIONS = st.lists(
    st.tuples(st.sampled_from(["--jobs", "--chunk-runs", "--tables", "--backend", "--scheduler"]), SWEEP_VALUES),
    max_size=3,
    unique_by=lambda pair: pair[0],
)


@given(SWEEP_OPTIONS)
def test_sweep_options_are_checked_before_the_file_and_named(tmp_path_factory, pairs):
    # the file lacks its seeds: options that pass lead to the file's own error, and nothing is written
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "exp.toml").write_text("[settings]\nepochs = 5\n")
    args = [part for pair in pairs for part in pair]
    status, err = run(["sweep", str(folder / "exp.toml"), "--out", str(folder / "out"), *args])
    assert status == 2, err
    assert not (folder / "out").exists()
    if "usage:" in err:
        assert re.search(r"nn47 sweep: error: argument --[a-z-]+", err), err
        return
    assert err.count("\n") == 1, err
    flags = [flag for flag, _ in pairs]
    assert err.startswith(tuple(f"nn47 sweep: {flag}" for flag in flags)) or "seeds: missing" in err, err
