"""`nn47 workbook`: the network, its error E and every ∂E/∂w as live
spreadsheet formulas (.xlsx), so that changing a weight changes everything
downstream.

Sheets:
  weights  rows 2–48: slide name, w (input), ∂E/∂w (formula), w − η ∂E/∂w;
           beside them η (name `eta`), λ (name `weight_decay`), E (name `E`)
           and the settings the formulas were written for.
  p1 … pN  one per training image: its 4×3 pixels shaded, t, then x, s^H, h,
           s^O, z, e_p, δ^O, δ^H and the 47 ∂e_p/∂w, each a formula.
"""

import os
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font
from openpyxl.workbook.defined_name import DefinedName

from .. import options
from ..model.layout import Layout
from . import formulas
from .notation import derivative, roles
from .settings import SLIDE_DEFAULTS, WORKBOOK_SETTINGS

MAX_IMAGES = 256  # one sheet each; keeps the summing formulas far below Excel's 8192 characters
FIRST_ROW = 9  # of the symbol list on an image's sheet, below the pixel grid


def check(theta, pixels, T, settings):
    """(theta, pixels, T, settings) checked and filled in, or a ValueError
    naming the problem."""
    run = dict(options.TRAIN_DEFAULTS, **SLIDE_DEFAULTS)
    for key, value in settings.items():
        if key not in WORKBOOK_SETTINGS:
            raise options.unknown_key("workbook setting", key, WORKBOOK_SETTINGS)
        run[key] = options.check_setting(key, value)
    layout = Layout()
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (layout.size,):
        raise ValueError(f"theta: expected {layout.size} numbers (the slides' parameters), got shape {theta.shape}")
    bad = [name for name, value in zip(layout.names, theta) if not np.isfinite(value)]
    if bad:
        raise ValueError(f"theta: non-finite weights: {', '.join(bad)}")
    pixels, T = np.asarray(pixels, dtype=np.float64), np.asarray(T, dtype=np.float64)
    if pixels.ndim != 2 or pixels.shape[1] != layout.n_in or T.shape != (len(pixels), layout.n_out):
        raise ValueError(
            f"pixels, T: expected shapes [n, {layout.n_in}] and [n, {layout.n_out}], got {pixels.shape} and {T.shape}"
        )
    if not 1 <= len(pixels) <= MAX_IMAGES:
        raise ValueError(
            f"n_train: a workbook holds 1 to {MAX_IMAGES} training images (one sheet each), got {len(pixels)}"
        )
    if not (np.isfinite(pixels).all() and np.isfinite(T).all()):
        raise ValueError("pixels, T: must be finite")
    return theta, pixels, T, {key: run[key] for key in WORKBOOK_SETTINGS}


