"""engine.bench: the quick benchmarks run and write consistent outputs, a wrong
implementation is caught, and the performance profile gives known answers.
No timing is asserted."""

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.bench import convergence, deep, deep_references, markdown, references, sizes, throughput
from engine.cli import main
from engine.sweep.provenance import cpu, cpu_text


def _bench(*argv):
    return main(["bench", *argv])


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert _bench("all", "--quick", "--out", str(out)) == 0
    return out


@pytest.fixture(scope="module")
def throughput_csv(out):
    return pd.read_csv(out / "throughput.csv")


@pytest.fixture(scope="module")
def convergence_runs(out):
    return pd.read_csv(out / "convergence_runs.csv")


@pytest.mark.slow  # `bench all --quick`, once per module
def test_outputs_have_the_documented_columns(out, throughput_csv):
    assert list(throughput_csv.columns) == throughput.THROUGHPUT_COLUMNS
    assert list(pd.read_csv(out / "convergence.csv").columns) == convergence.CONVERGENCE_COLUMNS
    lr_columns = {"optimizer", "lr", "success_rate", "ert_epochs", "best", "lowest_ert", "epochs_lo", "epochs_hi"}
    assert lr_columns <= set(pd.read_csv(out / "convergence_lr.csv").columns)


@pytest.mark.slow  # `bench all --quick`, once per module
def test_figures_exist_and_the_report_links_them(out):
    report = (out / "bench.md").read_text()
    for name in (
        "performance_profile.png",
        "ecdf_tuned.png",
        "ecdf_default.png",
        "lr_sensitivity.png",
        "throughput.png",
    ):
        assert (out / name).stat().st_size > 10_000, name  # drawn, not blank
        assert f"]({name})" in report
    for heading in ("## Optimizer convergence", "## Engine throughput", "nn47 bench all --quick"):
        assert heading in report


@pytest.mark.slow  # `bench all --quick`, once per module
def test_every_implementation_ran_and_agreed_with_the_engine(throughput_csv):
    timed = throughput_csv[throughput_csv["seconds_best"].notna()]
    speed = timed[~timed["study"].str.startswith("deep ")]  # the deep job: its own test
    found = [name for name, ok in references.available().items() if ok]
    assert set(speed.loc[speed["study"] == "implementations", "implementation"]) == {"engine", *found}
    float32 = speed["study"].isin(["float32", "rounds float32"])
    assert (speed.loc[~float32, "loss_rel_diff"] <= throughput.LOSS_RTOL).all()
    assert (speed.loc[float32, "loss_rel_diff"] <= throughput.FLOAT32_LOSS_RTOL).all()
    # float32 and float64 runs do differ: the float32 rows are not float64 in disguise
    assert speed.loc[float32 & (speed["implementation"] == "engine, float64"), "loss_rel_diff"].item() > 0
    steps = speed["runs"] * speed["epochs"] * speed["samples"]
    # the CSV keeps 6 significant digits (%.6g: a relative 5e-6 at most per number), and a ratio
    # recomputed from two written numbers, against the written ratio, can be off by three of those
    rtol = 2e-5  # 1.5e-5, and a margin
    np.testing.assert_allclose(speed["sample_steps_per_s"], steps / speed["seconds_best"], rtol=rtol)
    engine = speed[speed["implementation"] == "engine"].set_index(["study", "runs", "epochs"])["seconds_best"]
    engine_time = engine.loc[list(zip(speed["study"], speed["runs"], speed["epochs"]))].to_numpy()
    np.testing.assert_allclose(speed["engine_speedup"], speed["seconds_best"] / engine_time, rtol=rtol)
    assert (speed["engine_speedup_lo"] <= speed["engine_speedup_median"]).all()
    assert (speed["engine_speedup_median"] <= speed["engine_speedup_hi"]).all()
    engine_rows = speed["implementation"] == "engine"
    assert (speed.loc[engine_rows, ["engine_speedup_lo", "engine_speedup_hi"]] == 1.0).all().all()
    assert (throughput_csv["cpu"] == cpu_text()).all()


