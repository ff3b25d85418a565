"""report.md (renders on a Git host as is) and the short printed summary.
Every number the text states (interval level, alpha, the good-lr share) is
formatted from the constant the code uses; the methods paragraph is the
template report_methods.md beside this file."""

import re
from pathlib import Path

import numpy as np

from ..options import hidden_label
from ..schema import CONVERGED, DIVERGED, EPOCHS_TO_TARGET, FIGURES, TEST_ACC, TRAIN_LOSS
from .answer import answer_section, effect_text, margin_text
from .costs import UNITS
from .effects import BETTER, MARGINS, SAME
from .figures import ERROR_LINEAR, INIT_SEEDS, INIT_VALUES
from .format import epochs_interval, markdown_table, missing, num, p_value, pct, percent
from .stats import ALPHA, LEVEL, has_target
from .tables import (
    GOOD,
    ZERO_METHOD,
    is_numeric,
    level_settings,
    nested_factors,
    paired_metrics,
    pooled_factors,
    ranked,
    split_seeds,
)
from .trends import MIN_LEVELS
from .tuning import tuning_section

METHODS = Path(__file__).with_name("report_methods.md")
TOP = 10  # configurations shown in the report; summary.csv has them all


def captions(hue, facet, target):
    """Figure key -> (title, caption), naming the factors the curve figures follow."""
    by = f"per {hue}" if hue else "over all runs"
    panels = f", one panel per {facet}" if facet else ""
    return {
        "learning_curves": (
            "Learning curves",
            f"Median training loss {by} (line) with the middle half of the runs (band){panels}, "
            "pooled over the other factors and seeds; "
            + ("the dashed line is ε; " if target else "")
            + "both axes are logarithmic. "
            + ("A run that stopped at ε keeps its last loss and a " if target else "A ")
            + "diverged run counts as infinite loss. "
            + (
                "Once most runs have reached ε the bands lie on ε, so the lower row shows the share of "
                "runs not yet below ε at each epoch: runs that never reach it stay visible there."
                if target
                else ""
            ),
        ),
        "epochs_ecdf": (
            "Epochs to ε",
            f"The fraction of runs {by} that had reached ε by epoch k{panels} (an ECDF, as in "
            "COCO); runs that never reached ε keep a curve below 1.",
        ),
        "regularization": (
            "Overfitting and regularisation",
            "Final train (blue) and test (orange) error rate (1 − accuracy, in %) per regularisation "
            "level, one dot per seed (the mean of its runs) and a bar at the median seed; the axis is "
            f"linear up to {ERROR_LINEAR:g} % and logarithmic above, so seeds near 0 % and a failed "
            "seed near 50 % both show. The gap between train and test is overfitting, which "
            "regularisation should narrow.",
        ),
        "success_heatmap": (
            "Success by init × activation",
            "Share of runs that reached ε in each init × activation cell, with the mean "
            "number of dead hidden units (constant on every training input) per run. The "
            "best cell follows the rule for best (success rate, then median epochs to ε, "
            "then test accuracy; ties named).",
        ),
        "hidden_units": (
            "Learned hidden units",
            "Each hidden unit's 12 incoming weights drawn as a 4×3 image beside the C and T "
            "glyphs (white = ink; red = positive weight), with its threshold θ and its "
            "weights to the C and T outputs.",
        ),
        "init_activations": (
            "Hidden activations at initialisation",
            "Histograms of each hidden layer's outputs h on the training inputs at the initial "
            f"weights, over the runs' seeds (the first {INIT_SEEDS} at most, fewer where one layer's "
            f"outputs would pass {INIT_VALUES:,} numbers): one row per init × activation, one column "
            "per hidden layer, as Saito's book shows for Xavier and He (figs. 6-10 to 6-14). Values "
            "piled at a bound (or at 0 for ReLU, given as a share and left out of the bars) pass no "
            "gradient back; a spread that shrinks layer by layer vanishes before the output.",
        ),
        "lr_sensitivity": (
            "Learning-rate sensitivity",
            "Success rate and median training loss at stop against the learning rate per "
            "optimizer on the evaluation seeds; a star marks the best lr (chosen on the "
            "selection seeds), filled markers the good range (within the practical margin of the "
            "best: see the learning-rate section).",
        ),
    }


def _median_iqr(median, iqr):
    return f"{num(median)} ({num(iqr, 2)})"


