"""engine.analysis.effects and .answer: Hodges–Lehmann effects with signed-rank
intervals, the three verdicts, [analysis] margins, and the report's Answer,
whose every number is checked against the tables it came from."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from results_fixture import make_results

from engine.analysis.analyze import analyze
from engine.analysis.answer import effect_text, init_depth_text, oriented
from engine.analysis.effects import BETTER, MARGINS, SAME, UNSURE, hodges_lehmann, verdict, walsh_cut
from engine.model.layout import Layout
from engine.schema import ANALYSIS_TABLES, EPOCHS_TO_TARGET, TEST_ACC
from engine.sweep import spec


def test_walsh_cut_matches_the_signed_rank_tables():
    # Hollander & Wolfe: n = 10 at 95 % cuts 8 Walsh averages from each end (C = 9);
    # up to 6 values no cut reaches the level but the range (n = 6: exactly the range).
    assert walsh_cut(10) == 8
    assert walsh_cut(5) == walsh_cut(6) == 0
    # The normal approximation agrees at n = 100: 2525 − 1.96 · 290.84 ≈ 1955.
    assert walsh_cut(100) == 1955


def test_hodges_lehmann_is_the_median_of_walsh_averages():
    d = np.array([3.0, -1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    walsh = sorted((d[i] + d[j]) / 2 for i in range(d.size) for j in range(i, d.size))
    estimate, lo, hi = hodges_lehmann(d)
    c = walsh_cut(d.size)
    assert (estimate, lo, hi) == (np.median(walsh), walsh[c], walsh[-1 - c])
    assert np.isnan(hodges_lehmann([np.nan])[0])


@pytest.mark.parametrize(
    "differences, expected",
    [
        (0.03 + np.random.default_rng(0).normal(0, 0.005, 40), (BETTER, 1)),  # a real effect: +3 points
        (-0.03 + np.random.default_rng(1).normal(0, 0.005, 40), (BETTER, -1)),  # the other way
        (np.random.default_rng(2).normal(0.0005, 0.002, 100), (SAME, 0)),  # significant-looking but tiny
        (np.random.default_rng(3).normal(0, 0.03, 8), (UNSURE, 0)),  # too few seeds to say
    ],
    ids=["effect", "effect-other-way", "equivalence", "inconclusive"],
)
def test_verdict_kinds_on_constructed_cases(differences, expected):
    _, lo, hi = hodges_lehmann(differences)
    assert verdict(lo, hi, 0.005) == expected


@pytest.mark.slow  # a sweep and its analysis: 6-13 s, kept out of make test-fast
def test_a_significant_difference_below_the_margin_is_no_winner(tmp_path):
    """The default report's xavier-vs-he case: xavier ahead on every seed by a
    hundredth of a point is significant, and of no practical importance."""
    make_results(tmp_path, seeds=range(12))
    runs = pd.read_csv(tmp_path / "runs.csv")
    runs.loc[runs["init"] == "xavier", TEST_ACC] += 1e-4
    runs.to_csv(tmp_path / "runs.csv", index=False)
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    paired = pd.read_csv(tmp_path / ANALYSIS_TABLES["paired_tests"])
    acc = paired[(paired["factor"] == "init") & (paired["metric"] == TEST_ACC)].iloc[0]
    assert (acc["level_a"], acc["level_b"], acc["winner"]) == ("xavier", "he", "xavier")  # significant
    assert "| init | test accuracy | xavier vs he |" in text
    row = next(line for line in text.splitlines() if line.startswith("| init | test accuracy | xavier vs he |"))
    assert row.endswith("| no practical difference |")
    assert (
        "he against xavier: epochs to ε 1.00× [1.00, 1.00], no practical difference; test accuracy -0.01 points" in text
    )


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("answer")
    make_results(root, seeds=range(8))
    text = analyze(root, quiet=True).read_text(encoding="utf-8")
    answer = text.split("## Answer", 1)[1].split("\n## ", 1)[0]
    return root, text, answer


def test_the_answer_opens_the_report(analysed):
    _, text, answer = analysed
    assert text.index("## Answer") < text.index("## How the numbers were computed")
    for kind in ("**init**", "**optimizer**", "**activation**", "**regularization**", "**Best configuration**"):
        assert kind in answer


def test_every_effect_in_the_answer_is_in_effects_csv(analysed):
    root, _, answer = analysed
    effects = pd.read_csv(root / ANALYSIS_TABLES["effects"], keep_default_na=False)
    names = {"epochs to ε": EPOCHS_TO_TARGET, "test accuracy": TEST_ACC}
    said = 0
    for paragraph in answer.split("\n\n"):
        factor = re.match(r"\*\*(\w+)\*\*:", paragraph)
        if not factor or factor.group(1) == "Best":
            continue
        rows = effects[effects["factor"] == factor.group(1)]
        for sentence in re.findall(r"(\S+) against (\S+): (.*?)(?=\. \S+ against |\. Share|\.$)", paragraph):
            other, reference, claims = sentence
            for claim in claims.split("; "):
                name, rest = next((n, claim[len(n) + 1 :]) for n in names if claim.startswith(n))
                pair = rows[
                    (rows["metric"] == names[name]) & rows[["level_a", "level_b"]].isin([other, reference]).all(axis=1)
                ].iloc[0]
                verdict_text = pair["verdict"] if pair["verdict"] != BETTER else f"{pair['better']} better"
                assert rest == f"{effect_text(names[name], *oriented(pair, reference)[1:])}, {verdict_text}"
                said += 1
    assert said == 14  # 2 metrics × (2 + 2 + 1 + 2) pairs against each factor's best level


def test_best_configuration_and_shares_match_the_tables(analysed):
    root, _, answer = analysed
    summary = pd.read_csv(root / ANALYSIS_TABLES["summary"])
    best = summary.sort_values("rank", kind="stable").iloc[0]
    assert f"**Best configuration**: config {best['config']} (" in answer
    assert f"mean test accuracy {100 * best['test_acc_mean']:.1f} %" in answer
    assert f"median epochs to ε {best['epochs_median']:g} [{best['epochs_lo']:g}, {best['epochs_hi']:g}]" in answer
    main = pd.read_csv(root / ANALYSIS_TABLES["main_effects"])
    for _, rows in main.groupby("factor", sort=False):
        shares = ", ".join(f"{r['level']} {r['success_rate']:.0%}" for r in rows.to_dict("records"))
        assert f"Share of runs that reached ε: {shares}." in answer


def test_margins_from_the_analysis_section_change_the_verdicts(tmp_path):
    make_results(tmp_path, seeds=range(8))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            '"spec_text": "', '"spec_text": "[analysis]\\nmargin_accuracy = 20\\n'
        ),
        encoding="utf-8",
    )
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    # std0.01 loses 13.1 points: no longer beyond a margin of 20 points.
    assert "test accuracy -13.10 points [-13.10, -13.10], no practical difference" in text
    assert "test accuracy ±20 points" in text


@pytest.mark.parametrize(
    "table, message",
    [
        ({"margin_accuracy": 0}, "[analysis] margin_accuracy: must be a number of accuracy points in (0, 100], got 0"),
        ({"margin_epochs": float("nan")}, "[analysis] margin_epochs: must be a ratio share"),
        ({"margin_acc": 1}, "did you mean 'margin_accuracy'?"),
    ],
)
def test_bad_margins_are_refused_naming_the_key(tmp_path, table, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        spec.margins(table)
    path = tmp_path / "bad.toml"
    key, value = next(iter(table.items()))
    path.write_text(f"seeds = 2\n[factors]\ninit = ['xavier', 'he']\n[analysis]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(spec.SpecError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        spec.load(path)


def test_tuned_settings_show_each_optimizer_its_own(tmp_path):
    """Tuning sets lr and each optimizer's own hyperparameters per (optimizer,
    activation): a level shows only what its optimizer reads, tuned values as
    their range, "–" for the rest, in report.md and summary.csv."""
    make_results(tmp_path, factors=("optimizer", "activation"), seeds=range(4))
    runs = pd.read_csv(tmp_path / "runs.csv")
    relu = runs["activation"] == "relu"
    runs["lr"] = runs["optimizer"].map({"sgd": 3.0, "momentum": 1.5, "adam": 0.2}) / np.where(relu, 2, 1)
    runs.loc[runs["optimizer"] == "momentum", "momentum"] = np.where(relu, 0.7, 0.6)[runs["optimizer"] == "momentum"]
    runs.loc[runs["optimizer"] == "adam", "beta1"] = np.where(relu, 0.8, 0.5)[runs["optimizer"] == "adam"]
    runs.to_csv(tmp_path / "runs.csv", index=False)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    manifest["tuning"] = {"factors": ["optimizer", "activation"]}  # what a [tune] section records
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert "| optimizer | sgd | lr 1.5 – 3 (tuned) |" in text
    assert "| optimizer | momentum | lr 0.75 – 1.5 (tuned), momentum 0.6 – 0.7 (tuned) |" in text
    assert "| optimizer | adam | lr 0.1 – 0.2 (tuned), beta1 0.5 – 0.8 (tuned), beta2 0.999, eps 1e-08 |" in text
    best = text.split("## Best configurations", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in best.splitlines() if line.startswith("| rank"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    for line in best.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != len(columns) or not cells[0].isdigit():
            continue
        row = dict(zip(columns, cells))
        assert (row["momentum"] == "–") == (row["optimizer"] != "momentum")
        assert (row["beta1"] == "–") == (row["optimizer"] != "adam")
    summary = pd.read_csv(tmp_path / ANALYSIS_TABLES["summary"])
    assert summary["momentum"].isna().eq(summary["optimizer"] != "momentum").all()
    assert summary["beta1"].isna().eq(summary["optimizer"] != "adam").all()


def test_text_fits_the_experiment(tmp_path):
    """No sentence about a section, an ε or a seed set the experiment lacks."""
    # One optimizer, regularisation strengths nested in their labels, no ε.
    make_results(tmp_path, factors=("regularization",), seeds=range(4))
    runs = pd.read_csv(tmp_path / "runs.csv")
    runs["target_loss"] = np.nan
    runs["converged"] = False
    runs["epochs_to_target"] = pd.NA
    runs.to_csv(tmp_path / "runs.csv", index=False)
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert "\n## Learning-rate" not in text and "learning-rate section" not in text
    assert "different thing for each optimizer" not in text
    assert "stopped at ε" not in text and "no target loss ε" in text
    assert "tuning seeds" not in text  # no [tune]: selection and evaluation seeds only
    assert "selection seeds" in text


def test_a_best_lr_at_the_edge_of_its_grid_is_warned(tmp_path):
    # sgd reaches ε from lr 0.1 up (best: 0.1, inside 0.001 … 1); momentum everywhere and adam
    # below 1 (best: the first, 0.001, the low end of the grid).
    make_results(tmp_path, factors=("optimizer", "lr"), seeds=range(4))
    answer = analyze(tmp_path, quiet=True).read_text(encoding="utf-8").split("\n## ", 2)[1]
    ranges = pd.read_csv(tmp_path / ANALYSIS_TABLES["lr_ranges"]).set_index("optimizer")["best_lr"]
    assert ranges.to_dict() == {"sgd": 0.1, "momentum": 0.001, "adam": 0.001}
    warnings = [line for line in answer.splitlines() if line.startswith("- **Warning**")]
    assert warnings == [
        f"- **Warning**: optimizer {name}: the best lr, 0.001, is the low end of its grid (0.001, 0.01, 0.1, 1); "
        "a better lr may lie outside it."
        for name in ("momentum", "adam")
    ]


def _init_runs(final):
    """Runs of init × activation × 8 seeds whose final train loss is final[init, activation]
    times the initial log 10 (each seed a little apart), with 1 − final / 2 of the training
    images right, and their epoch-0 curve points."""
    rng = np.random.default_rng(0)
    rows = []
    for config, (init, activation) in enumerate(final):
        for seed in range(8):
            loss = np.log(10) * final[init, activation] * (1 + rng.normal(0, 0.01))
            rows.append(
                {
                    "config": config,
                    "seed": seed,
                    "init": init,
                    "activation": activation,
                    "train_loss": loss,
                    "train_acc": 1 - final[init, activation] / 2,
                    "test_acc": 1 - loss / 3,
                }
            )
    runs = pd.DataFrame(rows).astype({"init": "category", "activation": "category"})
    runs = runs.assign(converged=False, epochs_to_target=pd.NA, diverged=False)
    curves = runs[["config", "seed"]].assign(epoch=0, train_loss=np.log(10))
    return runs, curves


def test_the_init_paragraph_says_which_init_fails_and_which_suits_each_activation():
    final = {
        ("std0.01", "relu"): 1.0, ("std0.01", "tanh"): 0.99, ("xavier", "relu"): 0.5, ("xavier", "tanh"): 0.2,
        ("he", "relu"): 0.1, ("he", "tanh"): 0.4,
    }  # fmt: skip
    runs, curves = _init_runs(final)
    lines = init_depth_text(runs, curves, Layout(64, (100,) * 4, 10), MARGINS)
    text = "\n".join(lines)
    assert lines[0].startswith(
        "**Initial values in this 64-100-100-100-100-10 network (4 hidden layers)**: std0.01 fails to learn "
        "with every activation (its median run: "
    )
    assert "every other cell learns (median final train loss 10%–50% of the initial)" in lines[0]
    assert "**init with relu**: best level he (no other level is better by more than the margin)." in text
    assert "**init with tanh**: best level xavier (no other level is better by more than the margin)." in text
    # one cell failing is named with its activation; nothing failing is said so
    final["xavier", "tanh"] = 0.95
    runs, curves = _init_runs({k: v for k, v in final.items() if k[0] != "std0.01"})
    lines = init_depth_text(runs, curves, Layout(12, (3,), 2), MARGINS)
    assert lines[0].startswith(
        "**Initial values in this 12-3-2 network (1 hidden layer)**: xavier fails to learn with tanh ("
    )
    runs, curves = _init_runs({k: 0.01 for k in final})
    text = init_depth_text(runs.assign(hidden=runs["seed"] % 2 + 2), curves, Layout(), MARGINS)[0]
    assert text.startswith("**Initial values in this 12-3-2 and smaller network (1 hidden layer at most)**: ")
    lines = init_depth_text(runs, curves, Layout(), MARGINS)
    assert ": every init learns with every activation (median final train loss 1%–1% of the initial)." in lines[0]


def test_a_cell_whose_exploded_loss_falls_to_a_guess_or_that_diverges_does_not_learn():
    """std 1 with ReLU: an initial loss of 10⁴ that falls to a constant guess's log 10 keeps
    0 % of it, yet gets a tenth of the images right; a diverged run keeps all its loss."""
    final = {("std1", "relu"): 0.01, ("std1", "tanh"): 0.01, ("he", "relu"): 0.01, ("he", "tanh"): 0.01}
    runs, curves = _init_runs(final)
    std1 = runs["init"] == "std1"
    curves.loc[std1.to_numpy(), "train_loss"] = 1e4
    runs.loc[std1 & (runs["activation"] == "relu"), "train_acc"] = 0.1
    lines = init_depth_text(runs, curves, Layout(64, (100,) * 4, 10), MARGINS)
    assert "std1 fails to learn with relu (its median run: relu ends at 0% of its initial loss, 10% right)" in lines[0]
    assert "every other cell learns" in lines[0]
    assert "gets at least 55% of the training images right (half-way from a guess's 10%)" in lines[0]
    runs.loc[std1 & (runs["activation"] == "relu"), ["train_loss", "train_acc"]] = np.nan
    runs.loc[std1 & (runs["activation"] == "relu"), "diverged"] = True
    lines = init_depth_text(runs, curves, Layout(64, (100,) * 4, 10), MARGINS)
    assert "std1 fails to learn with relu (its median run: relu diverges)" in lines[0]