@pytest.mark.slow  # `bench all --quick`, once per module
def test_the_deep_job_ran_in_every_implementation_and_dtype(out, throughput_csv):
    found = {name for name, ok in references.available().items() if ok and name in deep_references.TRAINERS}
    refusal = deep.engine_refusal()
    for dtype, rtol in (("float64", throughput.LOSS_RTOL), ("float32", throughput.FLOAT32_LOSS_RTOL)):
        rows = throughput_csv[throughput_csv["study"] == f"deep {dtype}"].set_index("implementation")
        assert set(rows.index) == {"engine", *found}
        timed = rows[rows["seconds_best"].notna()]
        assert (timed["loss_rel_diff"] <= rtol).all()
        assert (timed[["runs", "epochs", "samples"]].to_numpy() == sizes.QUICK.deep).all()
        if refusal:  # the engine named why it did not run; no ratio to it
            assert rows.loc["engine", "note"] == f"not run: {refusal}" and timed["engine_speedup"].isna().all()
        else:
            assert (timed["engine_speedup_lo"] <= timed["engine_speedup_hi"]).all()
    roofline = pd.read_csv(out / "deep_roofline.csv")
    assert list(roofline["dtype"]) == ["float64", "float32"] and (roofline["cpu"] == cpu_text()).all()
    assert "## The deep job" in (out / "bench.md").read_text()


@pytest.mark.slow  # `bench all --quick`, once per module
def test_studies_cover_the_sizes_asked_for(throughput_csv):
    quick = sizes.QUICK
    engine = throughput_csv[throughput_csv["implementation"] == "engine"]
    runs = engine.loc[engine["study"] == "runs_per_call", "runs"]
    assert tuple(runs) == quick.runs_per_call
    assert tuple(throughput_csv.loc[throughput_csv["study"] == "epochs", "epochs"]) == quick.epochs
    float32 = throughput_csv.loc[throughput_csv["study"] == "float32", "implementation"]
    assert {"engine", "numpy_batched", "engine, float64"} <= set(float32)
    probes = throughput_csv[throughput_csv["study"].isin(["start", "memory"])]
    assert len(probes) >= 3
    assert (probes["process_s"] > probes["import_s"]).all()


@pytest.mark.slow  # `bench all --quick`, once per module
def test_convergence_summary_agrees_with_the_runs(out, convergence_runs):
    runs, summary = convergence_runs, pd.read_csv(out / "convergence.csv")
    grid_points = sum(len(g) for g in convergence.LR_GRID.values())
    per_setting = len(convergence.PROBLEMS) * sizes.QUICK.seeds
    assert (runs["lr_choice"] == "grid").sum() == grid_points * per_setting
    assert (runs["lr_choice"] == "tuned").sum() == len(convergence.LR_GRID) * per_setting
    # E < ε with mean cross-entropy and n ≤ 34 samples leaves no sample misclassified.
    assert (runs.loc[runs["converged"] & ~runs["diverged"], "train_acc"] == 1).all()
    assert (runs["success"] == (runs["converged"] & (runs["train_acc"] == 1))).all()
    tuning = json.loads((out / "convergence_tuning" / "manifest.json").read_text())["tuning"]
    tuned = {group["levels"]["optimizer"]: group["chosen"]["lr"] for group in tuning["groups"]}
    assert not set(tuning["seeds"]) & set(runs["seed"])  # chosen on other seeds than it is measured on
    for row in summary.itertuples():
        lr = tuned[row.optimizer] if row.lr_choice == "tuned" else convergence.DEFAULT_LR[row.optimizer]
        assert row.lr == pytest.approx(lr)
        chosen = runs[
            (runs["optimizer"] == row.optimizer)
            & np.isclose(runs["lr"], lr)
            & (runs["lr_choice"] == ("tuned" if row.lr_choice == "tuned" else "grid"))
        ]
        assert row.runs == len(chosen) == per_setting
        assert row.success_rate == pytest.approx(chosen["success"].mean())
        half = sizes.QUICK.budget // 2
        within = chosen["success"] & (chosen["epochs_to_target"] <= half)
        ert_half = chosen["epochs_run"].clip(upper=half).sum() / within.sum() if within.any() else np.inf
        assert row.ert_epochs_half_budget == pytest.approx(ert_half, rel=1e-5)
        assert 0 <= row.profile_tau_1 <= row.profile_tau_2 <= row.profile_tau_10 <= row.success_rate + 1e-12