def _mean_ci(mean, lo, hi):
    def one(x):
        return "–" if missing(x) else f"{x:.3f}"

    return "–" if missing(mean) else f"{one(mean)} [{one(lo)}, {one(hi)}]"


def _signed(x):
    return "–" if missing(x) else f"{x:+.2f}"


def _signed_interval(median, lo, hi):
    return "–" if missing(median) else f"{_signed(median)} [{_signed(lo)}, {_signed(hi)}]"


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _p(p):
    return p_value(p, ALPHA)


def _ci_label():
    return f"{percent(LEVEL)} CI".replace(" %", "%")


def outcome_header(target):
    """Column names of `outcome_cells`: without a target ε no "reached ε"
    column and no epochs to ε, and the final loss is the loss after the budget."""
    loss = "train loss at stop, median (IQR)" if target else "final train loss, median (IQR)"
    return [
        "runs",
        *(["reached ε"] if target else []),
        DIVERGED,
        *([f"epochs to ε, median [{_ci_label()}]"] if target else []),
        loss,
        "test loss, median (IQR)",
        f"test acc, mean [{_ci_label()}]",
        "dead units",
    ]


def outcome_cells(r, target):
    """Table cells of one `engine.analysis.tables.describe` row (a dict)."""
    return [
        r["runs"],
        *([pct(r["success_rate"])] if target else []),
        r[DIVERGED],
        *([epochs_interval(r["epochs_median"], r["epochs_lo"], r["epochs_hi"])] if target else []),
        _median_iqr(r["train_loss_median"], r["train_loss_iqr"]),
        _median_iqr(r["test_loss_median"], r["test_loss_iqr"]),
        _mean_ci(r["test_acc_mean"], r["test_acc_lo"], r["test_acc_hi"]),
        num(r["dead_units_mean"], 2),
    ]


def _sentence(text):
    text = str(text).strip()
    return text if text.endswith((".", "?", "!", ":")) else text + "."


# ---------------------------------------------------------------- sections

FIXED = (
    ("init", "init"),
    ("activation", "activation"),
    ("optimizer", "optimizer"),
    ("lr", "learning rate"),
    ("target_loss", "target loss ε"),
    ("epochs", "epoch budget"),
    ("batch_size", "batch size"),
    ("reduction", "loss reduction"),
)


def _data_name(data):
    """The data set in words, from the manifest's data (older ones: the C/T images)."""
    if data.get("file"):
        return f"the data in `{data['file']}`"
    return "scikit-learn's 8×8 digits" if data.get("set") == "digits" else "the C/T images"


def _experiment(results):
    runs, m, layout = results.runs, results.manifest, results.layout
    seeds = m.get("seeds", sorted(runs["seed"].unique()))
    lines = [_sentence(m["description"])] if m.get("description") else []
    d = m.get("data", {})
    levels = m.get("layout", {}).get("hidden", [None])
    hidden = hidden_label(layout.hidden) if len(levels) == 1 else "H"  # H: a factor (the hidden column)
    lines.append(
        f"The {layout.n_in}-{hidden}-{layout.n_out} network on {_data_name(d)}: "
        f"{len(runs)} of {m.get('n_runs', len(runs))} runs "
        f"({_count(m.get('n_configs', runs['config'].nunique()), 'configuration')} × "
        f"{_count(len(seeds), 'seed')})."
    )
    factors = "; ".join(f"**{f}** ({', '.join(map(str, runs[f].cat.categories))})" for f in results.factors)
    lines.append(f"Factors: {factors}." if factors else "No factor varies.")
    facts = []
    for column, label in FIXED:
        values = runs[column].dropna().unique() if column in runs and column not in results.factors else []
        if len(values) == 1:
            facts.append(f"{label} {values[0]}")
    if not has_target(runs):
        facts.append("no target loss ε (every run trains for the whole budget)")
    if d:
        noisy = f", pixel flips {d.get('flip')}, noise {d.get('noise')}" if _data_name(d) == "the C/T images" else ""
        digest = f" (sha256 `{d['sha256'][:12]}`)" if "sha256" in d else ""
        facts.append(
            f"data: {d.get('n_train')} training and {d.get('n_test')} test images{noisy}, "
            f"data seed {d.get('seed')}{digest}"
        )
    if facts:
        lines.append("Fixed settings: " + "; ".join(facts) + ".")
    if "spec" in m:
        lines.append(
            f"Experiment file `{m['spec']}` (sha256 `{str(m.get('spec_sha256', ''))[:12]}`), given in full at the end."
        )
    return " ".join(lines)


