"""Property-based tests of the results loader (hypothesis): a real results
folder with its tables and manifest damaged at random (cells retyped, columns
dropped or renamed, rows repeated, files cut short, emptied or removed, manifest
fields mutated) is either loaded or refused with one ResultsError naming a file
of the folder; `unfinished` (nn47 analyze's first look) answers None or a
message. Never a traceback from deep inside pandas or pyarrow."""

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from experiment_files import TINY
from fuzz_mutations import EDGE_NUMBERS, mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis.load import ResultsError, load_results
from engine.schema import MANIFEST, TABLES, table_file
from engine.sweep import spec
from engine.sweep.driver import sweep
from engine.sweep.store import unfinished

FILES = [table_file(t, f) for t in TABLES for f in ("csv", "parquet")]
CELLS = st.sampled_from([str(x) for x in EDGE_NUMBERS] + ["", "true", "x", "1.5", "-3", " 2 ", '"', "a,b", "\n"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """tiny.toml swept: 2 configurations × 3 seeds, every table in both formats."""
    out = tmp_path_factory.mktemp("fuzz") / "tiny"
    sweep(spec.load(TINY), out, quiet=True)
    return out


def damage_csv(path, data):
    rows = list(csv.reader(io.StringIO(path.read_text())))
    kind = data.draw(st.sampled_from(["cell", "drop column", "rename column", "repeat row", "cut", "empty", "remove"]))
    if kind == "cell":
        row, col = data.draw(st.integers(0, len(rows) - 1)), data.draw(st.integers(0, len(rows[0]) - 1))
        rows[row][col] = data.draw(CELLS | st.text(max_size=5))
    elif kind == "drop column":
        col = data.draw(st.integers(0, len(rows[0]) - 1))
        rows = [r[:col] + r[col + 1 :] for r in rows]
    elif kind == "rename column":
        rows[0][data.draw(st.integers(0, len(rows[0]) - 1))] = data.draw(st.sampled_from(rows[0]) | st.text(max_size=5))
    elif kind == "repeat row":
        rows.append(rows[data.draw(st.integers(1, len(rows) - 1))])
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    raw = text.getvalue().encode()
    if kind == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    if kind in ("empty", "remove"):
        raw = b""
    path.write_bytes(raw)
    if kind == "remove":
        path.unlink()
    return kind


def damage_binary(path, data):
    raw = bytearray(path.read_bytes())
    kind = data.draw(st.sampled_from(["cut", "bytes", "remove"]))
    if kind == "cut":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif kind == "bytes":
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at : at + 4] = data.draw(st.binary(min_size=1, max_size=4))
    path.write_bytes(bytes(raw))
    if kind == "remove":
        path.unlink()
    return kind


def damage_manifest(path, data):
    kind = data.draw(st.sampled_from(["fields", "cut"]))
    if kind == "fields":
        doc, _ = data.draw(mutated([json.loads(path.read_text())]))
        text = json.dumps(doc, default=str)  # dates and times as text
    else:
        text = path.read_text()[: data.draw(st.integers(0, 200))]
    path.write_text(text)
    return kind


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_damaged_folder_loads_or_names_the_file(folder, data):
    with tempfile.TemporaryDirectory() as temporary:
        copy = Path(temporary) / "tiny"
        shutil.copytree(folder, copy)
        for name in data.draw(st.lists(st.sampled_from([*FILES, MANIFEST]), min_size=1, max_size=3, unique=True)):
            path = copy / name
            if name == MANIFEST:
                damage_manifest(path, data)
            elif name.endswith(".csv"):
                damage_csv(path, data)
            else:
                damage_binary(path, data)
        message = unfinished(copy)
        assert message is None or message.startswith(f"{copy}: "), message
        try:
            load_results(copy)
        except ResultsError as error:
            assert str(error).startswith(str(copy)), error


@pytest.mark.parametrize(
    "fields",
    [
        {"written": None, "sweep": True},  # AttributeError: 'bool' object has no attribute 'get'
        {"written": None, "sweep": {"tables": 3}},  # TypeError: can only join an iterable
        {"written": ["runs.csv"]},
        {"written": {"../runs.csv": 1}},
    ],
)
def test_unfinished_names_the_command_for_a_damaged_manifest(folder, tmp_path, fields):
    # found by test_a_damaged_folder_loads_or_names_the_file
    copy = tmp_path / "tiny"
    shutil.copytree(folder, copy)
    manifest = json.loads((copy / MANIFEST).read_text())
    (copy / MANIFEST).write_text(json.dumps({**manifest, **fields}))
    assert unfinished(copy).startswith(f"{copy}: the sweep is unfinished")