@pytest.mark.slow  # `bench all --quick`, once per module
def test_grid_marks_the_lr_of_lowest_expected_running_time_with_real_intervals(out, convergence_runs):
    lr_table = pd.read_csv(out / "convergence_lr.csv")
    grid = convergence_runs[convergence_runs["lr_choice"] == "grid"]
    for (optimizer, lr), rows in grid.groupby(["optimizer", "lr"]):
        row = lr_table[(lr_table["optimizer"] == optimizer) & np.isclose(lr_table["lr"], lr)]
        ert = rows["epochs_run"].sum() / rows["success"].sum() if rows["success"].any() else np.inf
        assert row["ert_epochs"].item() == pytest.approx(ert, rel=1e-5)  # the CSV keeps 6 digits
    for _, rows in lr_table.groupby("optimizer"):
        assert rows["lowest_ert"].sum() == rows["best"].sum() == 1
        assert rows.loc[rows["lowest_ert"], "ert_epochs"].item() == rows["ert_epochs"].min()
        assert rows.loc[rows["best"], "success_rate"].item() == rows["success_rate"].max()
    reached = lr_table["epochs_median"].notna()
    assert (lr_table.loc[reached, "epochs_lo"] <= lr_table.loc[reached, "epochs_median"]).all()
    assert (lr_table["epochs_hi"].fillna(np.inf) >= lr_table["epochs_median"].fillna(np.inf)).all()
    assert (lr_table["epochs_lo"] < lr_table["epochs_hi"]).any()  # not low = high = median everywhere


def test_bench_tunes_by_the_protocol_of_make_sweep():
    tune = tomllib.loads((Path(__file__).resolve().parent.parent / "experiments" / "default.toml").read_text())["tune"]
    assert (tune["trials"], tune["seeds"], tune["halving"], tune["objective"]) == (
        sizes.FULL.tune_trials,
        sizes.FULL.tune_seeds,
        convergence.TUNE_HALVING,
        convergence.TUNE_OBJECTIVE,
    )
    assert "space" not in tune  # the default ranges, as the bench uses


def test_default_learning_rates_lie_on_the_grids():
    assert set(convergence.DEFAULT_LR) == set(convergence.LR_GRID)
    for optimizer, lr in convergence.DEFAULT_LR.items():
        assert lr in convergence.LR_GRID[optimizer]


def test_performance_profile_known_answers():
    inf = np.inf
    times = pd.DataFrame(
        [
            [1.0, 2.0, inf],  # a fastest, b 2×, c failed
            [4.0, 2.0, 2.0],  # b and c tie for fastest, a 2×
            [inf, inf, inf],  # nobody solved it
            [10.0, 30.0, 50.0],
        ],
        columns=["a", "b", "c"],
    )
    np.testing.assert_array_equal(
        convergence.performance_ratios(times), [[1, 2, inf], [2, 1, 1], [inf, inf, inf], [1, 3, 5]]
    )
    profile = convergence.performance_profile(times, [1, 2, 3, 5, 1e9])
    np.testing.assert_allclose(
        profile.to_numpy(),
        [[0.50, 0.25, 0.25], [0.75, 0.50, 0.25], [0.75, 0.75, 0.25], [0.75, 0.75, 0.50], [0.75, 0.75, 0.50]],
    )
    assert list(profile.columns) == ["a", "b", "c"]


