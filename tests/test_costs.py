"""Costs in three units (engine.analysis.costs), numeric factors compared
between neighbouring levels (engine.analysis.tables.neighbour_levels) and
their trend test (engine.analysis.trends), in the tables and the Answer."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from experiment_files import EXACT_FLOATS
from results_fixture import write_runs
from scipy import stats

from engine import load_results
from engine.analysis.analyze import analyze
from engine.analysis.answer import effect_text, oriented
from engine.analysis.costs import run_costs
from engine.analysis.tables import summary_table
from engine.schema import ANALYSIS_TABLES, EPOCHS_TO_TARGET, TEST_ACC
from engine.sweep import spec

SIZES = [1, 4, 16, 32]
BASE = {1: 4, 4: 8, 16: 30, 32: 60}  # epochs to ε: fewer with smaller batches, more updates
SEEDS = range(12)


def _rows():
    rng = np.random.default_rng(0)
    rows = []
    for config, (size, optimizer) in enumerate((s, o) for s in SIZES for o in ("sgd", "adam")):
        for seed in SEEDS:
            epochs = BASE[size] + seed % 3 + (optimizer == "adam")
            never = size == 32 and optimizer == "adam" and seed == 0
            rows.append(
                {
                    "config": config,
                    "seed": seed,
                    "batch_size": size,
                    "optimizer": optimizer,
                    "epochs_to_target": None if never else epochs,
                    "epochs_run": 500 if never else epochs,
                    "grad_evals": (500 if never else epochs) * 32 // size,
                    "test_acc": 0.9 + 0.01 * rng.integers(0, 5),  # no trend with the batch size
                }
            )
    return rows


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    write_runs(root, _rows())
    text = analyze(root, quiet=True).read_text(encoding="utf-8")
    return root, text, text.split("## Answer", 1)[1].split("\n## ", 1)[0]


def test_costs_in_epochs_updates_and_sample_gradients(batch):
    root, _, _ = batch
    runs = load_results(root).runs
    costs = run_costs(runs)
    reached = runs["converged"].to_numpy()
    np.testing.assert_array_equal(costs["epochs"][reached], runs["epochs_to_target"][reached].astype(float))
    np.testing.assert_array_equal(costs["updates"][reached], runs["grad_evals"][reached])
    np.testing.assert_array_equal(costs["samples"][reached], 32 * runs["epochs_to_target"][reached].astype(float))
    assert np.isinf(costs[~reached]).all().all() and (~reached).sum() == 1
    table = pd.read_csv(root / ANALYSIS_TABLES["costs"])
    one = table[(table["batch_size"] == 1) & (table["optimizer"] == "sgd")].iloc[0]
    # seeds give 4, 5, 6 epochs, four times each: median 5, so 5 × 32 updates and sample-gradients
    assert (one["epochs_median"], one["updates_median"], one["samples_median"]) == (5, 160, 160)
    full = table[(table["batch_size"] == 32) & (table["optimizer"] == "sgd")].iloc[0]
    assert (full["epochs_median"], full["updates_median"], full["samples_median"]) == (61, 61, 61 * 32)


def test_the_answer_says_what_the_ranking_counts_and_the_cheapest_in_updates(batch):
    root, text, answer = batch
    table = pd.read_csv(root / ANALYSIS_TABLES["costs"])
    cost = next(p for p in answer.split("\n\n") if p.startswith("**Cost**"))
    assert "the ranking counts epochs to ε, and sample-gradients (epochs × training images) rank the same way" in cost
    best = table.iloc[0]  # rank order
    assert (best["batch_size"], best["optimizer"]) == (1, "sgd")
    assert (
        "the best configuration needs 160 [128, 192] updates, 160 [128, 192] sample-gradients, 5 [4, 6] epochs" in cost
    )
    cheap = table.loc[table["updates_median"].idxmin()]
    assert (cheap["batch_size"], cheap["optimizer"]) == (32, "sgd")
    assert f"Counted in updates, the cheapest is config {cheap['config']} (optimizer sgd, batch_size 32): 61 " in cost
    assert "## Costs" in text and "- **Costs.** The ranking counts the cost to ε in epochs." in text
    # batch size 1 is the low end of the grid, but no batch is smaller: no grid-edge warning
    assert "**Warning**" not in answer


def test_numeric_factors_compare_neighbouring_levels(batch):
    root, _, answer = batch
    paired = pd.read_csv(root / ANALYSIS_TABLES["paired_tests"])
    effects = pd.read_csv(root / ANALYSIS_TABLES["effects"], keep_default_na=False, **EXACT_FLOATS)
    for table in (paired, effects):
        rows = table[(table["factor"] == "batch_size") & (table["metric"] == EPOCHS_TO_TARGET)]
        assert rows[["level_a", "level_b"]].astype(str).values.tolist() == [["1", "4"], ["4", "16"], ["16", "32"]]
    epochs = effects[(effects["factor"] == "batch_size") & (effects["metric"] == EPOCHS_TO_TARGET)]
    assert (epochs["verdict"] == "better").all() and epochs["better"].astype(str).tolist() == ["1", "4", "16"]
    # 1 against 4 on every seed: (4 + s) / (8 + s) for sgd, (5 + s) / (9 + s) for adam, s = seed % 3
    d = [np.mean(np.log([(4 + s) / (8 + s), (5 + s) / (9 + s)])) for s in (np.arange(12) % 3)]
    walsh = [(d[i] + d[j]) / 2 for i in range(12) for j in range(i, 12)]  # Hodges–Lehmann
    assert epochs["estimate"].iloc[0] == pytest.approx(np.exp(np.median(walsh)), rel=1e-5)
    paragraph = next(p for p in answer.split("\n\n") if p.startswith("**batch_size**"))
    said = 0
    for high, low, claims in re.findall(r"(\S+) against (\S+): (.*?)(?=\. \S+ against |\. Over |\.$)", paragraph):
        for claim in claims.split("; "):
            metric = EPOCHS_TO_TARGET if claim.startswith("epochs to ε") else TEST_ACC
            row = effects[
                (effects["factor"] == "batch_size")
                & (effects["metric"] == metric)
                & (effects["level_a"].astype(str) == low)
                & (effects["level_b"].astype(str) == high)
            ].iloc[0]
            # the claim's numbers are the row's, to the 2 decimals shown (a value at a half
            # may round either way between the table on disk and the one in memory)
            shown = [float(x) for x in re.findall(r"[+-]?\d+\.\d+", effect_text(metric, 0.0, 0.0, 0.0))]
            numbers = [float(x) for x in re.findall(r"[+-]?\d+\.\d+", claim)][: len(shown)]
            scale = 1.0 if metric == EPOCHS_TO_TARGET else 100.0
            expected = [scale * x for x in oriented(row, row["level_a"])[1:]]
            assert numbers == pytest.approx(expected, abs=0.005 + 1e-9), claim
            said += 1
    assert said == 2 * 3


def test_trend_test_is_pages_test_on_the_seeds_both_ways(batch):
    root, _, answer = batch
    trends = pd.read_csv(root / ANALYSIS_TABLES["trend_tests"]).set_index("metric")
    runs = pd.read_csv(root / "runs.csv")
    epochs = runs["epochs_to_target"].fillna(501)  # never: budget + 1
    per_seed = runs.assign(x=epochs).pivot_table(index="seed", columns="batch_size", values="x", aggfunc="mean")
    up = stats.page_trend_test(per_seed[SIZES].to_numpy())
    row = trends.loc[EPOCHS_TO_TARGET]
    assert row["levels"] == "1 < 4 < 16 < 32" and row["seeds"] == 12 and row["trend"] == "increasing"
    assert row["p_value"] == pytest.approx(min(1, 2 * up.pvalue), rel=1e-5)
    assert row["statistic"] == pytest.approx(up.statistic)
    assert trends.loc[TEST_ACC, "trend"] == "no monotone trend"
    assert (
        "Over 1 < 4 < 16 < 32 (12 seeds, Page's trend test): epochs to ε increasing (p < 0.001); "
        "test accuracy no monotone trend (p = " in answer
    )


def test_no_numeric_factor_no_trend_table(tmp_path):
    write_runs(tmp_path, [r for r in _rows() if r["batch_size"] == 1])
    analyze(tmp_path, quiet=True)
    assert not (tmp_path / ANALYSIS_TABLES["trend_tests"]).exists()
    assert (tmp_path / ANALYSIS_TABLES["costs"]).exists()


def _analyzed(root, analysis):
    """The batch fixture's runs analysed with an [analysis] table in the
    manifest's copy of the experiment file: (summary.csv, report.md, Answer)."""
    write_runs(root, _rows())
    (root / "manifest.json").write_text(json.dumps({"spec_text": f"[analysis]\n{analysis}\n"}), encoding="utf-8")
    text = analyze(root, quiet=True).read_text(encoding="utf-8")
    summary = pd.read_csv(root / ANALYSIS_TABLES["summary"])
    return summary, text, text.split("## Answer", 1)[1].split("\n## ", 1)[0]


