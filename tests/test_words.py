"""The report in the lecture's language (engine.analysis.words, ja.py): every
template has a Japanese entry with the same placeholders, a Japanese analysis
writes the lecture's words and no English sentence, its figures miss no glyph,
and English stays byte for byte what it was."""

import ast
import io
import json
import re
import string
import warnings
from pathlib import Path

import pytest
from results_fixture import make_results
from test_costs import _rows

from engine.analysis import words
from engine.analysis.analyze import analyze
from engine.analysis.ja import JA
from engine.cli import main
from engine.schema import FIGURES
from engine.sweep import spec

ANALYSIS = Path(words.__file__).parent
GOLDEN = Path(__file__).parent / "golden"
# The hand-made results of tests/test_report.py: every section and figure but tuning between them.
SCENARIOS = {
    "full": dict(seeds=[0, 1]),
    "lr_partial": dict(factors=("optimizer", "lr"), seeds=[0, 1], params=False, drop=[(3, 0), (3, 1)]),
    "single": dict(factors=(), seeds=[0, 1, 2]),
}
# Four English words in a row: a sentence or a phrase left untranslated. Names
# (factors, levels, files) stand alone or in lists, which commas break.
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'-]*(?: +[A-Za-z][A-Za-z'-]*){3,}")
# The lecture's words for what the report talks about (docs/lecture.md).
LECTURE = ("重み", "閾値", "学習率", "誤差", "活性化関数", "初期値", "エポック", "隠れ層", "過学習")


