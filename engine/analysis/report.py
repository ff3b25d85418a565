"""report.md (renders on a Git host as is) and the short printed summary."""
import numpy as np

from .figures import FILES
from .format import epochs_interval, markdown_table, missing, never, num, pct
from .stats import has_target

TOP = 10  # configurations shown in the report; summary.csv has them all
CAPTIONS = {
    "learning_curves": ("Learning curves",
                        "Median training loss per optimizer (line) with the middle half of the runs "
                        "(band), one panel per activation, pooled over the other factors and seeds; "
                        "the dashed line is ε; both axes are logarithmic. A run that stopped at ε "
                        "keeps its last loss and a diverged run counts as infinite loss, so the bands "
                        "do not hide failures."),
    "epochs_ecdf": ("Epochs to ε",
                    "The fraction of each optimizer's runs that had reached ε by epoch k (an ECDF, as "
                    "in COCO); runs that never reached ε keep a curve below 1."),
    "regularization": ("Overfitting and regularisation",
                       "Final train (blue) and test (orange) accuracy per regularisation level; the gap "
                       "between them is overfitting, which regularisation should narrow."),
    "success_heatmap": ("Success by init × activation",
                        "Share of runs that reached ε in each init × activation cell, with the mean "
                        "number of dead hidden units (constant on every training input) per run."),
    "hidden_units": ("Learned hidden units",
                     "Each hidden unit's 12 incoming weights drawn as a 4×3 image beside the C and T "
                     "glyphs (white = ink; red = positive weight), with its threshold θ and its "
                     "weights to the C and T outputs."),
    "init_activations": ("Hidden activations at initialisation",
                         "Histograms of the hidden outputs h on the training inputs at initialisation, "
                         "over all seeds, per init × activation, as Saito's book shows for Xavier and "
                         "He; values piled at a bound (or at 0 for ReLU) pass no gradient back."),
    "lr_sensitivity": ("Learning-rate sensitivity",
                       "Success rate and median final training loss against the learning rate per "
                       "optimizer; a star marks the best lr, filled markers the good range (success "
                       "rate at least 90 % of the best)."),
}


def _median_iqr(median, iqr):
    return f"{num(median)} ({num(iqr, 2)})"