def workbook(out, theta, pixels, T, notes=(), tables=None, **settings):
    """Write the workbook to `out` (written whole or not at all) and return its
    Path. theta: the 47 parameters in slide order; pixels [n, 12] 0…255 (the
    sheets scale them to x = pixel/255); T [n, 2] targets; settings: those in
    WORKBOOK_SETTINGS, defaults the slides' (SLIDE_DEFAULTS); notes: lines
    saying where the weights and data came from; tables: {sheet name:
    DataFrame} added as sheets of values (nn47 trace --workbook)."""
    theta, pixels, T, run = check(theta, pixels, T, settings)
    out = Path(out)
    if not out.parent.is_dir():
        raise ValueError(f"out: folder {str(out.parent)!r} does not exist")
    book = Workbook()
    rows = None  # the same on every image's sheet
    for p in range(len(pixels)):
        rows = image_sheet(book.create_sheet(f"p{p + 1}"), p, len(pixels), pixels[p], T[p], run)
    weights_sheet(book.active, theta, len(pixels), rows, run, notes)
    for name, table in (tables or {}).items():
        sheet = book.create_sheet(name)
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # beside out, so the rename is atomic
    try:
        book.save(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return out


def weight_cell(l):
    return f"weights!$B${l + 2}"


def weight_range(first, last):
    return f"weights!$B${first + 2}:$B${last + 2}"


def image_sheet(ws, p, n, pixels, t, run):
    """Fill one image's sheet; return {symbol: row} of its symbol list."""
    layout = Layout()
    ws["A1"] = f"Training image p = {p + 1} of {n}; change a pixel or a weight and everything below follows"
    ws["A1"].font = Font(bold=True)
    ws["A2"] = "pixels 0 (black) … 255 (white), row by row into x_1 … x_12"
    for m, value in enumerate(pixels):
        ws.cell(3 + m // 3, 2 + m % 3, float(value)).font = Font(color="808080")
    ws.conditional_formatting.add(
        "B3:D6",
        ColorScaleRule(
            start_type="num", start_value=0, start_color="000000", end_type="num", end_value=255, end_color="FFFFFF"
        ),
    )
    for col, header in zip("ABC", ("symbol", "value", "formula on the slides")):
        ws[f"{col}{FIRST_ROW - 1}"] = header
        ws[f"{col}{FIRST_ROW - 1}"].font = Font(bold=True)
    rows = {}

    def add(symbol, value, text):
        row = FIRST_ROW + len(rows)
        rows[symbol] = row
        ws.cell(row, 1, symbol)
        ws.cell(row, 2, value)
        ws.cell(row, 3, text)
        return f"B{row}"

    act, act_text = run["activation"], formulas.ACTIVATION_TEXT[run["activation"]]
    x = [add(f"x_{m + 1}", f"={chr(ord('B') + m % 3)}{3 + m // 3}/255", "pixel / 255") for m in range(layout.n_in)]
    t = [add(f"t_{k + 1}", float(t[k]), "target (C: t = (1, 0), T: (0, 1))") for k in range(layout.n_out)]
    s_hid, h = [], []
    for i in range(layout.n_hidden):
        first = layout.hidden_offset + i * (layout.n_in + 1)
        theta = first + layout.n_in
        s_hid.append(
            add(
                f"s_{i + 1}^H",
                f"=SUMPRODUCT({weight_range(first, theta - 1)},{x[0]}:{x[-1]})-{weight_cell(theta)}",
                f"Σ_m w_m{i + 1}^H x_m − θ_{i + 1}^H",
            )
        )
    for i in range(layout.n_hidden):
        h.append(add(f"h_{i + 1}", "=" + formulas.activation(act, s_hid[i]), f"a(s_{i + 1}^H) = {act_text[0]}"))
    s_out = []
    for k in range(layout.n_out):
        first = k * (layout.n_hidden + 1)
        theta = first + layout.n_hidden
        s_out.append(
            add(
                f"s_{k + 1}^O",
                f"=SUMPRODUCT({weight_range(first, theta - 1)},{h[0]}:{h[-1]})-{weight_cell(theta)}",
                f"Σ_j w_j{k + 1}^O h_j − θ_{k + 1}^O",
            )
        )
    z = [
        add(f"z_{k + 1}", "=" + zk, formulas.OUTPUT_TEXT[run["output"]].replace("_k", f"_{k + 1}"))
        for k, zk in enumerate(formulas.outputs(run["output"], s_out))
    ]
    add("e_p", "=" + formulas.error(run["loss"], z, t), formulas.ERROR_TEXT[run["loss"]])
    delta_text = formulas.DELTA_TEXT[run["output"], run["loss"]]
    d_out = [
        add(
            f"δ_{k + 1}^O",
            "=" + formulas.delta_out(run["output"], run["loss"], z, t, k),
            ("∂e_p/∂s_k^O = " + delta_text).replace("_k", f"_{k + 1}"),
        )
        for k in range(layout.n_out)
    ]
    d_hid = []
    for i in range(layout.n_hidden):
        back = "+".join(f"{d_out[k]}*{weight_cell(k * (layout.n_hidden + 1) + i)}" for k in range(layout.n_out))
        d_hid.append(
            add(
                f"δ_{i + 1}^H",
                f"=({back})*({formulas.slope(act, h[i])})",
                f"Σ_k δ_k^O w_{i + 1}k^O · a'(s_{i + 1}^H), a' = {act_text[1]}",
            )
        )
    for name, (layer, unit, source) in zip(layout.names, roles(layout)):
        delta, inputs = (d_out, h) if layer == "O" else (d_hid, x)
        value = f"=-{delta[unit]}" if source is None else f"={delta[unit]}*{inputs[source]}"
        add(f"∂e_p/∂{name}", value, derivative(layer, unit, source))
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 44
    return rows


def weights_sheet(ws, theta, n, rows, run, notes):
    """The parameters, ∂E/∂w summed over the image sheets, one descent step, η, λ and E."""
    layout = Layout()
    ws.title = "weights"
    decayed = np.ones(layout.size, bool) if run["decay_thresholds"] else ~layout.is_threshold
    mean = run["reduction"] == "mean"

    def over_images(row):
        total = "+".join(f"'p{q + 1}'!B{row}" for q in range(n))  # quoted: Excel reads p1 as a cell
        return f"({total})/{n}" if mean else total

    for col, header in zip("ABCD", ("parameter", "w", "∂E/∂w", "w − η ∂E/∂w")):
        ws[f"{col}1"] = header
        ws[f"{col}1"].font = Font(bold=True)
    for l, name in enumerate(layout.names):
        r = l + 2
        decay = f"+weight_decay*B{r}" if decayed[l] else ""
        ws[f"A{r}"], ws[f"B{r}"] = name, float(theta[l])
        ws[f"C{r}"] = f"={over_images(rows[f'∂e_p/∂{name}'])}{decay}"
        ws[f"D{r}"] = f"=B{r}-eta*C{r}"
    # λ/2 Σ w² over the decayed cells, as SUMSQ of their contiguous ranges
    edges = np.flatnonzero(np.diff(np.concatenate([[0], decayed.astype(int), [0]])))
    squares = ",".join(f"B{a + 2}:B{b + 1}" for a, b in zip(edges[::2], edges[1::2]))
    reduced = "Σ_p e_p / N" if mean else "Σ_p e_p"
    over = "weights and thresholds" if run["decay_thresholds"] else "weights, not thresholds"
    named = [  # defined names, so that formulas read eta*C2
        ("eta", "η", run["lr"], "step size"),
        ("weight_decay", "λ", run["weight_decay"], f"weight decay, over the {over}"),
        ("E", "E", f"={over_images(rows['e_p'])}+weight_decay/2*SUMSQ({squares})", f"error = {reduced} + λ/2 Σ w²"),
    ]
    table = [
        *((symbol, value, f"{meaning} (name {name})") for name, symbol, value, meaning in named),
        (None, None, None),
        ("activation", run["activation"], "hidden units h = a(s^H)"),
        ("output", run["output"], "z from s^O"),
        ("loss", run["loss"], "e_p"),
        ("reduction", run["reduction"], reduced),
        ("N", n, "training images, sheets p1 … pN"),
        *((None, None, note) for note in notes),
    ]
    for col, header in zip("FGH", ("symbol", "value", "meaning")):
        ws[f"{col}1"] = header
        ws[f"{col}1"].font = Font(bold=True)
    for r, (symbol, value, meaning) in enumerate(table, start=2):
        ws[f"F{r}"], ws[f"G{r}"], ws[f"H{r}"] = symbol, value, meaning
    for r, (name, *_) in enumerate(named, start=2):
        ws.parent.defined_names[name] = DefinedName(name, attr_text=f"weights!$G${r}")
    for col, width in zip("ABCDEFGH", (12, 22, 22, 22, 3, 12, 22, 50)):
        ws.column_dimensions[col].width = width