def test_loss_difference_flags_disagreement():
    engine = np.array([0.5, 0.01, 1e-4])
    assert throughput.loss_difference("same", engine * (1 + 1e-12), engine) <= 1e-11
    for wrong in (engine * (1 + 1e-6), np.r_[engine[:2], np.nan], engine[:2]):
        with pytest.raises(sizes.BenchError, match="wrong"):
            throughput.loss_difference("wrong", wrong, engine)


def test_compare_stops_on_an_implementation_that_trains_differently():
    def wrong_lr(params0, X, T, epochs, lr):
        return throughput.train_engine(params0, X, T, epochs, lr * 1.01)

    rows = throughput.compare(
        "t", {"engine": throughput.train_engine, "numpy_batched": references.train_adam_numpy_batched}, 4, 5, 8, 1
    )
    assert [r["implementation"] for r in rows] == ["engine", "numpy_batched"]
    with pytest.raises(sizes.BenchError, match="wrong_lr ended at other losses"):
        throughput.compare("t", {"engine": throughput.train_engine, "wrong_lr": wrong_lr}, 4, 5, 8, 1)


def test_implementations_are_timed_in_rounds():
    # one call of each per round, after a warm-up of each: a busy spell falls on all alike
    calls = []

    def recording(name):
        def trainer(params0, X, T, epochs, lr):
            calls.append((name, epochs))
            return throughput.train_engine(params0, X, T, epochs, lr)

        return trainer

    timings = throughput.measure({"a": recording("a"), "b": recording("b")}, 4, 3, 8, 3)
    assert calls == [("a", 1), ("b", 1)] + [("a", 3), ("b", 3)] * 3
    assert set(timings) == {"a", "b"} and all(t.best <= t.median for t in timings.values())


def test_rounds_and_roofline_name_the_spread_the_binding_limits_and_the_machine():
    row = dict(runs=4, epochs=5, samples=8, repeats=3, seconds_median=1.0, loss_rel_diff=0.0)
    rounds = throughput.throughput_frame(
        [
            {**row, "study": "rounds float64", "implementation": "engine", "sample_steps_per_s": 2e8}
            | dict(seconds_best=1.0, engine_speedup=1.0, engine_speedup_lo=1.0, engine_speedup_median=1.0),
            {**row, "study": "rounds float64", "implementation": "jax_batched", "sample_steps_per_s": 1.6e8}
            | dict(seconds_best=1.25, engine_speedup=1.25, engine_speedup_lo=0.9, engine_speedup_median=1.2),
        ]
    ).assign(engine_speedup_hi=[1.0, 1.4])
    text = "\n".join(markdown.rounds_lines(rounds, sizes.QUICK))
    assert "float64: engine 2e+08 sample-steps/s, JAX 1.6e+08" in text
    assert "median 1.2×, range 0.9–1.4× (best ÷ best 1.25×)" in text and cpu_text() in text
    assert "float32" not in text  # no JAX rows, no line
    limits = dict(peak_flops=1e9, l1_bytes_s=1e10, l2_bytes_s=1e10, exp_per_s=1e8, div_per_s=1e8)
    work = dict(flops=1, bytes=1, exp_log=0, divisions=0, ns_per_sample_step=1, exp_frac=0, div_frac=0)
    roofline = pd.DataFrame(
        [
            {"dtype": "float64", "section": "forward", "binds": "exp/log", "compute_frac": 0.1, "l1_frac": 0.2}
            | work
            | limits,
            {"dtype": "float64", "section": "backward", "binds": "L1 bandwidth", "compute_frac": 0.1, "l1_frac": 0.8}
            | work
            | limits,
        ]
    )
    head = markdown.roofline_section(roofline, {})[2]
    assert head == f"Measured on CPU {cpu_text()}. What binds each section there: float64: forward by exp/log, " + (
        "backward by L1 bandwidth."
    )