def _seed_list(seeds):
    seeds = [int(s) for s in seeds]
    return (
        ", ".join(map(str, seeds))
        if len(seeds) <= 6
        else f"{', '.join(map(str, seeds[:3]))}, …, {seeds[-1]}; {len(seeds)} seeds"
    )


def _methods(results, margins, cost="epochs"):
    runs = results.runs
    target = has_target(runs)
    tuning, evaluation = split_seeds(runs)
    if target:
        ranking = (
            "Groups of runs are ranked by the share that reached ε, then the median epochs to ε "
            "(the median is *never* unless more than half reached ε), then mean test accuracy."
            + ("" if cost == "epochs" else f" Configurations count the median {UNITS[cost]} to ε instead of epochs.")
        )
        censoring = "Runs that never reached ε count as +∞ (*never*) like any other value, so a bound may be *never*."
        blocks = (
            "epochs to ε count a run that never reached ε as one epoch past the budget, so two "
            "such runs tie; a pair with a diverged run's missing value is left out."
        )
        loss_name, loss_note = (
            "Train loss at stop",
            (
                "Runs stop as soon as E < ε, so the final train loss measures how far the last step "
                "overshot ε and rewards large steps; the tables show it as *train loss at stop* and the "
                "paired tests do not compare it."
            ),
        )
        agree = "the success rate and the median epochs to ε"
    else:
        ranking = "Without a target ε every run trains for the whole budget: groups are ranked by mean test accuracy."
        censoring = ""
        blocks = "a pair with a diverged run's missing value is left out."
        loss_name, loss_note = (
            "Final train loss",
            (
                "Every run trains for the same budget, so the final train loss is the loss after a "
                "fixed number of epochs, and the paired tests compare it."
            ),
        )
        agree = "the other criteria"
    text = METHODS.read_text(encoding="utf-8").format(
        level=percent(LEVEL),
        alpha=f"{ALPHA:g}",
        censoring=censoring,
        # The range of n runs covers the median with probability 1 − 2^(1−n).
        few=int(np.ceil(1 + np.log2(1 / (1 - LEVEL)) - 1e-9)),
        ranking=ranking,
        agree=agree,
        tuning=_seed_list(np.unique(runs["seed"][tuning])),
        evaluation=_seed_list(np.unique(runs["seed"][evaluation])),
        blocks=blocks,
        zero_method=ZERO_METHOD,
        loss_name=loss_name,
        loss_note=loss_note,
        margins="; ".join(margin_text(m, margins[m]) for m in paired_metrics(runs)),
    )
    # The template wraps its bullets; one line per bullet reads the same and diffs better.
    lines = [re.sub(r"\n +", " ", text).replace("  ", " ").rstrip()]
    if target and runs[CONVERGED].any():
        lines.append(
            f"- **Costs.** The ranking counts the cost to ε in {UNITS[cost]}"
            + ("" if cost == "epochs" else " (`[analysis] cost` in the experiment file)")
            + ". The costs table gives it "
            + ("also in " if cost == "epochs" else "in epochs, in ")
            + "updates (grad_evals, one per mini-batch step) and in sample-gradients (one per training image "
            "per epoch: ε is checked at the end of an epoch and every epoch passes each training image "
            "once, so epochs × n_train). With one training set, sample-gradients rank the configurations "
            "exactly as epochs do; updates rank them differently where the batch size varies."
        )
    if any(is_numeric(runs, f) and runs[f].nunique() > 1 for f in results.factors):
        lines.append(
            "- **Numeric factors** (a batch size, each optimizer's learning rates) are compared between "
            "neighbouring levels, on every seed, with the same paired test and effects as the other "
            "factors (Holm within the factor, and within each level of a factor it is nested in, × "
            f"metric). With {MIN_LEVELS} levels or more a trend test asks whether the seeds' outcomes "
            "rise or fall with the level: Page's L test (scipy.stats.page_trend_test) on each seed's "
            "ranks of the levels (the mean over its blocks), asked both ways, the smaller p doubled "
            f"([trend_tests.csv](trend_tests.csv)); a trend is named where p < {ALPHA:g}."
        )
    return ["\n".join(lines), ""]


