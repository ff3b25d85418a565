"""engine.analysis.figures: every figure is drawn, non-empty, of the expected size, and
figures whose factor is absent are skipped with a reason."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from results_fixture import make_results, write_runs

import engine
from engine import load_results
from engine.analysis.figures import (
    BIN_WIDTH,
    DPI,
    INIT_BINS,
    INIT_SEEDS,
    INIT_VALUES,
    best_run,
    figure_factors,
    gap_over_epochs,
    init_activations,
    init_fact,
    init_seeds,
    layer_histograms,
    loss_bands,
    make_figures,
    plot_hidden_units,
    plot_init_activations,
    plot_learning_curves,
    plot_regularization,
    saturated,
)
from engine.analysis.tables import compute_tables
from engine.model import datasets
from engine.model.initial import initial_params
from engine.model.layout import Layout
from engine.options import ACTIVATIONS
from engine.schema import FIGURES

# Pixel sizes for the full fixture (3 inits, 3 optimizers, 2 activations, 3 regularisations:
# coloured by optimizer, the factor with the largest effect on epochs to ε, one panel per
# init; a second row of learning-curve panels for the share not yet at ε) and for the lr
# fixture; they follow from the figsize rules in engine.analysis.figures at DPI.
FULL_SIZES = {
    "learning_curves": (1380, 650),
    "epochs_ecdf": (1480, 440),
    "regularization": (1210, 440),
    "success_heatmap": (660, 530),
    "hidden_units": (1070, 360),
    "init_activations": (530, 875),
}
LR_SIZES = {"lr_sensitivity": (1100, 440)}


def _draw(root, run=None, **fixture):
    results = load_results(make_results(root, **fixture))
    return results, make_figures(results, compute_tables(results), root, run=run)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    return root, *_draw(root, seeds=[0, 1])


@pytest.fixture(scope="module")
def lr_axis(tmp_path_factory):
    root = tmp_path_factory.mktemp("lr")
    return root, *_draw(root, factors=("optimizer", "lr"), seeds=[0, 1], params=False)


def _check_png(path, size):
    assert path.stat().st_size > 5_000, path  # drawn, not blank
    assert path.stat().st_size < 500_000, path  # and not bloated
    with Image.open(path) as image:
        assert image.size == size, path.name
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10, path.name  # more than a background


def test_full_experiment_draws_its_figures(full):
    root, _, figures = full
    assert set(figures.drawn) == set(FULL_SIZES)
    assert set(figures.skipped) == {"lr_sensitivity"}
    for key, size in FULL_SIZES.items():
        _check_png(root / FIGURES[key], size)
    assert not (root / FIGURES["lr_sensitivity"]).exists()


def test_lr_experiment_adapts(lr_axis):
    root, _, figures = lr_axis
    for key, size in LR_SIZES.items():
        _check_png(root / FIGURES[key], size)
    assert figures.skipped.keys() == {"regularization", "success_heatmap", "hidden_units"}
    assert "does not vary regularisation" in figures.skipped["regularization"]
    assert "params.csv" in figures.skipped["hidden_units"]
    # One learning-curve panel when activation is not a factor.
    _check_png(root / FIGURES["learning_curves"], (540, 650))


def test_no_run_reached_target_skips_the_ecdf(tmp_path):
    make_results(tmp_path, factors=("init",), seeds=[0])
    runs = pd.read_csv(tmp_path / "runs.csv")
    runs["converged"], runs["epochs_to_target"] = False, np.nan
    runs.to_csv(tmp_path / "runs.csv", index=False)
    results = load_results(tmp_path)
    figures = make_figures(results, compute_tables(results), tmp_path)
    assert "no run reached" in figures.skipped["epochs_ecdf"]
    assert "success_heatmap" in figures.drawn  # init alone is enough


def test_facts_name_the_drawn_run(full):
    _, results, figures = full
    config, seed = best_run(results.runs, results.params)
    best = results.runs.set_index(["config", "seed"]).loc[(config, seed)]
    assert best["converged"] and best["test_acc"] == results.runs["test_acc"].max()
    assert f"config {config}, seed {seed}" in figures.facts["hidden_units"]
    assert "worst: std0.01 · relu (0%)" in figures.facts["success_heatmap"]
    none = results.runs[results.runs["regularization"] == "none"]
    gap = none["train_acc"].mean() - none["test_acc"].mean()
    assert gap > 0.15 and f"none {gap:+.3f}" in figures.facts["regularization"]


def test_chosen_run_is_drawn(tmp_path):
    _, figures = _draw(tmp_path, factors=("optimizer",), seeds=[0, 1], run=(2, 1))
    assert "config 2, seed 1" in figures.facts["hidden_units"]


def test_hidden_units_figure_size():
    from engine import Layout

    fig = plot_hidden_units(np.arange(47.0), Layout(), title="t")
    assert tuple(fig.get_size_inches() * DPI) == pytest.approx((1070, 360))
    assert len(fig.axes) == 6  # C, T, three units, a colour bar


def test_loss_band_keeps_stopped_runs():
    # Run 0 reaches ε at epoch 10 and stops; run 1 diverges at epoch 10; run 2
    # is recorded at epochs 0 and 20 only.
    curves = pd.DataFrame(
        {
            "config": [0, 0, 1, 1, 2, 2],
            "seed": 0,
            "epoch": [0, 10, 0, 10, 0, 20],
            "train_loss": [1.0, 0.01, 1.0, np.nan, 1.0, 0.4],
        }
    )
    runs = pd.DataFrame({"config": [0, 1, 2], "seed": 0, "diverged": [False, True, False]})
    grid, q = loss_bands(curves, runs, np.zeros(3, int))
    (q25, q50, q75), at = q[0], [list(grid).index(e) for e in (0, 10, 20)]
    assert grid[0] == 0 and grid[-1] == 20
    # At 10: 0.01, ∞ (diverged), 0.7 (interpolated); at 20: 0.01 (kept), ∞, 0.4.
    half_bin = 10 ** (BIN_WIDTH / 2)
    np.testing.assert_allclose(q50[at], [1.0, 0.7, 0.4], rtol=half_bin - 1)
    np.testing.assert_allclose(q25[at], [1.0, 0.01, 0.01], rtol=half_bin - 1)
    assert np.isnan(q75[at[1:]]).all()  # +∞ is not drawn


def _bands_slow(curves, runs, grid):
    """Exact quartiles from a full (epochs × runs) table, one run at a time."""
    values = []
    for (config, seed), rows in curves.groupby(["config", "seed"]):
        run = runs[(runs["config"] == config) & (runs["seed"] == seed)].iloc[0]
        y = np.interp(grid, rows["epoch"], rows["train_loss"])
        y[grid > rows["epoch"].max()] = np.inf if run["diverged"] else rows["train_loss"].iloc[-1]
        values.append(y)
    q = np.quantile(np.array(values), [0.25, 0.5, 0.75], axis=0, method="inverted_cdf")
    return np.where(np.isfinite(q), q, np.nan)


def test_loss_bands_match_exact_quantiles_chunk_by_chunk():
    rng = np.random.default_rng(3)
    rows, runs = [], []
    for config in range(40):
        last = int(rng.integers(5, 300))
        epochs = np.r_[np.arange(0, last, 20), last]
        rows.append(
            pd.DataFrame(
                {"config": config, "seed": 0, "epoch": epochs, "train_loss": np.exp(-rng.uniform(0.01, 0.05) * epochs)}
            )
        )
        runs.append({"config": config, "seed": 0, "diverged": config % 7 == 0})
    curves, runs = pd.concat(rows, ignore_index=True), pd.DataFrame(runs)
    groups = np.arange(40) % 2
    grid, q = loss_bands(curves, runs, groups)
    _, chunked = loss_bands(curves, runs, groups, chunk_runs=3)
    np.testing.assert_array_equal(q, chunked)  # the chunk size changes nothing
    for g in (0, 1):
        exact = _bands_slow(curves[curves["config"] % 2 == g], runs[runs["config"] % 2 == g], grid)
        np.testing.assert_allclose(q[g], exact, rtol=10 ** (BIN_WIDTH / 2) - 1)


def test_saturated():
    assert saturated(np.array([0.0, 0.0, 1.0, 2.0]), "relu") == 0.5
    assert saturated(np.array([0.01, 0.5, 0.99]), "sigmoid") == pytest.approx(2 / 3)
    assert saturated(np.array([-0.99, 0.0, 0.5, 0.97]), "tanh") == 0.5


def test_init_activations_on_the_training_data(full):
    _, results, _ = full
    hidden = dict(
        init_activations(
            results.runs, results.layout, {"n_train": 8, "n_test": 1, "flip": 0.0, "noise": 0.0, "seed": 0}
        )
    )
    assert set(hidden) == {(i, a) for i in ("xavier", "he", "std0.01") for a in ("sigmoid", "relu")}
    (h,) = hidden["xavier", "sigmoid"]  # one hidden layer
    assert h.shape == (2, 8, 3)  # seeds × samples × hidden units
    # std0.01 keeps sigmoid outputs at 0.5: the book's collapsed histogram.
    assert np.allclose(hidden["std0.01", "sigmoid"][0], 0.5, atol=0.02)
    # He is Xavier scaled by √2, so ReLU outputs scale by √2 (thresholds start at 0).
    np.testing.assert_allclose(hidden["he", "relu"][0], np.sqrt(2) * hidden["xavier", "relu"][0])


DEEP = Layout(64, (20, 20, 20), 10)


@pytest.fixture(scope="module")
def deep_hidden():
    runs = pd.DataFrame(
        [{"seed": s, "init": i, "activation": a} for s in (0, 1, 2) for i in ("std0.01", "he") for a in ACTIVATIONS]
    )
    data = {"set": "digits", "n_train": 50, "n_test": 10, "n_val": 0, "seed": 0}
    return dict(init_activations(runs, DEEP, data)), datasets.load(data).X_train


def test_init_activations_are_every_layers_outputs_at_the_initial_weights(deep_hidden):
    hidden, X = deep_hidden
    theta = initial_params(DEEP, "he", [0, 1, 2])
    functions = {"sigmoid": lambda s: 1 / (1 + np.exp(-s)), "tanh": np.tanh, "relu": lambda s: np.maximum(s, 0)}
    for activation, a in functions.items():
        layers = hidden["he", activation]
        assert [h.shape for h in layers] == [(3, 50, 20)] * 3
        # layer by layer from the flat vector's blocks, thresholds 0 at initialisation
        h = np.broadcast_to(X, (3, *X.shape))
        for l, (W, th) in enumerate(DEEP.layers(theta)[:-1]):
            assert not th.any()
            h = a(np.einsum("sni,sji->snj", h, W))
            np.testing.assert_allclose(layers[l], h, rtol=1e-12, atol=1e-15)
    # ReLU is positively homogeneous: He's outputs are √2^l those of Xavier (√2 the weights) in layer l
    xavier = dict(
        init_activations(
            pd.DataFrame({"seed": [0], "init": ["xavier"], "activation": ["relu"]}),
            DEEP,
            {"set": "digits", "n_train": 50, "n_test": 10, "n_val": 0, "seed": 0},
        )
    )
    for l, (h_he, h_xavier) in enumerate(zip(hidden["he", "relu"], xavier["xavier", "relu"]), start=1):
        np.testing.assert_allclose(h_he[0], np.sqrt(2) ** l * h_xavier[0], rtol=1e-12)


def test_layer_histograms_count_every_layers_values(deep_hidden):
    hidden, _ = deep_hidden
    for (_, activation), layers in hidden.items():
        cell = layer_histograms(layers, activation)
        assert cell.shares.shape == (3, INIT_BINS) and cell.edges.shape == (INIT_BINS + 1,)
        top = max(h.max() for h in layers)
        lo, hi = {"sigmoid": (0, 1), "tanh": (-1, 1), "relu": (0, top)}[activation]
        for l, h in enumerate(layers):
            values = h.ravel()
            if activation == "relu":
                values = values[values > 0]
            counts, edges = np.histogram(values, bins=INIT_BINS, range=(lo, hi))
            np.testing.assert_allclose(cell.shares[l] * h.size, counts, rtol=1e-12)  # shares of all its values
            np.testing.assert_array_equal(cell.edges, edges)
            assert cell.saturated[l] == saturated(h, activation) and cell.spread[l] == h.std()
        if activation == "relu":  # the bars and the zeros are every value
            np.testing.assert_allclose(cell.shares.sum(axis=1) + cell.saturated, 1.0)
    # the book's pictures: std 0.01 piles every sigmoid layer at 0.5 and shrinks tanh and ReLU layer by layer
    assert all(np.abs(h - 0.5).max() < 0.05 for h in hidden["std0.01", "sigmoid"])
    for activation in ("tanh", "relu"):
        spread = layer_histograms(hidden["std0.01", activation], activation).spread
        assert spread[2] < spread[1] / 10 < spread[0] / 100, activation
    relu = layer_histograms(hidden["std0.01", "relu"], "relu")
    assert relu.shares[-1, 0] == relu.shares[-1].sum()  # the last layer's nonzero values all in the first bin


def test_the_init_figure_is_a_row_per_cell_and_a_column_per_layer(deep_hidden):
    hidden, _ = deep_hidden
    histograms = {cell: layer_histograms(layers, cell[1]) for cell, layers in hidden.items()}
    fig = plot_init_activations(histograms)
    assert len(fig.axes) == len(hidden) * DEEP.depth
    assert [ax.get_title() for ax in fig.axes[:3]] == ["hidden layer 1", "hidden layer 2", "hidden layer 3"]
    fact = init_fact(histograms)
    assert fact.startswith("Spread (standard deviation) of h, then share saturated or zero (layer 1 → 3): he · relu ")
    sigmoid = histograms["he", "sigmoid"]
    assert f"he · sigmoid {sigmoid.spread[0]:.2g} → {sigmoid.spread[-1]:.2g}, " in fact


def test_init_seeds_keep_one_layers_values_bounded():
    runs = pd.DataFrame({"seed": np.arange(2000)[::-1]})
    assert list(init_seeds(runs, Layout(), 32)) == list(range(INIT_SEEDS))  # 12-3-2: every seed up to the cap
    deep = init_seeds(runs, Layout(64, (100,) * 4, 10), 1000)
    assert list(deep) == list(range(INIT_VALUES // (1000 * 100)))
    assert list(init_seeds(runs, Layout(64, (100,) * 4, 10), 10**9)) == [0]  # always one


def test_figures_follow_the_experiments_factors(tmp_path):
    make_results(tmp_path, factors=("init", "activation"), seeds=[0])
    results = load_results(tmp_path)
    assert figure_factors(results) == ("init", "activation")
    results.manifest["report"] = {"hue": "activation", "facet": "init"}
    assert figure_factors(results) == ("activation", "init")
    fig = plot_learning_curves(results.runs, results.curves, hue="init", facet="activation")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:3] == ["xavier (n=1)", "he (n=1)", "std0.01 (n=1)"]
    assert len(fig.axes) == 2 * 2  # one panel per activation, above its share not yet at ε
    (tmp_path / "one").mkdir()
    _, figures = _draw(tmp_path / "one", factors=("optimizer",), seeds=[0])
    assert (figures.hue, figures.facet) == ("optimizer", None)


def test_curves_are_coloured_by_the_factor_with_the_largest_effect(tmp_path):
    # std0.01 · relu never reaches ε (501 epochs against 300 + 20 · seed): half of std0.01's
    # runs, a third of relu's, so init moves the mean log epochs most, whatever the file's order.
    make_results(tmp_path, factors=("activation", "init"), seeds=[0, 1])
    results = load_results(tmp_path)
    assert figure_factors(results) == ("init", "activation")
    figures = make_figures(results, compute_tables(results), tmp_path)
    ratio = np.exp((np.log(501) + np.log(300 * 320) / 2) / 2 - np.log(300 * 320) / 2)
    assert figures.facts["learning_curves"] == (
        f"Colour: init, the factor with the largest effect; its slowest level needs {ratio:.2f}× the epochs "
        "to ε of its fastest (geometric means; a run that never reached ε counts as the budget + 1)."
    )


def test_learning_curves_keep_runs_that_never_reach_the_target_visible(full):
    _, results, _ = full
    runs = results.runs
    fig = plot_learning_curves(runs, results.curves, hue="activation", facet="optimizer")
    assert len(fig.axes) == 2 * 3  # a loss panel and a share-not-yet-at-ε panel per optimizer
    top, bottom = fig.axes[:3], fig.axes[3:]
    for ax in top:
        assert ax.get_yscale() == "log" and ax.get_xscale() == "symlog"
    for ax, (_, rows) in zip(bottom, runs.groupby("optimizer", observed=True)):
        # one step line per activation, ending at the share that never reached ε
        assert len(ax.get_lines()) == 2
        for line, (activation, group) in zip(ax.get_lines(), rows.groupby("activation", observed=True)):
            never = 1 - group["converged"].mean()
            assert line.get_label() == f"{activation}: {never:.0%} never"
            assert line.get_ydata()[-1] == pytest.approx(never)
            assert line.get_ydata()[0] == 1.0
    assert bottom[0].get_ylabel() == "share of runs\nnot yet below ε"
    assert any(line.get_ydata()[-1] > 0 for ax in bottom for line in ax.get_lines())  # relu · std0.01


def test_regularization_shows_one_dot_per_seed_on_an_error_scale(full):
    _, results, _ = full
    runs = results.runs
    fig = plot_regularization(runs)
    (ax,) = fig.axes
    assert len(plot_regularization(runs, results.curves).axes) == 2  # and the gap over the epochs
    assert ax.get_yscale() == "symlog" and ax.get_ylabel().startswith("error rate, %")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["none", "weight_decay", "dropout"]
    dots = ax.collections[::2]  # a strip of dots, then its median bar
    assert len(dots) == 2 * 3
    for strip, (label, column) in zip(
        dots, [(level, c) for level in ("none", "weight_decay", "dropout") for c in ("train_acc", "test_acc")]
    ):
        per_seed = 100 * (1 - runs[runs["regularization"] == label].groupby("seed")[column].mean())
        np.testing.assert_allclose(strip.get_offsets()[:, 1], per_seed.to_numpy())


def test_the_gap_over_the_epochs_is_each_levels_median_run(full):
    _, results, _ = full
    runs, curves = results.runs, results.curves
    gaps = gap_over_epochs(runs, curves, "regularization")
    assert list(gaps) == ["none", "weight_decay", "dropout"]
    for level, gap in gaps.items():
        mine = curves[curves["config"].isin(runs.loc[runs["regularization"] == level, "config"])]
        for epoch in (0, gap.index[len(gap) // 2], gap.index[-1]):
            at = mine[mine["epoch"] == epoch]
            assert gap[epoch] == np.median(at["train_acc"] - at["test_acc"])
    fig = plot_regularization(runs, curves)
    lines = fig.axes[1].get_lines()[: len(gaps)]
    assert [line.get_label() for line in lines] == list(gaps)
    np.testing.assert_array_equal(lines[2].get_ydata(), gaps["dropout"].to_numpy())


def test_best_cell_breaks_ties_by_epochs(tmp_path):
    # Every cell reaches ε on every seed; xavier · tanh is the fastest, he · sigmoid
    # the slowest, so "best" must not be the first cell with 100 %.
    epochs = {("he", "sigmoid"): 90, ("he", "tanh"): 40, ("xavier", "sigmoid"): 60, ("xavier", "tanh"): 20}
    rows = [
        {"config": c, "seed": s, "init": i, "activation": a, "epochs_to_target": e + s}
        for c, ((i, a), e) in enumerate(epochs.items())
        for s in range(3)
    ]
    write_runs(tmp_path, rows)
    results = load_results(tmp_path)
    figures = make_figures(results, compute_tables(results), tmp_path)
    assert figures.facts["success_heatmap"].startswith("Best cell: xavier · tanh (100%, median epochs 21")


def forking(monkeypatch):
    """draw() forks here even if earlier tests left threads behind; returns the
    list of contexts it asked for (one per fork)."""
    import engine.analysis.figures as figures

    asked, get_context = [], figures.multiprocessing.get_context
    monkeypatch.setattr(figures, "others_running", lambda: False)
    monkeypatch.setattr(
        figures.multiprocessing, "get_context", lambda method: asked.append(method) or get_context(method)
    )
    return asked


@pytest.mark.slow  # a drawing process of its own
def test_figures_drawn_in_two_processes_are_those_drawn_in_one(tmp_path, monkeypatch):
    import engine.analysis.figures as figures

    forks = forking(monkeypatch)
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    results = load_results(make_results(tmp_path / "two", seeds=[0, 1]))
    tables = compute_tables(results)
    two = make_figures(results, tables, tmp_path / "two")
    monkeypatch.setattr(figures.os, "cpu_count", lambda: 1)  # one core: every figure in this process
    one = make_figures(results, tables, tmp_path / "one")
    assert forks == ["fork"]
    assert two.drawn == one.drawn and two.facts == one.facts and len(one.drawn) >= 5
    for name in one.drawn.values():
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


@pytest.mark.parametrize("processes", [1, 2])
def test_a_figure_that_fails_is_named(tmp_path, monkeypatch, processes):
    import multiprocessing

    from matplotlib.figure import Figure

    import engine.analysis.figures as figures
    from engine.analysis.figures import draw

    started = multiprocessing.get_context("fork").Event()
    forks = forking(monkeypatch)
    monkeypatch.setattr(figures.os, "cpu_count", lambda: processes)

    def fails():
        started.set()
        raise ValueError("no such column")

    # The costliest figure fails. With two processes the child takes it while this one is busy with
    # meanwhile's work, which waits until the child has started it, so the child's error is the one named.
    meanwhile = (lambda: started.wait(60)) if processes == 2 else (lambda: "tables")
    with pytest.raises(RuntimeError, match=r"(?s)regularization\.png failed.*no such column") as raised:
        draw({"regularization": fails, "success_heatmap": lambda: (Figure(), "")}, tmp_path, meanwhile)
    assert len(forks) == processes - 1
    assert ("process drawing figures" in str(raised.value)) == (processes == 2)


def test_both_processes_draw_every_figure_once_and_meanwhile_runs_here(tmp_path, monkeypatch):
    import os

    from matplotlib.figure import Figure

    import engine.analysis.figures as figures

    forks = forking(monkeypatch)
    monkeypatch.setattr(figures.os, "cpu_count", lambda: 2)
    log = tmp_path / "built"

    def task(key):
        with open(log, "a") as f:  # one write per figure, from whichever process builds it
            f.write(f"{key} {os.getpid()}\n")
        return Figure(), key

    keys = list(figures.COST)
    facts, result = figures.draw({k: lambda k=k: task(k) for k in keys}, tmp_path, os.getpid)
    assert forks == ["fork"] and result == os.getpid()
    built = [line.split()[0] for line in log.read_text().splitlines()]
    assert sorted(built) == sorted(keys) and facts == {k: k for k in keys}
    assert all((tmp_path / figures.FIGURES[k]).exists() for k in keys)


def test_the_kernels_idle_helper_threads_do_not_stop_the_drawing_process(monkeypatch):
    import threading

    import engine.analysis.figures as figures
    from engine.kernels.threads import HELPER_NAME

    d = engine.make_dataset(8, 1, seed=0)
    engine.train(d.X_train, d.T_train, list(range(20)), epochs=2, threads=2)  # starts the helpers
    helpers = [t for t in threading.enumerate() if t.name.startswith(HELPER_NAME)]
    assert helpers
    other = threading.Thread(target=lambda: None, name="a notebook's thread")
    here = threading.current_thread()
    monkeypatch.setattr(figures.threading, "enumerate", lambda: [here, *helpers])  # none left by other tests
    assert not figures.others_running()
    monkeypatch.setattr(figures.threading, "enumerate", lambda: [here, *helpers, other])
    assert figures.others_running()


def test_no_process_is_forked_beside_other_threads(tmp_path, monkeypatch):
    import threading

    from matplotlib.figure import Figure

    import engine.analysis.figures as figures

    def no_fork(method):
        raise AssertionError("forked beside another thread")

    monkeypatch.setattr(figures.multiprocessing, "get_context", no_fork)
    done = threading.Event()
    other = threading.Thread(target=done.wait)
    other.start()
    try:
        facts, result = figures.draw(
            {"regularization": lambda: (Figure(), "a"), "success_heatmap": lambda: (Figure(), "b")},
            tmp_path,
            lambda: "tables",
        )
    finally:
        done.set()
        other.join()
    assert facts == {"regularization": "a", "success_heatmap": "b"} and result == "tables"
    assert (tmp_path / "success_heatmap.png").exists()


def test_effect_spreads_of_runs_that_all_diverged_are_zero():
    from engine.analysis.figures import effect_spreads

    runs = pd.DataFrame(
        {
            "init": pd.Categorical(["xavier", "he"]),
            "test_acc": [np.nan, np.nan],  # diverged: no accuracy
            "converged": False,
            "target_loss": np.nan,
        }
    )
    assert effect_spreads(runs, ["init"]) == ("test_acc", {"init": 0.0})
