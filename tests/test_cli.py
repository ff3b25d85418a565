"""nn47 train: what it prints, and its errors."""

import subprocess
import sys

import pytest

from engine import Layout
from engine.cli import main


def test_train_prints_curve_parameters_and_answers(capsys):
    assert (
        main(
            [
                "train",
                "--optimizer",
                "adam",
                "--lr",
                "0.05",
                "--epochs",
                "300",
                "--target-loss",
                "0.05",
                "--n-test",
                "50",
                "--record-every",
                "20",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "epoch  train_loss  train_acc  test_loss  test_acc" in out
    assert "reached E < 0.05 at epoch" in out
    for l, name in enumerate(Layout().names):  # all 47 numbers, in slide order
        assert f"{l:2d}  {name}" in out
    assert "C: z1 (C) = " in out and "-> C" in out and "-> T" in out


def test_bad_values_are_named(capsys):
    assert main(["train", "--lr", "-1", "--epochs", "2"]) == 2
    assert "lr: must be a number > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--optimizer", "adamm"])
    assert exit_.value.code == 2 and "invalid choice: 'adamm'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-size", "1000"], "batch_size: 1000 is larger than the training set (--n-train = 32)"),
        (["--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
        (["--n-train", "0"], "n_train: must be an integer >= 1, got 0"),
        # inf passed "> 0" and trained to nan weights with exit status 0
        (["--lr", "inf"], "lr: must be finite (a number > 0), got inf"),
        (["--lr", "nan"], "lr: must be finite (a number > 0), got nan"),
        (["--flip", "1.5"], "flip: must be a probability in [0, 1], got 1.5"),
        # found by tests/test_fuzz_cli.py: numpy's "expected non-negative integer", a numba
        # overflow, an image set numpy could not allocate, inf noise taken
        (["--data-seed", "-1"], "--data-seed: must be an integer >= 0, got -1"),
        (["--epochs", "9223372036854775808"], "epochs: must be an integer >= 1 that fits in 64 bits"),
        (["--n-train", "1000000000000000"], "n_train, n_test, n_val: 1,000,000,000,001,000 images need about"),
        (["--noise", "inf"], "noise: must be a finite number >= 0 (a fraction of 255), got inf"),
    ],
)
def test_train_checks_as_experiment_files_do(args, message, capsys):
    assert main(["train", "--epochs", "2", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nn47 train: {message}") and err.count("\n") == 1, err


def test_engine_train_refuses_a_batch_larger_than_the_data_and_names_seeds_plainly():
    from engine import make_dataset, train

    d = make_dataset(8, 1, 0.0, 0.0, 0)
    with pytest.raises(ValueError, match=r"^batch_size: 9 is larger than the training set \(rows of X = 8\)$"):
        train(d.X_train, d.T_train, [0], batch_size=9, epochs=1)
    with pytest.raises(ValueError, match=r"^seeds: must be a non-empty list of integers >= 0, got \[-1\]$"):
        train(d.X_train, d.T_train, [-1], epochs=1)


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly():
    # 3000 curve lines overflow the pipe's buffer, so the writes after the close fail
    train = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "train", "--epochs", "3000", "--record-every", "1", "--n-test", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert train.stdout.readline().startswith(b"Learning curve")
    train.stdout.close()
    assert train.wait(timeout=300) == 0
    assert train.stderr.read() == b""


def test_help_and_the_parsers_load_no_numba():
    # numba's import (and joblib's, and the kernels') is for the commands that train
    probe = (
        "import sys\nfrom engine.cli import main\nsys.argv = ['nn47', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nprint('numba' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False"


def test_sweep_quiet_says_it_hides_the_summary_too(capsys):
    """--quiet also silences --analyze's printed summary (analyze_folder(quiet=...))."""
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--quiet no progress bar (and, with --analyze, no printed summary)" in help_text