def _summary_section(results, tables, target):
    top = ranked(tables.summary.drop(columns="rank")).head(TOP)
    settings = level_settings(results.runs, results.factors)
    unit = [] if tables.cost == "epochs" else [tables.cost]  # the unit that ranks, beside the epochs
    rows = [
        [
            r["rank"],
            r["config"],
            *(r[f] for f in results.factors),
            *(_setting(r[c]) for c in settings),
            *outcome_cells(r, target),
            *(_cost(r, u) for u in unit),
        ]
        for r in top.to_dict("records")
    ]
    return [
        "## Best configurations",
        "",
        f"The {len(top)} best of {len(tables.summary)} configurations under the rule for best (see "
        "above; tied configurations share a rank), with the settings that differ between "
        "configurations. All configurations: [summary.csv](summary.csv).",
        "",
        markdown_table(
            [
                "rank",
                "config",
                *results.factors,
                *settings,
                *outcome_header(target),
                *(f"{UNITS[u]} to ε, median [{_ci_label()}]" for u in unit),
            ],
            rows,
        ),
        "",
    ]


def _cost(row, unit):
    return epochs_interval(row[f"{unit}_median"], row[f"{unit}_lo"], row[f"{unit}_hi"])


def _costs_section(results, tables):
    if tables.costs is None:
        return []
    top = tables.costs.head(TOP)
    rows = [
        [r["config"], *(r[f] for f in results.factors), *(_cost(r, unit) for unit in UNITS)]
        for r in top.to_dict("records")
    ]
    return [
        "## Costs",
        "",
        f"What reaching ε cost the {len(top)} best configurations, median [{_ci_label()}] per unit "
        f"(see the methods; empty: never). The ranking counts {UNITS[tables.cost]}. All configurations: "
        "[costs.csv](costs.csv).",
        "",
        markdown_table(["config", *results.factors, *(f"{UNITS[u]} to ε" for u in UNITS)], rows),
        "",
    ]


def _setting(value):
    # "–": a setting the configuration's optimizer does not read
    return "–" if missing(value) else f"{value:g}" if isinstance(value, float) else value


def _settings_section(tables):
    if tables.settings is None or tables.settings.empty:
        return []
    rows = [[r["factor"], r["level"], r["settings"]] for r in tables.settings.to_dict("records")]
    return [
        "## Settings of each level",
        "",
        "What each level sets: the settings that differ between configurations and each optimizer's "
        "own hyperparameters.",
        "",
        markdown_table(["factor", "level", "settings"], rows),
        "",
    ]


def _effects_section(results, tables, target):
    if tables.main_effects.empty:
        return []
    rows = [[r["factor"], r["level"], *outcome_cells(r, target)] for r in tables.main_effects.to_dict("records")]
    runs, factors = results.runs, results.factors
    left_out = [f for f in factors if f not in pooled_factors(runs, factors)]
    # Say what each left-out factor is nested in, and point only at sections that exist.
    owners = {f: [t for t in factors if f in nested_factors(runs, factors, t)] for f in left_out}
    why = "".join(
        f" Not pooled: {f}, "
        + (
            f"whose levels differ between the levels of {' and '.join(owners[f])}"
            if owners[f]
            else "whose same value is a different step for each optimizer"
        )
        + (" (see the learning-rate section)." if f == "lr" and tables.lr_ranges is not None else ".")
        for f in left_out
    )
    return [
        "## Main effects",
        "",
        "Each level of each factor, pooled over the other factors and the seeds "
        f"([main_effects.csv](main_effects.csv)).{why}",
        "",
        markdown_table(["factor", "level", *outcome_header(target)], rows),
        "",
    ]


def metric_names(target):
    return {
        EPOCHS_TO_TARGET: "epochs to ε",
        TEST_ACC: "test accuracy",
        TRAIN_LOSS: "train loss at stop" if target else "final train loss",
    }


