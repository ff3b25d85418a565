"""Hypothesis strategies the fuzz tests share: TOML values, a TOML writer for
parsed documents, and random mutations of a nested document (keys dropped,
renamed or retyped, values out of range, tables broken)."""

import copy
import datetime
import math

from hypothesis import strategies as st

from engine import options
from engine.sweep import search, spec

# Keys a mutation renames to: the file format's own (a key in the wrong place),
# their aliases and typos, and arbitrary text.
KNOWN_KEYS = sorted(
    {
        *spec.TOP_KEYS,
        *spec.DATA_DEFAULTS,
        *spec.MARGIN_KEYS,
        *options.TRAIN_DEFAULTS,
        *options.ALIASES,
        *search.KEYS,
        *options.OPTIMIZERS,
        "regularization",
        "none",
        "config",
        "seed",
        "epoch",
        "test_acc",
        "optimiser",
    }
)
# Numbers at and beyond the edges of every range: signs, zero, one, the
# int64 and float limits, integers no float holds, nan and inf.
EDGE_NUMBERS = [
    -1,
    0,
    1,
    2,
    -0.0,
    0.5,
    1.0,
    1e-320,
    1e308,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    10**30,
    10**400,
    math.inf,
    -math.inf,
    math.nan,
]

scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["full", "log", "uniform", "ert", "val_loss", *options.OPTIMIZERS, *options.ACTIVATIONS]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)


def toml_text(doc):
    """A document (as tomllib returns it) written back as TOML: every table inline."""
    return "".join(f"{_key(key)} = {_value(value)}\n" for key, value in doc.items())


def _key(key):
    return _string(key)


def _string(text):
    # TOML basic strings: escape quotes, backslashes and every non-printable character
    out = []
    for char in text:
        if char in '"\\' or not char.isprintable():
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # repr: inf, -inf, 1e+300 are TOML too
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def paths(doc, prefix=()):
    """Every (path, value) of a nested document, tables and lists included."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    for key, value in items:
        yield prefix + (key,), value
        if isinstance(value, dict | list):
            yield from paths(value, prefix + (key,))


def _parent(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated(draw, docs, most=3):
    """A copy of one of `docs` with 1..most mutations; returns (doc, what was done)."""
    doc = copy.deepcopy(draw(st.sampled_from(docs)))
    done = []
    for _ in range(draw(st.integers(1, most))):
        found = list(paths(doc))
        if not found:
            break
        path, _ = draw(st.sampled_from(found))
        parent, key = _parent(doc, path), path[-1]
        kind = draw(st.sampled_from(["drop", "rename", "retype", "edge"]))
        if kind == "drop":
            del parent[key]
        elif kind == "rename" and isinstance(parent, dict):
            new = draw(keys)
            parent[new] = parent.pop(key)
        elif kind == "edge":
            parent[key] = draw(st.sampled_from(EDGE_NUMBERS) | st.sampled_from(["", "full", {}, [], [[]]]))
        else:
            parent[key] = draw(values)
        done.append((kind, path))
    return doc, done
