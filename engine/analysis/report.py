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
from .words import methods_template, say, tr

METHODS = Path(__file__).with_name("report_methods.md")
TOP = 10  # configurations shown in the report; summary.csv has them all


def captions(hue, facet, target):
    """Figure key -> (title, caption), naming the factors the curve figures follow."""
    by = tr("per {hue}", hue=hue) if hue else tr("over all runs")
    panels = tr(", one panel per {facet}", facet=facet) if facet else ""
    return {
        "learning_curves": (
            tr("Learning curves"),
            tr(
                "Median training loss {by} (line) with the middle half of the runs (band){panels}, "
                "pooled over the other factors and seeds; ",
                by=by,
                panels=panels,
            )
            + (tr("the dashed line is ε; ") if target else "")
            + tr("both axes are logarithmic. ")
            + (
                tr("A run that stopped at ε keeps its last loss and a diverged run counts as infinite loss. ")
                if target
                else tr("A diverged run counts as infinite loss. ")
            )
            + (
                tr(
                    "Once most runs have reached ε the bands lie on ε, so the lower row shows the share of "
                    "runs not yet below ε at each epoch: runs that never reach it stay visible there."
                )
                if target
                else ""
            ),
        ),
        "epochs_ecdf": (
            tr("Epochs to ε"),
            tr(
                "The fraction of runs {by} that had reached ε by epoch k{panels} (an ECDF, as in "
                "COCO); runs that never reached ε keep a curve below 1.",
                by=by,
                panels=panels,
            ),
        ),
        "regularization": (
            tr("Overfitting and regularisation"),
            tr(
                "Final train (blue) and test (orange) error rate (1 − accuracy, in %) per regularisation "
                "level, one dot per seed (the mean of its runs) and a bar at the median seed; the axis is "
                "linear up to {linear} % and logarithmic above, so seeds near 0 % and a failed "
                "seed near 50 % both show. The gap between train and test is overfitting, which "
                "regularisation should narrow.",
                linear=f"{ERROR_LINEAR:g}",
            ),
        ),
        "success_heatmap": (
            tr("Success by init × activation"),
            tr(
                "Share of runs that reached ε in each init × activation cell, with the mean "
                "number of dead hidden units (constant on every training input) per run. The "
                "best cell follows the rule for best (success rate, then median epochs to ε, "
                "then test accuracy; ties named)."
            ),
        ),
        "hidden_units": (
            tr("Learned hidden units"),
            tr(
                "Each hidden unit's 12 incoming weights drawn as a 4×3 image beside the C and T "
                "glyphs (white = ink; red = positive weight), with its threshold θ and its "
                "weights to the C and T outputs."
            ),
        ),
        "init_activations": (
            tr("Hidden activations at initialisation"),
            tr(
                "Histograms of each hidden layer's outputs h on the training inputs at the initial "
                "weights, over the runs' seeds (the first {seeds} at most, fewer where one layer's "
                "outputs would pass {values} numbers): one row per init × activation, one column "
                "per hidden layer, as Saito's book shows for Xavier and He (figs. 6-10 to 6-14). Values "
                "piled at a bound (or at 0 for ReLU, given as a share and left out of the bars) pass no "
                "gradient back; a spread that shrinks layer by layer vanishes before the output.",
                seeds=INIT_SEEDS,
                values=f"{INIT_VALUES:,}",
            ),
        ),
        "lr_sensitivity": (
            tr("Learning-rate sensitivity"),
            tr(
                "Success rate and median training loss at stop against the learning rate per "
                "optimizer on the evaluation seeds; a star marks the best lr (chosen on the "
                "selection seeds), filled markers the good range (within the practical margin of the "
                "best: see the learning-rate section)."
            ),
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
    return tr("{level} CI", level=percent(LEVEL).replace(" %", "%"))


def outcome_header(target):
    """Column names of `outcome_cells`: without a target ε no "reached ε"
    column and no epochs to ε, and the final loss is the loss after the budget."""
    loss = tr("train loss at stop, median (IQR)") if target else tr("final train loss, median (IQR)")
    return [
        tr("runs"),
        *([tr("reached ε")] if target else []),
        tr(DIVERGED),
        *([tr("epochs to ε, median [{ci}]", ci=_ci_label())] if target else []),
        loss,
        tr("test loss, median (IQR)"),
        tr("test acc, mean [{ci}]", ci=_ci_label()),
        tr("dead units"),
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
    return text if text.endswith((".", "?", "!", ":", "。")) else text + tr(".")


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
        return tr("the data in `{file}`", file=data["file"])
    return tr("scikit-learn's 8×8 digits") if data.get("set") == "digits" else tr("the C/T images")


def _experiment(results):
    runs, m, layout = results.runs, results.manifest, results.layout
    seeds = m.get("seeds", sorted(runs["seed"].unique()))
    lines = [_sentence(m["description"])] if m.get("description") else []
    d = m.get("data", {})
    levels = m.get("layout", {}).get("hidden", [None])
    hidden = hidden_label(layout.hidden) if len(levels) == 1 else "H"  # H: a factor (the hidden column)
    configs, n_seeds = m.get("n_configs", runs["config"].nunique()), len(seeds)
    lines.append(
        tr(
            "The {n_in}-{hidden}-{n_out} network on {data}: {runs} of {total} runs ({configs} × {seeds}).",
            n_in=layout.n_in,
            hidden=hidden,
            n_out=layout.n_out,
            data=_data_name(d),
            runs=len(runs),
            total=m.get("n_runs", len(runs)),
            configs=tr("{n} configuration" if configs == 1 else "{n} configurations", n=configs),
            seeds=tr("{n} seed" if n_seeds == 1 else "{n} seeds", n=n_seeds),
        )
    )
    factors = tr("; ").join(f"**{f}** ({', '.join(map(str, runs[f].cat.categories))})" for f in results.factors)
    lines.append(tr("Factors: {factors}.", factors=factors) if factors else tr("No factor varies."))
    facts = []
    for column, label in FIXED:
        values = runs[column].dropna().unique() if column in runs and column not in results.factors else []
        if len(values) == 1:
            facts.append(f"{tr(label)} {values[0]}")
    if not has_target(runs):
        facts.append(tr("no target loss ε (every run trains for the whole budget)"))
    if d:
        ct = not d.get("file") and d.get("set") != "digits"
        noisy = tr(", pixel flips {flip}, noise {noise}", flip=d.get("flip"), noise=d.get("noise")) if ct else ""
        digest = f" (sha256 `{d['sha256'][:12]}`)" if "sha256" in d else ""
        facts.append(
            tr(
                "data: {n_train} training and {n_test} test images{noisy}, data seed {seed}{digest}",
                n_train=d.get("n_train"),
                n_test=d.get("n_test"),
                noisy=noisy,
                seed=d.get("seed"),
                digest=digest,
            )
        )
    if facts:
        lines.append(tr("Fixed settings: {facts}.", facts=tr("; ").join(facts)))
    if "spec" in m:
        lines.append(
            tr(
                "Experiment file `{spec}` (sha256 `{sha}`), given in full at the end.",
                spec=m["spec"],
                sha=str(m.get("spec_sha256", ""))[:12],
            )
        )
    return " ".join(lines)


def _seed_list(seeds):
    seeds = [int(s) for s in seeds]
    return (
        ", ".join(map(str, seeds))
        if len(seeds) <= 6
        else tr("{first}, …, {last}; {n} seeds", first=", ".join(map(str, seeds[:3])), last=seeds[-1], n=len(seeds))
    )


def _methods(results, margins, cost="epochs"):
    runs = results.runs
    target = has_target(runs)
    tuning, evaluation = split_seeds(runs)
    if target:
        ranking = tr(
            "Groups of runs are ranked by the share that reached ε, then the median epochs to ε "
            "(the median is *never* unless more than half reached ε), then mean test accuracy."
        ) + (
            ""
            if cost == "epochs"
            else tr(" Configurations count the median {unit} to ε instead of epochs.", unit=tr(UNITS[cost]))
        )
        censoring = tr(
            "Runs that never reached ε count as +∞ (*never*) like any other value, so a bound may be *never*."
        )
        blocks = tr(
            "epochs to ε count a run that never reached ε as one epoch past the budget, so two "
            "such runs tie; a pair with a diverged run's missing value is left out."
        )
        loss_name, loss_note = (
            tr("Train loss at stop"),
            tr(
                "Runs stop as soon as E < ε, so the final train loss measures how far the last step "
                "overshot ε and rewards large steps; the tables show it as *train loss at stop* and the "
                "paired tests do not compare it."
            ),
        )
        agree = tr("the success rate and the median epochs to ε")
    else:
        ranking = tr(
            "Without a target ε every run trains for the whole budget: groups are ranked by mean test accuracy."
        )
        censoring = ""
        blocks = tr("a pair with a diverged run's missing value is left out.")
        loss_name, loss_note = (
            tr("Final train loss"),
            tr(
                "Every run trains for the same budget, so the final train loss is the loss after a "
                "fixed number of epochs, and the paired tests compare it."
            ),
        )
        agree = tr("the other criteria")
    text = methods_template(METHODS).format(
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
        margins=tr("; ").join(margin_text(m, margins[m]) for m in paired_metrics(runs)),
    )
    # The template wraps its bullets; one line per bullet reads the same and diffs better.
    lines = [re.sub(r"\n +", " ", text).replace("  ", " ").rstrip()]
    if target and runs[CONVERGED].any():
        lines.append(
            tr("- **Costs.** The ranking counts the cost to ε in {unit}", unit=tr(UNITS[cost]))
            + ("" if cost == "epochs" else tr(" (`[analysis] cost` in the experiment file)"))
            + tr(". The costs table gives it ")
            + (tr("also in ") if cost == "epochs" else tr("in epochs, in "))
            + tr(
                "updates (grad_evals, one per mini-batch step) and in sample-gradients (one per training image "
                "per epoch: ε is checked at the end of an epoch and every epoch passes each training image "
                "once, so epochs × n_train). With one training set, sample-gradients rank the configurations "
                "exactly as epochs do; updates rank them differently where the batch size varies."
            )
        )
    if any(is_numeric(runs, f) and runs[f].nunique() > 1 for f in results.factors):
        lines.append(
            tr(
                "- **Numeric factors** (a batch size, each optimizer's learning rates) are compared between "
                "neighbouring levels, on every seed, with the same paired test and effects as the other "
                "factors (Holm within the factor, and within each level of a factor it is nested in, × "
                "metric). With {levels} levels or more a trend test asks whether the seeds' outcomes "
                "rise or fall with the level: Page's L test (scipy.stats.page_trend_test) on each seed's "
                "ranks of the levels (the mean over its blocks), asked both ways, the smaller p doubled "
                "([trend_tests.csv](trend_tests.csv)); a trend is named where p < {alpha}.",
                levels=MIN_LEVELS,
                alpha=f"{ALPHA:g}",
            )
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
        tr("## Best configurations"),
        "",
        tr(
            "The {n} best of {total} configurations under the rule for best (see "
            "above; tied configurations share a rank), with the settings that differ between "
            "configurations. All configurations: [summary.csv](summary.csv).",
            n=len(top),
            total=len(tables.summary),
        ),
        "",
        markdown_table(
            [
                tr("rank"),
                tr("config"),
                *results.factors,
                *settings,
                *outcome_header(target),
                *(tr("{unit} to ε, median [{ci}]", unit=tr(UNITS[u]), ci=_ci_label()) for u in unit),
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
        tr("## Costs"),
        "",
        tr(
            "What reaching ε cost the {n} best configurations, median [{ci}] per unit "
            "(see the methods; empty: never). The ranking counts {unit}. All configurations: "
            "[costs.csv](costs.csv).",
            n=len(top),
            ci=_ci_label(),
            unit=tr(UNITS[tables.cost]),
        ),
        "",
        markdown_table([tr("config"), *results.factors, *(tr("{unit} to ε", unit=tr(UNITS[u])) for u in UNITS)], rows),
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
        tr("## Settings of each level"),
        "",
        tr(
            "What each level sets: the settings that differ between configurations and each optimizer's "
            "own hyperparameters."
        ),
        "",
        markdown_table([tr("factor"), tr("level"), tr("settings")], rows),
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
        tr(" Not pooled: {factor}, ", factor=f)
        + (
            tr("whose levels differ between the levels of {owners}", owners=tr(" and ").join(owners[f]))
            if owners[f]
            else tr("whose same value is a different step for each optimizer")
        )
        + (tr(" (see the learning-rate section).") if f == "lr" and tables.lr_ranges is not None else tr("."))
        for f in left_out
    )
    return [
        tr("## Main effects"),
        "",
        tr(
            "Each level of each factor, pooled over the other factors and the seeds "
            "([main_effects.csv](main_effects.csv)).{why}",
            why=why,
        ),
        "",
        markdown_table([tr("factor"), tr("level"), *outcome_header(target)], rows),
        "",
    ]


def metric_names(target):
    return {
        EPOCHS_TO_TARGET: tr("epochs to ε"),
        TEST_ACC: tr("test accuracy"),
        TRAIN_LOSS: tr("train loss at stop") if target else tr("final train loss"),
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
            return tr(SAME)
        if e["verdict"] == BETTER:
            return e["better"] + (f" ({tr(r['note'])})" if r["note"] and r["winner"] == e["better"] else "")
        return tr(e["verdict"]) + (tr(" (significant: {winner})", winner=r["winner"]) if r["winner"] else "")

    rows = [
        [
            r["factor"],
            names[r["metric"]],
            tr("{a} vs {b}", a=r["level_a"], b=r["level_b"]),
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
        tr("## Paired comparisons"),
        "",
        tr(
            "Two levels of a factor compared seed by seed (see above; n = seeds). A level with a sub-axis "
            "of its own enters at its best sub-level, chosen on the selection seeds, and is tested on the "
            "evaluation seeds ([paired_tests.csv](paired_tests.csv)). The effect and the verdict against "
            "the practical margin are those of the Answer ([effects.csv](effects.csv)): a significant "
            "test alone names no winner."
        ),
        "",
        markdown_table(
            [
                tr("factor"),
                tr("metric"),
                tr("levels"),
                tr("seeds"),
                tr("blocks"),
                tr("blocks won first / second / tied"),
                tr("net win share per seed, median [{ci}]", ci=_ci_label()),
                tr("effect r"),
                "p",
                tr("p (Holm)"),
                tr("effect first vs second [{ci}]", ci=_ci_label()),
                tr("verdict"),
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
    outcome = (
        [tr("reached ε"), tr("epochs to ε, median [{ci}]", ci=_ci_label())]
        if target
        else [tr("test acc, mean [{ci}]", ci=_ci_label())]
    )
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
            *([_lr_range(r["trains_lr_min"], r["trains_lr_max"])] if target else []),
        ]
        for r in tables.lr_ranges.to_dict("records")
    ]
    return [
        tr("## Learning-rate sensitivity"),
        "",
        tr(
            "Per optimizer, pooled over the other factors: the best lr under the rule for best, chosen on "
            "the selection seeds, with its outcomes on the evaluation seeds, and the good range, the lrs "
            "within the practical margin of the best on the evaluation seeds ({rule}); its width is in "
            "decades (powers of ten) ([lr_sensitivity.csv](lr_sensitivity.csv), [lr_ranges.csv](lr_ranges.csv))."
            "{trains}",
            rule=tr(
                "a success rate at least {good} of the best's and a median epochs to ε at most {ratio}× the best's",
                good=percent(GOOD),
                ratio=f"{1 + margins[EPOCHS_TO_TARGET]:g}",
            )
            if target
            else tr(
                "a mean test accuracy at most {points} points below the best's",
                points=f"{100 * margins[TEST_ACC]:g}",
            ),
            trains=tr(
                " The last column is the lrs that train the net, fast or slow: their runs reach ε in at least "
                "{good} of the best's share.",
                good=percent(GOOD),
            )
            if target
            else "",
        ),
        "",
        markdown_table(
            [
                tr("optimizer"),
                tr("best lr"),
                *outcome,
                tr("good range"),
                tr("good levels"),
                tr("decades"),
                *([tr("reaches ε")] if target else []),
            ],
            rows,
        ),
        "",
    ]


def _figures_section(figures, target):
    lines = [tr("## Figures"), ""]
    for key, (title, caption) in captions(figures.hue, figures.facet, target).items():
        lines += [f"### {title}", ""]
        if key in figures.drawn:
            fact = figures.facts.get(key, "")
            lines += [f"![{title}]({figures.drawn[key]})", "", f"{caption} {fact}".strip(), ""]
        else:
            lines += [tr("*Not drawn: {why}.*", why=figures.skipped[key]), ""]
    return lines


def _spec_section(manifest):
    if "spec_text" not in manifest:
        return []
    lines = [
        tr("## Experiment file"),
        "",
        "<details><summary>" + manifest.get("spec", tr("experiment file")) + "</summary>",
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
        lines += [tr("Versions: {versions}.", versions=", ".join(f"{k} {v}" for k, v in versions.items())), ""]
    return lines


def _footer(results):
    source = results.source
    return [
        "---",
        "",
        tr(
            "Read `{file}` ({bytes} bytes, sha256 `{sha}`).",
            file=source["file"],
            bytes=source["bytes"],
            sha=source["sha256"],
        )
        if source
        else "",
        "",
    ]


def write_report(results, figures, path, parts):
    """Write the report at path, report_parts around its figures section (with
    figures.facts, known once they are drawn), and return path."""
    before, after = parts
    lines = before + _figures_section(figures, has_target(results.runs)) + after
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def report_parts(results, tables, figures, margins=None):
    """The report's lines before and after its figures section: all but the
    figures' caption facts, so that they can be written while the figures are
    drawn (figures: plan_figures' plan, what is drawn and what skipped)."""
    lines = [tr("# Results: {name}", name=results.experiment), "", _experiment(results), ""]
    target = has_target(results.runs)
    margins = MARGINS | (margins or {})
    lines += answer_section(results, tables, margins)
    notes = results.notes + [
        tr("Figure not drawn ({file}): {why}.", file=FIGURES[k], why=why) for k, why in figures.skipped.items()
    ]
    if notes:
        lines += [tr("**Notes**"), "", *(f"- {say(n)}" for n in notes), ""]
    lines += _methods(results, margins, tables.cost)
    lines += tuning_section(results.path, figures.drawn.get("tuning"))
    lines += _summary_section(results, tables, target)
    lines += _costs_section(results, tables)
    lines += _settings_section(tables)
    lines += _effects_section(results, tables, target)
    lines += _paired_section(tables, target)
    lines += _lr_section(tables, target, margins)
    return lines, _spec_section(results.manifest) + _footer(results)


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