def templates():
    """The literal first arguments of every tr(...) and Text(...) call in
    engine/analysis (both branches of a conditional expression)."""

    def literals(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return literals(node.body) + literals(node.orelse)
        return []

    found = set()
    for path in ANALYSIS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("tr", "Text") and node.args:
                found.update(literals(node.args[0]))
    return found


def strings_in_code():
    """Every string constant of engine/analysis but the catalogue itself, and
    of engine/schema.py (a column name shown as a table header)."""
    return {
        node.value
        for path in [*ANALYSIS.glob("*.py"), ANALYSIS.parent / "schema.py"]
        if path.name != "ja.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def placeholders(template):
    return sorted({field for _, field, _, _ in string.Formatter().parse(template) if field is not None})


def english_phrases(markdown, description=""):
    """The English phrases of report.md's prose: not in code, the experiment
    file, link targets or the experiment's description (the user's words)."""
    markdown = re.sub(r"<details>.*?</details>", "", markdown.replace(description, ""), flags=re.S)
    markdown = re.sub(r"`[^`]*`", "", markdown)
    return ENGLISH.findall(re.sub(r"\]\([^)]*\)", "]", markdown))


def test_every_template_has_a_japanese_entry_with_the_same_placeholders():
    used = templates()
    assert len(used) > 200
    assert sorted(used - set(JA)) == []
    for english, japanese in JA.items():
        assert japanese.strip() or english.strip() == "", english
        assert placeholders(english) == placeholders(japanese), english


def test_every_catalogue_entry_is_text_the_code_has():
    # Keys reached through a variable (a verdict, a unit, a setting's label) are constants of the code.
    assert sorted(set(JA) - strings_in_code()) == []


def test_the_methods_templates_have_the_same_placeholders():
    english = (ANALYSIS / "report_methods.md").read_text(encoding="utf-8")
    japanese = (ANALYSIS / "report_methods.ja.md").read_text(encoding="utf-8")
    assert placeholders(english) == placeholders(japanese)


def test_tr_fills_in_the_language_of_the_context():
    assert words.tr("{n} seeds", n=3) == "3 seeds"
    with words.language("ja"):
        assert words.tr("{n} seeds", n=3) == "シード 3 個"
        assert words.tr("never") == "未到達"
    assert words.tr("never") == "never"  # English again after the context


@pytest.fixture(scope="module", params=list(SCENARIOS))
def both(request, tmp_path_factory):
    """(scenario, English report, Japanese report, its folder) of one scenario."""
    reports = {}
    for lang in ("en", "ja"):
        root = tmp_path_factory.mktemp(f"{request.param}_{lang}")
        make_results(root, **SCENARIOS[request.param])
        with warnings.catch_warnings():
            warnings.filterwarnings("error", "Glyph")  # a missing glyph warns; in the forked drawing process too
            reports[lang] = analyze(root, quiet=True, lang=lang).read_text(encoding="utf-8")
    return request.param, reports["en"], reports["ja"], root


def test_english_is_the_report_before_the_catalogue(both):
    """The golden files are report.md of each scenario written by the code
    before engine.analysis.words existed (main at ee9cd8b), written again where
    the English changed on purpose since (lr_partial: the "reaches ε" column;
    full: a cell learns only if it also gets half-way from a guess to every image right)."""
    scenario, english, _, _ = both
    assert english == (GOLDEN / f"{scenario}.md").read_text(encoding="utf-8")


def test_japanese_report_speaks_the_lecture_and_no_english(both):
    scenario, english, japanese, root = both
    assert english_phrases(english)  # the check finds English where there is some
    assert english_phrases(japanese) == []
    assert japanese.startswith("# 結果: demo\n")
    if scenario == "full":
        assert [word for word in LECTURE if word not in japanese] == []
        assert "## 答え" in japanese and "## 対応のある比較" in japanese
    for name in FIGURES.values():  # the same figures, the same links
        assert (f"]({name})" in japanese) == (f"]({name})" in english)
        assert (f"]({name})" in japanese) == (root / name).is_file()


@pytest.mark.slow  # a sweep and its analysis: 6-13 s, kept out of make test-fast
def test_japanese_file_setting_and_a_cost_unit(tmp_path):
    """[analysis] lang = "ja" in the experiment file (the manifest's copy),
    with a batch-size axis: the cost paragraphs and the trend test in Japanese."""
    from results_fixture import write_runs

    write_runs(tmp_path, _rows())
    text = '[analysis]\ncost = "updates"\nlang = "ja"\n'
    (tmp_path / "manifest.json").write_text(json.dumps({"spec_text": text}), encoding="utf-8")
    japanese = analyze(tmp_path, quiet=True).read_text(encoding="utf-8")
    assert "**コスト**: 順位はε までの更新回数（grad_evals）で数える。" in japanese
    assert "Page の傾向検定" in japanese
    assert english_phrases(japanese) == []
    english = analyze(tmp_path, quiet=True, lang="en").read_text(encoding="utf-8")  # the flag wins
    assert "**Cost**: the ranking counts updates (grad_evals) to ε;" in english


def test_figures_draw_japanese_text_with_the_japanese_font(tmp_path):
    from matplotlib import rc_context
    from matplotlib.text import Text

    from engine.analysis.figures import plot_success_heatmap
    from engine.analysis.load import load_results

    runs = load_results(make_results(tmp_path, seeds=[0, 1])).runs
    with words.language("ja"), rc_context(words.font_rc()):
        fig = plot_success_heatmap(runs)
        texts = fig.findobj(Text)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", "Glyph")
            fig.savefig(io.BytesIO(), format="png")  # Agg draws every glyph
    shown = " ".join(t.get_text() for t in texts)
    assert "成功率" in shown and "死んだユニット" in shown
    assert {t.get_fontname() for t in texts if re.search("[぀-ヿ一-鿿]", t.get_text())} == {"IPAexGothic"}


def test_without_the_japanese_font_a_glyph_is_missing(tmp_path):
    """The warnings the Japanese figures are checked for do come: the same
    figure without the font warns of missing glyphs."""
    from engine.analysis.figures import plot_success_heatmap
    from engine.analysis.load import load_results

    runs = load_results(make_results(tmp_path, seeds=[0, 1])).runs
    with words.language("ja"), pytest.warns(UserWarning, match="Glyph .* missing"):
        plot_success_heatmap(runs).savefig(io.BytesIO(), format="png")


def test_english_figures_keep_their_font():
    assert words.font_rc() == {}
    with words.language("ja"):
        assert words.font_rc()["font.family"][0] == "IPAexGothic"


def test_a_bad_lang_flag_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(ValueError, match=re.escape('lang: must be one of "en", "ja", got \'fr\'')):
        analyze(tmp_path, lang="fr")
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", str(tmp_path), "--lang", "fr"])
    assert exit_.value.code == 2 and "--lang: invalid choice: 'fr' (choose from" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tuned_sweep_analysed_in_japanese(tmp_path):
    """The tuning section and figure too: a sweep of tests/tune_tiny.toml."""
    from engine.sweep.tune import tune_and_sweep

    out = tmp_path / "out"
    tune_and_sweep(spec.load(Path(__file__).parent / "tune_tiny.toml"), out, quiet=True, chunk_runs=16)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "Glyph")
        japanese = analyze(out, quiet=True, lang="ja").read_text(encoding="utf-8")
    assert "## チューニング" in japanese and (out / FIGURES["tuning"]).is_file()
    assert english_phrases(japanese, spec.load(Path(__file__).parent / "tune_tiny.toml").description) == []
