"""nn47 workbook: its layout, its bad inputs, and (slow) its formulas
recalculated by LibreOffice Calc against engine.loss_grad."""

import csv
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import engine
from engine.cli import main
from engine.lecture import SLIDE_DEFAULTS, workbook

NAMES = engine.Layout().names


def theta_of(seed, scale=0.8):
    # random thresholds too: initial ones are 0 and would not test θ's sign
    return np.random.default_rng(seed).normal(0.0, scale, len(NAMES))


def data(n_train):
    d = engine.make_dataset(n_train=n_train, n_test=1, seed=3, scale=False)
    return d.X_train, d.T_train


def weights(ws, column=2):
    return np.array([ws.cell(r, column).value for r in range(2, 49)], dtype=float)


def is_formula(value):
    return isinstance(value, str) and value.startswith("=")


def test_default_workbook_layout(tmp_path):
    assert main(["workbook", "--out", str(tmp_path / "w.xlsx"), "--lr", "0.25"]) == 0
    book = openpyxl.load_workbook(tmp_path / "w.xlsx")
    assert book.sheetnames == ["weights", *(f"p{p}" for p in range(1, 33))]
    ws = book["weights"]
    assert [ws.cell(1, c).value for c in range(1, 5)] == ["parameter", "w", "∂E/∂w", "w − η ∂E/∂w"]
    assert [ws.cell(r, 1).value for r in range(2, 49)] == NAMES and ws["A49"].value is None
    theta = engine.initial_params(engine.Layout(), "xavier", [0])[0]
    assert np.allclose(weights(ws), theta, rtol=1e-15, atol=0)  # openpyxl writes 16 digits
    assert all(is_formula(ws.cell(r, c).value) for r in range(2, 49) for c in (3, 4))
    names = {name: book.defined_names[name].attr_text for name in ("eta", "E", "weight_decay")}
    assert names == {"eta": "weights!$G$2", "weight_decay": "weights!$G$3", "E": "weights!$G$4"}
    assert ws["G2"].value == 0.25 and is_formula(ws["G4"].value)
    # the slides' defaults are written into the formulas
    sheet = {row[0]: row[1] for row in book["p1"].iter_rows(min_row=9, max_col=2, values_only=True)}
    assert (sheet["h_1"], sheet["z_1"]) == ("=1/(1+EXP(-B23))", "=1/(1+EXP(-B29))")
    assert sheet["e_p"] == "=((B21-B31)^2+(B22-B32)^2)/2"
    assert "/32" not in ws["C2"].value and "/32" not in ws["G4"].value  # E = Σ_p e_p
    per_image = sum(is_formula(v) for row in book["p1"].iter_rows(values_only=True) for v in row)
    assert per_image == 12 + 3 + 3 + 2 + 2 + 1 + 2 + 3 + 47


def test_settings_reach_the_formulas(tmp_path):
    pixels, T = data(3)
    workbook(
        tmp_path / "w.xlsx",
        theta_of(0),
        pixels,
        T,
        activation="relu",
        output="softmax",
        loss="cross_entropy",
        reduction="mean",
        weight_decay=0.1,
        decay_thresholds=True,
    )
    book = openpyxl.load_workbook(tmp_path / "w.xlsx")
    sheet = {row[0]: row[1] for row in book["p1"].iter_rows(min_row=9, max_col=2, values_only=True)}
    assert sheet["h_2"] == "=MAX(B24,0)" and "IF(B27>0,1,0)" in sheet["δ_2^H"]
    assert sheet["z_1"] == "=EXP(B29)/(EXP(B29)+EXP(B30))" and "LN(B31)" in sheet["e_p"]
    ws = book["weights"]
    assert ws["C5"].value.endswith(")/3+weight_decay*B5")  # θ_1^O decayed too
    assert ws["G4"].value.endswith("weight_decay/2*SUMSQ(B2:B48)")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--activation", "softplus"], "invalid choice: 'softplus'"),
        (["--lr", "-1"], "lr: must be a number > 0"),
        (["--out", "missing/w.xlsx"], "does not exist"),
        (["--n-train", "300"], "1 to 256 training images"),
    ],
)
def test_bad_options(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["workbook", *args])
    except SystemExit as exit_:  # argparse's own check of a setting's name
        status = exit_.code
    assert status == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


