"""engine.lecture.trace and nn47 trace: every update as the kernel made it,
ending at train()'s weights bit for bit."""

import numpy as np
import pytest

import engine
from engine.cli import main
from engine.lecture.trace import gradient_name, plot_trace, trace

NAMES = engine.Layout().names
DATA = engine.make_dataset(8, 10, seed=0)

SETTINGS = {
    "adam": dict(optimizer="adam", lr=0.05, epochs=30),
    "armijo": dict(optimizer="sgd", schedule="armijo", lr=1.0, epochs=20),
    "mini-batch dropout": dict(optimizer="momentum", batch_size=3, epochs=10, dropout=0.2),
    "stops at ε": dict(optimizer="sgd", lr=0.5, epochs=200, target_loss=0.3),
    "weight decay, float32": dict(optimizer="rmsprop", lr=0.01, epochs=15, weight_decay=0.01, dtype="float32"),
}


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_the_last_weights_are_trains_bit_for_bit(settings):
    table = trace(DATA.X_train, DATA.T_train, 3, **settings)
    result = engine.train(DATA.X_train, DATA.T_train, [3], **settings)
    np.testing.assert_array_equal(table[NAMES].to_numpy()[-1], result.params[0])
    assert len(table) == result.runs["grad_evals"].iloc[0] + 1
    assert table["epoch"].iloc[-1] == result.runs["epochs_run"].iloc[0]


def test_steepest_descent_rows_follow_the_update_rule_and_the_model():
    table = trace(DATA.X_train, DATA.T_train, 1, optimizer="sgd", lr=0.5, epochs=12)
    w, g = table[NAMES].to_numpy(), table[[gradient_name(n) for n in NAMES]].to_numpy()
    np.testing.assert_array_equal(w[1:], w[:-1] - 0.5 * g[:-1])  # w ← w − η ∇E, as the kernel rounds it
    assert (table["eta"].iloc[:-1] == 0.5).all() and np.isnan(table["eta"].iloc[-1])
    E, grad = engine.loss_grad(w, DATA.X_train, DATA.T_train)
    np.testing.assert_allclose(table["E"], E, rtol=1e-15)
    np.testing.assert_allclose(g[:-1], grad[:-1], rtol=0, atol=1e-12 * np.abs(grad).max())
    assert table["step"].tolist() == list(range(1, 14)) and table["epoch"].tolist() == list(range(13))


def test_armijo_steps_are_backtracked_from_the_initial_lr():
    table = trace(DATA.X_train, DATA.T_train, 2, optimizer="sgd", schedule="armijo", lr=8.0, armijo_beta=0.5, epochs=10)
    eta = table["eta"].iloc[:-1].to_numpy()
    k = np.log(8.0 / eta) / np.log(2)
    np.testing.assert_allclose(k, np.round(k), atol=1e-12)  # η = lr · β^k
    assert (eta < 8.0).any()  # some step backtracked


def test_nn47_trace_writes_csv_figure_and_workbook(tmp_path, capsys):
    out = tmp_path / "t"
    assert (
        main(
            [
                "trace",
                "--optimizer",
                "adam",
                "--lr",
                "0.05",
                "--epochs",
                "5",
                "--n-train",
                "6",
                "--seed",
                "2",
                "--out",
                str(out),
                "--workbook",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["trace.csv", "trace.png", "trace.xlsx"]
    import pandas as pd
    from openpyxl import load_workbook

    table = pd.read_csv(out / "trace.csv")
    assert len(table) == 6 and list(table.columns[:5]) == ["epoch", "step", "E", "accuracy", "eta"]
    sheet = load_workbook(out / "trace.xlsx")["trace"]
    assert sheet.max_row == 7 and sheet.cell(1, 6).value == NAMES[0]
    assert "5 updates" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--out", "/no/such/folder/t"], "--out: folder '/no/such/folder' does not exist"),
        (["--seed", "-1"], "--seed: must be an integer >= 0, got -1"),
    ],
)
def test_bad_input_writes_nothing(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["trace", "--epochs", "2", *argv]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("schedule, lr", [("constant", 0.5), ("armijo", 8.0)])
def test_trace_figure_has_at_most_8_distinct_lines_per_panel_and_eta_when_it_changes(schedule, lr):
    table = trace(DATA.X_train, DATA.T_train, 2, optimizer="sgd", schedule=schedule, lr=lr, epochs=10)
    changes = table["eta"].dropna().nunique() > 1
    assert changes == (schedule == "armijo")
    fig = plot_trace(table)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in visible]
    assert ("η" in titles) == changes
    assert titles[1 + changes : 3 + changes] == ["output unit 1", "output unit 2"]
    # A hidden unit's 12 weights and θ (13 lines) are split into two panels of 7 and 6.
    assert titles[3 + changes :] == [f"hidden unit {u} ({s})" for u in (1, 2, 3) for s in ("x_1–x_7", "x_8–x_12, θ")]
    weights = [ax for ax in visible if ax.get_title() not in ("E", "η")]
    drawn = [line.get_label() for ax in weights for line in ax.get_lines()]
    assert sorted(drawn) == sorted(NAMES)  # every weight once
    for ax in weights:
        colours = [line.get_color() for line in ax.get_lines()]
        assert len(colours) <= 8 and len(set(colours)) == len(colours), ax.get_title()
    if changes:
        eta = next(ax for ax in visible if ax.get_title() == "η")
        assert eta.get_yscale() == "log"
        np.testing.assert_array_equal(eta.get_lines()[0].get_ydata(), table["eta"].iloc[:-1])