@pytest.mark.slow  # a sweep and its analysis, kept out of make test-fast
def test_the_cost_unit_of_the_analysis_section_ranks_the_configurations(tmp_path):
    """[analysis] cost = "updates": the full batch (61 updates) beats a batch of
    one (5 epochs but 160 updates), in summary.csv, the Answer and the report."""
    summary, text, answer = _analyzed(tmp_path, 'cost = "updates"')
    best = summary.sort_values("rank", kind="stable").iloc[0]
    assert (best["batch_size"], best["optimizer"], best["updates_median"]) == (32, "sgd", 61)
    assert summary.loc[(summary["batch_size"] == 1) & (summary["optimizer"] == "sgd"), "rank"].item() > 1
    assert f"**Best configuration**: config {best['config']} (optimizer sgd, batch_size 32): " in answer
    assert "median updates (grad_evals) to ε 61 [60, 62]" in answer
    cost = next(p for p in answer.split("\n\n") if p.startswith("**Cost**"))
    assert cost.startswith("**Cost**: the ranking counts updates (grad_evals) to ε;")
    assert "Counted in epochs, the cheapest is config 0 (optimizer sgd, batch_size 1): 160 " in cost
    assert "Configurations count the median updates (grad_evals) to ε instead of epochs." in text
    assert (
        "- **Costs.** The ranking counts the cost to ε in updates (grad_evals) (`[analysis] cost` in the "
        "experiment file). The costs table gives it in epochs, in updates" in text
    )
    assert "The ranking counts updates (grad_evals). All configurations" in text
    assert "| updates (grad_evals) to ε, median [95% CI] |" in text.split("## Best configurations", 1)[1]