def _paired_section(tables, target):
    paired = tables.paired
    if paired.empty:
        return []
    names = metric_names(target)
    effects = tables.effects.to_dict("records")  # row for row the pairs of paired

    def verdict(r, e):
        # A significant winner is named only where the effect clears the practical margin.
        if e["verdict"] == SAME:
            return SAME
        if e["verdict"] == BETTER:
            return e["better"] + (f" ({r['note']})" if r["note"] and r["winner"] == e["better"] else "")
        return e["verdict"] + (f" (significant: {r['winner']})" if r["winner"] else "")

    rows = [
        [
            r["factor"],
            names[r["metric"]],
            f"{r['level_a']} vs {r['level_b']}",
            r["seeds"],
            r["blocks"],
            " / ".join(pct(r[c]) for c in ("a_wins", "b_wins", "ties")),
            _signed_interval(r["score_median"], r["score_lo"], r["score_hi"]),
            _signed(r["effect_size"]),
            _p(r["p_value"]),
            _p(r["p_holm"]),
            effect_text(e["metric"], e["estimate"], e["lo"], e["hi"]),
            verdict(r, e),
        ]
        for r, e in zip(paired.to_dict("records"), effects)
    ]
    return [
        "## Paired comparisons",
        "",
        "Two levels of a factor compared seed by seed (see above; n = seeds). A level with a sub-axis "
        "of its own enters at its best sub-level, chosen on the selection seeds, and is tested on the "
        "evaluation seeds ([paired_tests.csv](paired_tests.csv)). The effect and the verdict against "
        "the practical margin are those of the Answer ([effects.csv](effects.csv)): a significant "
        "test alone names no winner.",
        "",
        markdown_table(
            [
                "factor",
                "metric",
                "levels",
                "seeds",
                "blocks",
                "blocks won first / second / tied",
                f"net win share per seed, median [{_ci_label()}]",
                "effect r",
                "p",
                "p (Holm)",
                f"effect first vs second [{_ci_label()}]",
                "verdict",
            ],
            rows,
        ),
        "",
    ]


def _lr_range(low, high):
    if missing(low):
        return "–"
    return f"{low:g}" if low == high else f"{low:g} – {high:g}"


def _lr_section(tables, target, margins):
    if tables.lr_ranges is None:
        return []
    outcome = ["reached ε", f"epochs to ε, median [{_ci_label()}]"] if target else [f"test acc, mean [{_ci_label()}]"]
    rows = [
        [
            r["optimizer"],
            f"{r['best_lr']:g}",
            *(
                [pct(r["success_rate"]), epochs_interval(r["epochs_median"], r["epochs_lo"], r["epochs_hi"])]
                if target
                else [_mean_ci(r["test_acc_mean"], r["test_acc_lo"], r["test_acc_hi"])]
            ),
            _lr_range(r["good_lr_min"], r["good_lr_max"]),
            r["good_levels"],
            num(r["decades"], 2),
        ]
        for r in tables.lr_ranges.to_dict("records")
    ]
    return [
        "## Learning-rate sensitivity",
        "",
        "Per optimizer, pooled over the other factors: the best lr under the rule for best, chosen on "
        "the selection seeds, with its outcomes on the evaluation seeds, and the good range, the lrs "
        "within the practical margin of the best on the evaluation seeds ("
        + (
            f"a success rate at least {percent(GOOD)} of the best's and a median epochs to ε at most "
            f"{1 + margins[EPOCHS_TO_TARGET]:g}× the best's"
            if target
            else f"a mean test accuracy at most {100 * margins[TEST_ACC]:g} points below the best's"
        )
        + "); its width is in decades (powers of ten) "
        "([lr_sensitivity.csv](lr_sensitivity.csv), [lr_ranges.csv](lr_ranges.csv)).",
        "",
        markdown_table(["optimizer", "best lr", *outcome, "good range", "good levels", "decades"], rows),
        "",
    ]


def _figures_section(figures, target):
    lines = ["## Figures", ""]
    for key, (title, caption) in captions(figures.hue, figures.facet, target).items():
        lines += [f"### {title}", ""]
        if key in figures.drawn:
            fact = figures.facts.get(key, "")
            lines += [f"![{title}]({figures.drawn[key]})", "", f"{caption} {fact}".strip(), ""]
        else:
            lines += [f"*Not drawn: {figures.skipped[key]}.*", ""]
    return lines


def _spec_section(manifest):
    if "spec_text" not in manifest:
        return []
    lines = [
        "## Experiment file",
        "",
        "<details><summary>" + manifest.get("spec", "experiment file") + "</summary>",
        "",
        "```toml",
        manifest["spec_text"].rstrip(),
        "```",
        "",
        "</details>",
        "",
    ]
    versions = manifest.get("versions")
    if versions:
        lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    return lines


