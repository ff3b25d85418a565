"""Sizes no one planned for: a grid of more configurations than a results
folder holds runs is refused when the file is read, before the grid is made
(it used to be built whole first: 10^12 configurations ran out of memory)."""

import pytest

from engine.cli import main
from engine.sweep import spec


def numbers(count, step):
    return ", ".join(repr(step * (i + 1)) for i in range(count))


@pytest.mark.parametrize("count", [60, 1000])  # 60^4 = 12,960,000 configurations, just past; 1000^4 = 10^12
def test_a_grid_of_too_many_configurations_is_refused_before_it_is_made(tmp_path, capsys, count):
    factors = {"lr": 1e-4, "momentum": 1e-4, "lr_decay": 1e-4, "weight_decay": 1e-6}
    text = "seeds = 1\n[factors]\n" + "".join(f"{k} = [{numbers(count, step)}]\n" for k, step in factors.items())
    (tmp_path / "grid.toml").write_text(text)
    assert main(["sweep", str(tmp_path / "grid.toml"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    sizes = " × ".join(f"{count:,} ({k})" for k in factors)
    assert f"grid.toml: [factors]: {sizes} = {count**4:,} configurations, more than one results folder" in err
    assert f"({spec.MAX_RUNS:,} runs) even at one seed each" in err


def test_a_level_whose_lists_make_too_many_configurations_is_refused_before_they_are_made(tmp_path, capsys):
    lists = f"lr = [{numbers(1000, 1e-4)}], momentum = [{numbers(1000, 1e-4)}], lr_decay = [{numbers(1000, 1e-4)}]"
    (tmp_path / "grid.toml").write_text(f"seeds = 1\n[factors.optimizer]\nsgd = {{ {lists} }}\n")
    assert main(["sweep", str(tmp_path / "grid.toml"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "grid.toml: [factors.optimizer.sgd]: its lists make the factor's levels more than one results folder" in err
