"""`analyze`: a results folder in, its tables, figures and report.md out."""

import os
import tomllib
from dataclasses import replace
from pathlib import Path

from ..schema import CONVERGED, REPORT, TEST_ACC, TRAIN_ACC, TRAIN_LOSS
from ..sweep import spec
from .costs import cost_table
from .effects import effects_table
from .figures import REGULARIZERS, draw_figures, plan_figures
from .load import load_results, read_curves
from .report import report_parts, text_summary, write_report
from .stats import has_target
from .tables import compute_tables, lr_tables
from .trends import trend_table
from .words import language


def parse_run(run):
    """'CONFIG:SEED' (or a (config, seed) pair) -> (int, int)."""
    if isinstance(run, str):
        parts = run.split(":")
        if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise ValueError(f"run: expected CONFIG:SEED such as 3:0, got {run!r}")
        return int(parts[0]), int(parts[1])
    config, seed = run
    return int(config), int(seed)


def analysis_options(manifest):
    """(margins, cost unit, language): what the experiment file sets under [analysis]
    (its copy in the manifest), checked as the sweep checks them; the
    defaults where it sets nothing."""
    text = manifest.get("spec_text")
    try:
        table = tomllib.loads(text).get("analysis", {}) if text else {}
        return spec.margins(table), spec.cost_unit(table), spec.report_language(table)
    except ValueError as e:
        raise ValueError(f"{manifest.get('spec', 'experiment file')}: {e}") from None


def analyze(
    path: str | os.PathLike, *, run: str | tuple[int, int] | None = None, quiet: bool = False, lang: str | None = None
) -> Path:
    """Analyse a results folder and write tables, figures and report.md into it.

    Parameters
    ----------
    path : str or Path
        A results folder (runs, curves and params tables, manifest.json).
    run : str or (int, int), optional
        The run whose learned hidden units are drawn, 'CONFIG:SEED' or a pair
        (default: the best run).
    quiet : bool
        Print no summary.
    lang : str, optional
        The language of report.md and the figures, "en" or "ja" (default:
        the experiment file's `[analysis] lang`, else "en"). The printed
        summary and the CSV tables stay English.

    Returns
    -------
    Path
        The report.md written.
    """
    if lang is not None:
        spec.check_language(lang)  # before the folder is read
    # Only what the figures draw: the training loss of the curves, one run's weights.
    results = load_results(path, curve_columns=[TRAIN_LOSS], weights=False)
    if any(f in REGULARIZERS for f in results.factors):  # the regularisation figure's gap over the epochs
        results.curves = read_curves(results.path, [TRAIN_LOSS, TRAIN_ACC, TEST_ACC])
    if run is not None:
        run = parse_run(run)
        if not ((results.runs["config"] == run[0]) & (results.runs["seed"] == run[1])).any():
            raise ValueError(f"run: no run with config {run[0]} and seed {run[1]} in {results.path / 'runs.csv'}")
    chosen, cost, file_lang = analysis_options(results.manifest)
    with language(file_lang if lang is None else lang):
        tables, figures, report_path = _analyze(results, run, chosen, cost)
    if not quiet:  # in English, as the CSV tables
        print(text_summary(results, tables, figures, report_path))
    return report_path


def _analyze(results, run, chosen, cost):
    runs, factors = results.runs, results.factors
    lr = lr_tables(results, chosen)  # the one table a figure draws
    figures, tasks = plan_figures(results, *lr, run)

    def tables_written():  # and the report but its figures' facts, while a second process draws
        tables = compute_tables(results, chosen, cost, lr=lr)
        tables = replace(
            tables,
            effects=effects_table(runs, factors, chosen),
            trends=trend_table(runs, factors),
            costs=cost_table(runs, factors, tables.summary) if has_target(runs) and runs[CONVERGED].any() else None,
        )
        for name, table in tables.files().items():
            table.to_csv(results.path / name, index=False, float_format="%.6g")
        return tables, report_parts(results, tables, figures, chosen)

    tables, parts = draw_figures(figures, tasks, results.path, meanwhile=tables_written)
    return tables, figures, write_report(results, figures, results.path / REPORT, parts)