def _footer(results):
    source = results.source
    return [
        "---",
        "",
        f"Read `{source['file']}` ({source['bytes']} bytes, sha256 `{source['sha256']}`)." if source else "",
        "",
    ]


def write_report(results, tables, figures, path, margins=None):
    """Write the report at path and return path."""
    target = has_target(results.runs)
    lines = [f"# Results: {results.experiment}", "", _experiment(results), ""]
    margins = MARGINS | (margins or {})
    lines += answer_section(results, tables, margins)
    notes = results.notes + [f"Figure not drawn ({FIGURES[k]}): {why}." for k, why in figures.skipped.items()]
    if notes:
        lines += ["**Notes**", "", *(f"- {n}" for n in notes), ""]
    lines += _methods(results, margins, tables.cost)
    lines += tuning_section(results.path, figures.drawn.get("tuning"))
    lines += _summary_section(results, tables, target)
    lines += _costs_section(results, tables)
    lines += _settings_section(tables)
    lines += _effects_section(results, tables, target)
    lines += _paired_section(tables, target)
    lines += _lr_section(tables, target, margins)
    lines += _figures_section(figures, target)
    lines += _spec_section(results.manifest)
    lines += _footer(results)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _verdicts(effects, metric, verb):
    """One printed line of the levels better by more than the margin on a metric, or None."""
    winners = effects[(effects["verdict"] == BETTER) & (effects["metric"] == metric)]
    if not len(winners):
        return None
    wins = ", ".join(
        f"{r['better']} > {r['level_a'] if r['better'] == r['level_b'] else r['level_b']}"
        for r in winners.to_dict("records")
    )
    return f"  {verb} (per seed, by more than the margin): {wins}"


def text_summary(results, tables, figures, report_path):
    """A few lines for the terminal: what was read, who wins, where the report is."""
    runs = results.runs
    target = has_target(runs)
    reached = f"{runs[CONVERGED].mean():.0%} reached ε, " if target else "no target ε, "
    lines = [
        f"{results.experiment}: {_count(len(runs), 'run')}, "
        f"{_count(runs['config'].nunique(), 'configuration')}, {reached}{int(runs[DIVERGED].sum())} diverged"
    ]
    lines += [f"note: {n}" for n in results.notes]
    # Without a target loss every run trains to the end: test accuracy says more.
    for factor, rows in tables.main_effects.groupby("factor", sort=False):
        levels = ", ".join(
            f"{r['level']} " + (pct(r["success_rate"]) if target else f"{r['test_acc_mean']:.3f}")
            for r in rows.to_dict("records")
        )
        lines.append(f"  {factor}: {'reached ε' if target else 'test accuracy'} {levels}")
    for metric, verb in (
        (EPOCHS_TO_TARGET, "faster to ε"),
        (TEST_ACC, "higher test accuracy"),
        (TRAIN_LOSS, "lower final train loss"),
    ):
        line = _verdicts(tables.effects, metric, verb)
        if line:
            lines.append(line)
    if tables.lr_ranges is not None:
        lines.append(
            "  best lr (chosen on the selection seeds): "
            + ", ".join(f"{r['optimizer']} {r['best_lr']:g}" for r in tables.lr_ranges.to_dict("records"))
        )
    order = ranked(tables.summary.drop(columns="rank"))
    best = order.iloc[0]
    levels = ", ".join(f"{f} {best[f]}" for f in results.factors)
    outcome = (
        f"reached ε {pct(best['success_rate'])}, median epochs "
        f"{epochs_interval(best['epochs_median'], best['epochs_lo'], best['epochs_hi'])}"
        + ("" if tables.cost == "epochs" else f", median {UNITS[tables.cost]} {_cost(best, tables.cost)}")
        if target
        else f"test accuracy {_mean_ci(best['test_acc_mean'], best['test_acc_lo'], best['test_acc_hi'])}"
    )
    tied = order[order["rank"] == 1]["config"].iloc[1:].astype(int).tolist()
    ties = f"; tied with config{'s' if len(tied) > 1 else ''} {', '.join(map(str, tied))}" if tied else ""
    lines.append(f"  best: config {int(best['config'])}" + (f" ({levels})" if levels else "") + f": {outcome}{ties}")
    lines.append(f"wrote {len(tables.files())} tables, {len(figures.drawn)} figures and {report_path}")
    return "\n".join(lines)