def _mean_ci(mean, lo, hi):
    def one(x):
        return "–" if missing(x) else f"{x:.3f}"
    return "–" if missing(mean) else f"{one(mean)} [{one(lo)}, {one(hi)}]"


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _p(p):
    return "–" if missing(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _outcome_cells(r):
    """Table cells of one `engine.analysis.tables.describe` row (a dict)."""
    return [r["runs"], pct(r["success_rate"]), r["diverged"],
            epochs_interval(r["epochs_median"], r["epochs_lo"], r["epochs_hi"]),
            _median_iqr(r["train_loss_median"], r["train_loss_iqr"]),
            _median_iqr(r["test_loss_median"], r["test_loss_iqr"]),
            _mean_ci(r["test_acc_mean"], r["test_acc_lo"], r["test_acc_hi"]), num(r["dead_units_mean"], 2)]


OUTCOME_HEADER = ["runs", "reached ε", "diverged", "epochs to ε, median [95% CI]",
                  "train loss, median (IQR)", "test loss, median (IQR)", "test acc, mean [95% CI]",
                  "dead units"]


def ranked(summary):
    """Configurations, best first: success rate, then median epochs to ε, then test accuracy."""
    return summary.assign(_t=summary["epochs_median"].fillna(np.inf)).sort_values(
        ["success_rate", "_t", "test_acc_mean"], ascending=[False, True, False]).drop(columns="_t")


# ---------------------------------------------------------------- sections

FIXED = (("init", "init"), ("activation", "activation"), ("optimizer", "optimizer"),
         ("lr", "learning rate"), ("target_loss", "target loss ε"), ("epochs", "epoch budget"),
         ("batch_size", "batch size"), ("reduction", "loss reduction"))


def _experiment(results):
    runs, m, layout = results.runs, results.manifest, results.layout
    seeds = m.get("seeds", sorted(runs["seed"].unique()))
    lines = [m["description"]] if m.get("description") else []
    lines.append(f"The {layout.n_in}-{layout.n_hidden}-{layout.n_out} network on the C/T images: "
                 f"{len(runs)} of {m.get('n_runs', len(runs))} runs "
                 f"({_count(m.get('n_configs', runs['config'].nunique()), 'configuration')} × "
                 f"{_count(len(seeds), 'seed')}).")
    factors = "; ".join(f"**{f}** ({', '.join(map(str, runs[f].cat.categories))})" for f in results.factors)
    lines.append(f"Factors: {factors}." if factors else "No factor varies.")
    facts = []
    for column, label in FIXED:
        values = runs[column].dropna().unique() if column in runs and column not in results.factors else []
        if len(values) == 1:
            facts.append(f"{label} {values[0]}")
    if not has_target(runs):
        facts.append("no target loss ε (every run trains for the whole budget)")
    if "data" in m:
        d = m["data"]
        facts.append(f"data: {d.get('n_train')} training and {d.get('n_test')} test images, pixel "
                     f"flips {d.get('flip')}, noise {d.get('noise')}, data seed {d.get('seed')}")
    if facts:
        lines.append("Fixed settings: " + "; ".join(facts) + ".")
    if "spec" in m:
        lines.append(f"Experiment file `{m['spec']}` (sha256 `{str(m.get('spec_sha256', ''))[:12]}`), "
                     "given in full at the end.")
    return " ".join(lines)


def _summary_section(results, tables):
    top = ranked(tables.summary).head(TOP)
    rows = [[r["config"], *(r[f] for f in results.factors), *_outcome_cells(r)]
            for r in top.to_dict("records")]
    return ["## Best configurations", "",
            f"The {len(top)} best of {len(tables.summary)} configurations, ranked by the share of runs "
            "that reached ε, then the median epochs to ε (runs that never reached it count as never, so "
            "the median is *never* unless more than half did), then test accuracy. Intervals are 95 %: "
            "bootstrap for the median, t for the mean. All configurations: [summary.csv](summary.csv).", "",
            markdown_table(["config", *results.factors, *OUTCOME_HEADER], rows), ""]


def _effects_section(tables):
    if tables.main_effects.empty:
        return []
    rows = [[r["factor"], r["level"], *_outcome_cells(r)] for r in tables.main_effects.to_dict("records")]
    return ["## Main effects", "",
            "Each level of each factor, pooled over the other factors and the seeds "
            "([main_effects.csv](main_effects.csv)).", "",
            markdown_table(["factor", "level", *OUTCOME_HEADER], rows), ""]


METRIC_NAMES = {"epochs_to_target": "epochs to ε", "train_loss": "final train loss",
                "test_acc": "test accuracy"}


def _paired_section(tables):
    paired = tables.paired
    if paired.empty:
        return []
    rows = [[r["factor"], METRIC_NAMES[r["metric"]], f"{r['level_a']} vs {r['level_b']}", r["n_pairs"],
             " / ".join(pct(r[c]) for c in ("a_wins", "b_wins", "ties")), f"{r['effect_size']:+.2f}",
             _p(r["p_value"]), _p(r["p_holm"]), r["winner"] or "–"] for r in paired.to_dict("records")]
    return ["## Paired comparisons", "",
            "Two levels of a factor compared on runs that agree on every other factor and on the seed "
            "(the same initial weights): Wilcoxon signed-rank test, matched-pairs rank-biserial "
            "effect size r (+1: the first level is better in every pair that differs, −1: the second), "
            "Holm-corrected within each factor and metric; the winner is named where the corrected "
            "p < 0.05. A level with a sub-axis of its own (each optimizer's learning rates, each "
            "regulariser's strengths) enters at its best sub-level for the metric, by median, named in "
            "the table. For epochs to ε a run that never reached ε counts as one epoch past the budget; "
            "pairs with a diverged run's missing loss are left out "
            "([paired_tests.csv](paired_tests.csv)).", "",
            markdown_table(["factor", "metric", "levels", "pairs", "wins first / second / ties",
                            "effect r", "p", "p (Holm)", "winner"], rows), ""]


def _lr_section(tables):
    if tables.lr_ranges is None:
        return []
    rows = [[r["optimizer"], f"{r['best_lr']:g}", pct(r["success_rate"]), never(r["epochs_median"]),
             "–" if missing(r["good_lr_min"]) else f"{r['good_lr_min']:g} – {r['good_lr_max']:g}",
             r["good_levels"], num(r["decades"], 2)] for r in tables.lr_ranges.to_dict("records")]
    return ["## Learning-rate sensitivity", "",
            "Per optimizer, pooled over the other factors and seeds: the best lr (highest share "
            "reaching ε, then fewest epochs, then lowest final loss) and the good range, the lrs whose "
            "success rate is at least 90 % of the best; its width is in decades (powers of ten) "
            "([lr_sensitivity.csv](lr_sensitivity.csv), [lr_ranges.csv](lr_ranges.csv)).", "",
            markdown_table(["optimizer", "best lr", "reached ε", "median epochs", "good range",
                            "good levels", "decades"], rows), ""]


def _figures_section(figures):
    lines = ["## Figures", ""]
    for key, (title, caption) in CAPTIONS.items():
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
    lines = ["## Experiment file", "", "<details><summary>" + manifest.get("spec", "experiment file") +
             "</summary>", "", "```toml", manifest["spec_text"].rstrip(), "```", "", "</details>", ""]
    versions = manifest.get("versions")
    if versions:
        lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    return lines


def write_report(results, tables, figures, path):
    """Write report.md at path and return path."""
    lines = [f"# Results: {results.experiment}", "", _experiment(results), ""]
    notes = results.notes + [f"Figure not drawn ({FILES[k]}): {why}." for k, why in figures.skipped.items()]
    if notes:
        lines += ["**Notes**", "", *(f"- {n}" for n in notes), ""]
    lines += _summary_section(results, tables)
    lines += _effects_section(tables)
    lines += _paired_section(tables)
    lines += _lr_section(tables)
    lines += _figures_section(figures)
    lines += _spec_section(results.manifest)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def text_summary(results, tables, figures, report_path):
    """A few lines for the terminal: what was read, who wins, where the report is."""
    runs = results.runs
    lines = [f"{results.experiment}: {_count(len(runs), 'run')}, "
             f"{_count(runs['config'].nunique(), 'configuration')}, "
             f"{runs['converged'].mean():.0%} reached ε, {int(runs['diverged'].sum())} diverged"]
    lines += [f"note: {n}" for n in results.notes]
    # Without a target loss every run trains to the end: test accuracy says more.
    target = has_target(runs)
    for factor, rows in tables.main_effects.groupby("factor", sort=False):
        levels = ", ".join(f"{r['level']} " + (pct(r["success_rate"]) if target else f"{r['test_acc_mean']:.3f}")
                           for r in rows.to_dict("records"))
        lines.append(f"  {factor}: {'reached ε' if target else 'test accuracy'} {levels}")
    winners = tables.paired[(tables.paired["winner"] != "") & (tables.paired["metric"] == "epochs_to_target")]
    if len(winners):
        wins = ", ".join(f"{r['winner']} > {r['level_a'] if r['winner'] == r['level_b'] else r['level_b']}"
                         for r in winners.to_dict("records"))
        lines.append(f"  faster to ε (Holm p < 0.05): {wins}")
    if tables.lr_ranges is not None:
        lines.append("  best lr: " + ", ".join(f"{r['optimizer']} {r['best_lr']:g}"
                                                for r in tables.lr_ranges.to_dict("records")))
    best = ranked(tables.summary).iloc[0]
    levels = ", ".join(f"{f} {best[f]}" for f in results.factors)
    outcome = (f"reached ε {pct(best['success_rate'])}, median epochs "
               f"{epochs_interval(best['epochs_median'], best['epochs_lo'], best['epochs_hi'])}" if target else
               f"test accuracy {_mean_ci(best['test_acc_mean'], best['test_acc_lo'], best['test_acc_hi'])}")
    lines.append(f"  best: config {int(best['config'])}" + (f" ({levels})" if levels else "") + f": {outcome}")
    lines.append(f"wrote {len(tables.files())} tables, {len(figures.drawn)} figures and {report_path}")
    return "\n".join(lines)
