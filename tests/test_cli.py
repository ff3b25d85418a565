"""nn47 train: what it prints, and its errors."""
import subprocess
import sys

import pytest

from engine.cli import main
from engine import Layout


def test_train_prints_curve_parameters_and_answers(capsys):
    assert main(["train", "--optimizer", "adam", "--lr", "0.05", "--epochs", "300", "--target-loss", "0.05",
                 "--n-test", "50", "--record-every", "20"]) == 0
    out = capsys.readouterr().out
    assert "epoch  train_loss  train_acc  test_loss  test_acc" in out
    assert "reached E < 0.05 at epoch" in out
    for l, name in enumerate(Layout().names):          # all 47 numbers, in slide order
        assert f"{l:2d}  {name}" in out
    assert "C: z1 (C) = " in out and "-> C" in out and "-> T" in out


def test_bad_values_are_named(capsys):
    assert main(["train", "--lr", "-1", "--epochs", "2"]) == 2
    assert "lr: must be a number > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--optimizer", "adamm"])
    assert exit_.value.code == 2 and "invalid choice: 'adamm'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly():
    # 3000 curve lines overflow the pipe's buffer, so the writes after the close fail
    train = subprocess.Popen([sys.executable, "-m", "engine.cli", "train", "--epochs", "3000", "--record-every", "1",
                              "--n-test", "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert train.stdout.readline().startswith(b"Learning curve")
    train.stdout.close()
    assert train.wait(timeout=300) == 0
    assert train.stderr.read() == b""
