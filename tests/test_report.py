"""engine.analysis.report: report.md links only files that exist, shows every drawn
figure, says why the others are missing, and renders as Markdown tables."""
import re

import pytest
from results_fixture import make_results

from engine.analysis.analyze import analyze
from engine.analysis.figures import FILES
from engine.analysis.format import epochs_interval, markdown_table

LINK = re.compile(r"\]\(([^)\s]+)\)")


SCENARIOS = {
    "full": dict(seeds=[0, 1]),
    # An lr axis, no params.csv, two runs missing.
    "lr_partial": dict(factors=("optimizer", "lr"), seeds=[0, 1], params=False, drop=[(3, 0), (3, 1)]),
    "single": dict(factors=(), seeds=[0, 1, 2]),  # one configuration, nothing to compare
}
# Text each report must hold (True) or must not hold (False).
EXPECTED = {
    "full": {"\n## Main effects": True, "\n## Paired comparisons": True, "\n## Learning-rate": False,
             "Not drawn: the experiment has no learning-rate axis.": True},
    "lr_partial": {"\n## Learning-rate sensitivity": True, "Not drawn: params.csv is missing.": True,
                   "Partial sweep: runs.csv has 22 of 24 expected runs. Missing: config 3 (all seeds).": True},
    "single": {"No factor varies.": True, "\n## Main effects": False, "\n## Paired comparisons": False,
               "Not drawn: the experiment varies neither init nor activation.": True},
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
    for key, name in FILES.items():
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