@pytest.mark.slow
def test_kernel_mode_prints_the_ratio_agreement_and_warm_start(capsys):
    assert _bench("kernel", "--quick") == 0
    printed = capsys.readouterr().out
    for text in ("engine / numpy_batched:", "final losses agree", "warm start", "sample-steps/s"):
        assert text in printed


@pytest.mark.slow  # a small tuned sweep and its analysis, twice
def test_realjob_measures_the_sweep_afresh_against_the_throughput_job(tmp_path):
    from engine.bench.realjob import folders

    for _ in range(2):  # the second run trains again: its folder is made anew
        assert _bench("realjob", "--quick", "--out", str(tmp_path)) == 0
        table = pd.read_csv(tmp_path / "realjob.csv").set_index("measure")
        epochs = sum(pd.read_csv(f / "runs.csv")["epochs_run"].sum() for f in folders(tmp_path / "realjob"))
        computed = sum(pd.read_csv(f / "chunks.csv")["lane_epochs"].sum() for f in folders(tmp_path / "realjob"))
        assert table.loc["lane occupancy", "value"] == pytest.approx(epochs / computed, rel=1e-5)
        assert 0 < table.loc["lane occupancy", "value"] <= 1
        useful = table.loc["sweep, useful work"]
        assert useful["ratio"] == pytest.approx(useful["value"] / table.loc["throughput job", "value"], rel=1e-4)
        share = table.loc["inside train()", "value"]  # of the sweep's time: the rest is tables, disk check, sampler
        assert 0 < share <= 1
        assert table.loc["useful work inside train()", "value"] == pytest.approx(useful["value"] / share, rel=1e-4)
        assert table.loc["tuning", "value"] > 0 and table.loc["comparison", "value"] > 0


def test_few_runs_per_call_are_timed_against_jax_where_it_is_installed(monkeypatch):
    from engine.bench import realjob
    from engine.bench.sizes import QUICK
    from engine.bench.throughput import Timing

    asked = []

    def measure(pair, runs, epochs, samples, repeats):  # JAX's calls take 1.5, 2 and 4 times the engine's
        asked.append((sorted(pair), runs, repeats))
        return {
            "engine": Timing(0.5, 0.5, None, (0.5, 0.5, 1.0)),
            "jax_batched": Timing(1.0, 1.0, None, (1.0, 2.0, 1.5)),
        }

    monkeypatch.setattr(realjob, "measure", measure)
    monkeypatch.setattr(realjob, "implementations", lambda: {"engine": None})
    assert realjob.few_runs_rows(QUICK) == []  # no JAX, no rows
    monkeypatch.setattr(realjob, "implementations", lambda: {"engine": None, "jax_batched": None, "numpy_loop": None})
    rows = realjob.few_runs_rows(QUICK)
    assert asked == [(["engine", "jax_batched"], n, QUICK.rounds) for n in realjob.FEW_RUNS]
    _, epochs, samples = QUICK.job
    assert rows == [
        (f"{n} runs per call", n * epochs * samples / 0.5, "sample-steps/s", "jax.jit(vmap)", 2.0, 1.5, 4.0)
        for n in realjob.FEW_RUNS
    ]


def test_the_cpu_is_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
        "model name\t: AMD EPYC 9R14\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_bf16\n\n"
        "processor\t: 1\nvendor_id\t: AuthenticAMD\n"
    )
    found = cpu(info)
    assert found == {
        "vendor": "AuthenticAMD",
        "family": "25",
        "model": "17",
        "name": "AMD EPYC 9R14",
        "isa": ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16"],
    }
    assert cpu_text(found) == "AuthenticAMD family 25 model 17 (AMD EPYC 9R14; sse4_2 avx avx2 fma avx512f avx512_bf16)"
    assert cpu(tmp_path / "missing")["name"]  # not Linux: platform's name only