@pytest.mark.slow  # a sweep and its analysis, kept out of make test-fast
def test_sample_gradients_rank_as_epochs_and_the_report_says_so(tmp_path):
    summary, text, answer = _analyzed(tmp_path, 'cost = "samples"')
    epochs = summary_table(load_results(tmp_path).runs, ["batch_size", "optimizer"])
    assert summary["rank"].tolist() == epochs["rank"].tolist()
    assert "**Cost**: the ranking counts sample-gradients to ε (epochs × training images; they rank as epochs do)" in (
        answer
    )
    assert "- **Costs.** The ranking counts the cost to ε in sample-gradients (`[analysis] cost`" in text


@pytest.mark.slow  # a sweep and its analysis: 6-13 s, kept out of make test-fast
def test_the_default_cost_unit_leaves_the_tables_as_they_were(tmp_path):
    """cost = "epochs" said or not: summary.csv and the report (from the Answer
    to the figures) are the same bytes, and no cost column joins the summary."""
    said = tmp_path / "said"
    said.mkdir()
    summary, text, _ = _analyzed(said, 'cost = "epochs"')
    write_runs(tmp_path, _rows())
    plain = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert (said / ANALYSIS_TABLES["summary"]).read_bytes() == (tmp_path / ANALYSIS_TABLES["summary"]).read_bytes()
    assert "updates_median" not in summary
    assert text.split("## Answer")[1].split("## Figures")[0] == plain.split("## Answer")[1].split("## Figures")[0]


@pytest.mark.parametrize(
    "key, allowed, value",
    [("cost", '"epochs", "updates", "samples"', v) for v in ('"sample"', "3", '["epochs"]')]
    + [("lang", '"en", "ja"', v) for v in ('"fr"', "1", '["ja"]', "nan", '"JA"')],
)
def test_a_bad_analysis_choice_is_one_clear_error(tmp_path, key, allowed, value):
    """[analysis] cost and lang: one error naming the file, the key and what is allowed."""
    message = f"[analysis] {key}: must be one of {allowed}, got "
    path = tmp_path / "bad.toml"
    path.write_text(f"seeds = 2\n[factors]\ninit = ['xavier', 'he']\n[analysis]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(spec.SpecError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        spec.load(path)
    with pytest.raises(ValueError, match=re.escape(message)):
        _analyzed(tmp_path, f"{key} = {value}")
