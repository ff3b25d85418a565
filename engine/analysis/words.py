"""The language of report.md and the figures: `tr` turns an English template
into the current language's and fills it in.

The English template is the catalogue's key, as a gettext msgid is: English
output is the code's own text, so it cannot drift, and the Japanese catalogue
(engine.analysis.ja) is a plain dict that tests check (every template the code
uses has an entry with the same placeholders). gettext itself would need
compiled .mo files and a build step for the same lookup.

The language is a context variable set by `language` around one analysis, so
the many small text functions need no extra argument; the figures' drawing
process, forked from the analysing one, inherits it.
"""

import importlib.util
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ..sweep.spec import LANGS, check_language
from .ja import JA

_LANG = ContextVar("lang", default=LANGS[0])
# IPAexGothic from the matplotlib-fontja package; DejaVu Sans (matplotlib's own)
# draws what it lacks, glyph by glyph.
JA_FONTS = ["IPAexGothic", "DejaVu Sans"]


@contextmanager
def language(lang):
    """Within: the report and figures in lang ("en" or "ja")."""
    token = _LANG.set(check_language(lang))
    try:
        yield
    finally:
        _LANG.reset(token)


def tr(text, /, **values):
    """text (an English template) in the current language, with values filled
    in by str.format; without values, the text as is."""
    if _LANG.get() == "ja":
        text = JA[text]  # a KeyError here is an untranslated template (tests/test_words.py)
    return text.format(**values) if values else text


class Text(str):
    """English text, as printed, that report.md says again in its language
    (`say`): what is written before the language is known (the loader's
    notes). A value may be a Text, or a list of them (joined by "; ")."""

    def __new__(cls, template, /, **values):
        english = {key: "; ".join(value) if isinstance(value, list) else value for key, value in values.items()}
        text = super().__new__(cls, template.format(**english) if values else template)
        text.template, text.values = template, values
        return text


def say(text):
    """A Text in the current language, its values too; any other text as is."""
    if isinstance(text, list):
        return tr("; ").join(map(say, text))
    if isinstance(text, Text):
        return tr(text.template, **{key: say(value) for key, value in text.values.items()})
    return text


def methods_template(english):
    """The methods template in the current language: report_methods.md, or
    its translation report_methods.ja.md beside it."""
    path = Path(english)
    if _LANG.get() == "ja":
        path = path.with_suffix(".ja.md")
    return path.read_text(encoding="utf-8")


def font_rc():
    """matplotlib settings for the current language's figures: {} for
    English (the figures stay as they were), Japanese fonts for "ja"."""
    if _LANG.get() != "ja":
        return {}
    from matplotlib import font_manager

    # Found, not imported: importing matplotlib_fontja sets every figure's font, English ones too.
    if JA_FONTS[0] not in {font.name for font in font_manager.fontManager.ttflist}:
        package = Path(importlib.util.find_spec("matplotlib_fontja").origin).parent
        font_manager.fontManager.addfont(str(package / "fonts" / "ipaexg.ttf"))
    return {"font.family": JA_FONTS}
