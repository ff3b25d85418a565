"""engine.analysis.report: report.md links only files that exist, shows every drawn
figure, says why the others are missing, and renders as Markdown tables."""

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest
from results_fixture import make_results

from engine.analysis import report
from engine.analysis.analyze import analyze
from engine.analysis.format import epochs_interval, markdown_table, p_value
from engine.schema import FIGURES

LINK = re.compile(r"\]\(([^)\s]+)\)")


SCENARIOS = {
    "full": dict(seeds=[0, 1]),
    # An lr axis, no params.csv, two runs missing.
    "lr_partial": dict(factors=("optimizer", "lr"), seeds=[0, 1], params=False, drop=[(3, 0), (3, 1)]),
    "single": dict(factors=(), seeds=[0, 1, 2]),  # one configuration, nothing to compare
}
# Text each report must hold (True) or must not hold (False).
EXPECTED = {
    "full": {
        "\n## Main effects": True,
        "\n## Paired comparisons": True,
        "\n## Learning-rate": False,
        "Not drawn: the experiment has no learning-rate axis.": True,
    },
    "lr_partial": {
        "\n## Learning-rate sensitivity": True,
        "Not drawn: params.csv is missing.": True,
        "Partial sweep: runs.csv has 22 of 24 expected runs. Missing: config 3 (all seeds).": True,
    },
    "single": {
        "No factor varies.": True,
        "\n## Main effects": False,
        "\n## Paired comparisons": False,
        "Not drawn: the experiment varies neither init nor activation.": True,
    },
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def analysed(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    make_results(root, **SCENARIOS[request.param])
    report = analyze(root, quiet=True)
    return request.param, root, report.read_text(encoding="utf-8")


def test_report_links_only_existing_files(analysed):
    _, root, text = analysed
    links = LINK.findall(text)
    assert "summary.csv" in links and "learning_curves.png" in links
    for link in links:
        assert (root / link).is_file(), link


def test_every_figure_shown_or_explained(analysed):
    _, root, text = analysed
    for key, name in FIGURES.items():
        if key == "tuning":  # drawn only for a [tune] section (test_tune)
            continue
        if (root / name).is_file():
            assert f"]({name})" in text, name
        else:
            assert f"Figure not drawn ({name})" in text, name


def test_report_content(analysed):
    scenario, _, text = analysed
    assert text.startswith("# Results: demo\n")
    assert "\n## Best configurations" in text and "\n## Figures" in text
    assert "```toml" in text and "</details>" in text
    for snippet, present in EXPECTED[scenario].items():
        assert (snippet in text) == present, snippet


def test_markdown_table_escapes_pipes():
    assert markdown_table(["a", "b"], [["x|y", 1]]) == "| a | b |\n| --- | --- |\n| x\\|y | 1 |"


def test_censored_epochs_read_never():
    assert epochs_interval(30.0, 10.0, float("nan")) == "30 [10, never]"


# ---------------------------------------------------------------- issue 11: reading the report


@pytest.mark.parametrize(
    "p, alpha, shown",
    [
        (0.0497, 0.05, "0.0497"),
        (0.0501, 0.05, "0.0501"),
        (0.05, 0.05, "0.05"),
        (0.12345, 0.05, "0.12"),
        (0.0449, 0.05, "0.045"),
        (0.0004, 0.05, "<0.001"),
        (0.0099, 0.01, "0.0099"),
        (float("nan"), 0.05, "–"),
    ],
)
def test_p_values_never_round_across_alpha(p, alpha, shown):
    assert p_value(p, alpha) == shown
    if shown[0].isdigit():
        assert (float(shown) < alpha) == (p < alpha)


def _manifest(root, **changes):
    path = root / "manifest.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | changes))


def test_description_ends_its_sentence(tmp_path):
    make_results(tmp_path, factors=("optimizer",), seeds=[0, 1])
    _manifest(tmp_path, description="Which optimizer trains best with regularization")
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert "with regularization. The 12-3-2 network" in text


def test_runs_without_target_say_so(tmp_path, capsys):
    make_results(tmp_path, factors=("optimizer", "activation"), seeds=[0, 1, 2])
    runs = pd.read_csv(tmp_path / "runs.csv")
    runs["target_loss"], runs["converged"], runs["epochs_to_target"] = np.nan, False, np.nan
    runs.to_csv(tmp_path / "runs.csv", index=False)
    text = analyze(tmp_path).read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    for shown in (text, printed):
        assert "reached ε" not in shown and not re.search(r"\bnever\b", shown)
    assert "no target ε" in printed and "test accuracy" in printed
    assert "no target loss ε" in text and "final train loss" in text


def test_footer_records_the_runs_file(tmp_path):
    make_results(tmp_path, factors=("optimizer",), seeds=[0])
    data = (tmp_path / "runs.csv").read_bytes()
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert f"Read `runs.csv` ({len(data)} bytes, sha256 `{hashlib.sha256(data).hexdigest()}`)" in text


def test_curve_captions_follow_the_experiments_factors(tmp_path):
    # The init experiment (init × activation, one optimizer): curves by init.
    make_results(tmp_path, factors=("init", "activation"), seeds=[0, 1])
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert (
        "Median training loss per init (line) with the middle half of the runs (band), one panel per activation" in text
    )


def test_report_text_follows_the_constants(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "ALPHA", 0.01)
    monkeypatch.setattr(report, "LEVEL", 0.9)
    monkeypatch.setattr(report, "GOOD", 0.8)
    make_results(tmp_path, factors=("optimizer", "lr"), seeds=[0, 1])
    text = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert "Holm-adjusted p < 0.01" in text and "Intervals** are 90 %" in text
    assert "at least 80 % of the best's" in text
    methods = text.split("## How the numbers were computed")[1].split("## Best configurations")[0]
    assert "0.05" not in methods and "95" not in methods