@pytest.mark.parametrize(
    "header, rows, message",
    [
        (NAMES[:-1], [[0.1] * 46], "46 parameter columns, not 47"),
        (["config", "seed", *NAMES, "extra"], [[0, 0, *[0.1] * 48]], "48 parameter columns, not 47"),
        ([*NAMES[:3], "w_41^O", *NAMES[4:]], [[0.1] * 47], "column 'w_41^O' where the slides have 'θ_1^O'"),
        (NAMES, [[0.1] * 46 + ["nan"]], "non-finite weights: θ_3^H"),
        (NAMES, [[0.1] * 46 + ["x"]], "θ_3^H is 'x', not a number"),
        (NAMES, [[0.1] * 47, [0.2] * 47], "holds 2 rows, not one"),
    ],
)
def test_bad_params_files(tmp_path, capsys, header, rows, message):
    path = write_csv(tmp_path / "params.csv", header, rows)
    assert main(["workbook", "--params", str(path), "--out", str(tmp_path / "w.xlsx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nn47 workbook: params: ") and message in err and err.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["params.csv"]


def test_params_file_from_a_results_folder(tmp_path, capsys):
    thetas = [theta_of(1), theta_of(2)]
    path = write_csv(
        tmp_path / "params.csv", ["config", "seed", *NAMES], [[c, s, *t] for (c, s), t in zip([(0, 7), (1, 7)], thetas)]
    )
    assert main(["workbook", "--params", str(path), "--run", "1:7", "--out", str(tmp_path / "w.xlsx")]) == 0
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["weights"]
    assert np.allclose(weights(ws), thetas[1], rtol=1e-15, atol=0)
    assert main(["workbook", "--params", str(path), "--run", "2:7", "--out", str(tmp_path / "v.xlsx")]) == 2
    assert "no row with config '2' and seed '7'" in capsys.readouterr().err
    assert main(["workbook", "--params", str(path), "--run", "7", "--out", str(tmp_path / "v.xlsx")]) == 2
    assert "run: expected CONFIG:SEED such as 3:0, got '7'" in capsys.readouterr().err


def test_a_failed_save_leaves_no_file(tmp_path, monkeypatch):
    def half_written(book, path):
        Path(path).write_bytes(b"PK")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", half_written)
    (tmp_path / "w.xlsx").write_bytes(b"before")
    with pytest.raises(OSError, match="disk full"):
        workbook(tmp_path / "w.xlsx", theta_of(0), *data(2))
    assert [p.name for p in tmp_path.iterdir()] == ["w.xlsx"] and (tmp_path / "w.xlsx").read_bytes() == b"before"


def test_python_errors():
    pixels, T = data(2)
    with pytest.raises(ValueError, match="unknown key 'epochs'"):
        workbook("w.xlsx", theta_of(0), pixels, T, epochs=10)
    with pytest.raises(ValueError, match=r"non-finite weights: w_21\^O"):
        workbook("w.xlsx", np.where(np.arange(47) == 1, np.inf, 0.0), pixels, T)
    with pytest.raises(ValueError, match="loss: unknown value 'squares'; .* did you mean 'squared'"):
        workbook("w.xlsx", theta_of(0), pixels, T, loss="squares")


# --- LibreOffice Calc recalculates every formula --------------------------------------------------

ACTIVATIONS = ("sigmoid", "tanh", "relu")
PAIRS = list(itertools.product(("sigmoid", "softmax"), ("squared", "cross_entropy")))
# each activation, each output × loss, sum and mean, weight decay on weights and on thresholds
CASES = [dict(SLIDE_DEFAULTS)] + [
    dict(
        activation=ACTIVATIONS[i % 3],
        output=output,
        loss=loss,
        reduction=("mean", "sum")[i % 2],
        weight_decay=(0.0, 0.05, 0.05)[i % 3],
        decay_thresholds=i % 3 == 2,
    )
    for i, (output, loss) in enumerate(PAIRS * 2)
]


def recalc(paths, outdir, tmp_path):
    """Recalculate the workbooks in LibreOffice (one process for all) into outdir."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail(
            "LibreOffice is not installed, so the workbook's formulas cannot be checked: "
            "apt-get install -y libreoffice-calc-nogui (Debian/Ubuntu), or put soffice on PATH"
        )
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(outdir),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    missing = [p.name for p in paths if not (outdir / p.name).exists()]
    assert result.returncode == 0 and not missing, f"soffice failed on {missing}:\n{result.stderr}"
    return [outdir / p.name for p in paths]


def check_values(written, recalculated, pixels, T, settings, worst):
    """Columns C, D and E of the recalculated file against the engine at the
    weights of the file LibreOffice read (16 digits, as openpyxl writes them)."""
    theta = weights(openpyxl.load_workbook(written)["weights"])
    ws = openpyxl.load_workbook(recalculated, data_only=True)["weights"]
    E, grad = engine.loss_grad(theta, pixels / 255.0, T, **{k: v for k, v in settings.items() if k != "lr"})
    grad_error = np.abs(weights(ws, 3) - grad).max() / np.abs(grad).max()
    E_error = abs(ws["G4"].value - E) / abs(E)
    step_error = np.abs(weights(ws, 4) - (theta - settings["lr"] * grad)).max() / np.abs(theta).max()
    assert grad_error < 1e-10 and E_error < 1e-12 and step_error < 1e-12, (recalculated.name, grad_error, E_error)
    worst.append(max(grad_error, E_error))


@pytest.mark.slow
def test_libreoffice_recalculates_the_engines_gradient(tmp_path):
    written, worst = [], []
    for i, settings in enumerate(CASES):
        pixels, T = data(32 if i == 0 else 5)
        path = tmp_path / "written" / f"case{i}.xlsx"
        path.parent.mkdir(exist_ok=True)
        workbook(path, theta_of(i), pixels, T, lr=0.3, **settings)
        written.append((path, pixels, T, dict(settings, lr=0.3)))
    first = recalc([w[0] for w in written], tmp_path / "first", tmp_path)
    edited = []
    for i, (path, (source, pixels, T, settings)) in enumerate(zip(first, written)):
        check_values(source, path, pixels, T, settings, worst)
        # a student's edit: new weights into column B of the recalculated file
        book = openpyxl.load_workbook(path)
        for l, value in enumerate(theta_of(100 + i, scale=1.5)):
            book["weights"].cell(l + 2, 2, value)
        edited.append(tmp_path / "edited" / path.name)
        edited[-1].parent.mkdir(exist_ok=True)
        book.save(edited[-1])
    second = recalc(edited, tmp_path / "second", tmp_path)
    for source, path, (_, pixels, T, settings) in zip(edited, second, written):
        check_values(source, path, pixels, T, settings, worst)
    print(f"max relative error over {2 * len(CASES)} recalculations: {max(worst):.2e}")
