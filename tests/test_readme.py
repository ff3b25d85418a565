"""The README and every page of docs/ match the tree and the code, and every
Python and shell example in them runs.

Examples: each page's ```python and ```sh blocks run in order in a fresh
folder (Python blocks share one namespace, like a notebook). That folder holds
shrunk copies of experiments/*.toml (2 seeds, 5 epochs, no tuning), so a
command that names an experiment file trains a few runs of the same grid.
`nn47 …` lines run in this process, `make …` lines as `make -n` (the recipe
is checked, not run: make sweep would train 50,000 runs), and a dask
cluster's `dask scheduler` / `dask worker` lines start a real local cluster.
Synopses (`nn47 sweep SPEC [--jobs N] …`) are ```text blocks, not examples.
"""

import importlib
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from engine import schema
from engine.cli import main
from engine.options import NAMED, TRAIN_DEFAULTS
from engine.sweep import spec

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


def text(page):
    return (ROOT / page).read_text(encoding="utf-8")


def section(page, title):
    body = text(page)
    start = body.index(f"## {title}\n")
    end = body.find("\n## ", start + 1)
    return body[start : end if end > 0 else None]


def table_rows(block):
    """The cells of a Markdown table's body rows."""
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]


# ------------------------------------------------------------------- maps


def test_the_readme_maps_every_page_of_docs():
    listed = re.findall(r"^\| \[(docs/\w+\.md)\]", section("README.md", "The documentation"), flags=re.M)
    assert sorted(listed) == PAGES[1:]


@pytest.mark.parametrize("page", PAGES)
def test_every_path_a_page_names_exists(page):
    named = re.findall(r"[`(](\.?\.?/?(?:engine|tests|experiments|docs|\.ci)/[\w./-]*\w)", text(page))
    base = ROOT if page == "README.md" else ROOT / "docs"
    missing = [p for p in named if "*" not in p and not (ROOT / p).exists() and not (base / p).exists()]
    assert not missing, f"{page} names paths that do not exist: {missing}"
    links = re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", text(page))
    assert all((base / link).exists() for link in links), links


@pytest.mark.parametrize("page", PAGES)
def test_every_python_name_a_page_gives_exists(page):
    """`engine.x.y` resolves to a module or an attribute of one."""
    for name in sorted(set(re.findall(r"`(engine(?:\.\w+)+)", text(page)))):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[cut:]:
                assert hasattr(obj, attribute), f"{page}: {name}"
                obj = getattr(obj, attribute)
            break


def test_the_code_map_lists_every_module_once():
    block = section("docs/architecture.md", "Layout of the code").split("```")[1]
    listed = re.findall(r"^(engine/\S+\.py)\s", block, flags=re.M)
    modules = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "engine").rglob("*.py")
        if p.name != "__init__.py" or p.parent.name == "engine"
    )
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == modules


# ----------------------------------------------------------------- tables


def test_the_experiments_table_lists_every_file_with_its_runs():
    rows = {row[0].strip("`"): row[2].split()[0] for row in table_rows(section("README.md", "Experiment files"))}
    files = {p.name: p for p in (ROOT / "experiments").glob("*.toml")}
    assert sorted(rows) == sorted(files)
    for name, runs in rows.items():
        assert spec.load(files[name]).n_runs == int(runs.replace(",", "")), name


def written(value):
    """A default as the settings table writes it."""
    return "none" if value is None else "false" if value is False else value


def test_the_settings_table_is_the_code():
    seen = []
    for names_cell, values_cell, _ in table_rows(section("README.md", "Training settings")):
        names = re.findall(r"`(\w+)`", names_cell)
        seen += names
        if len(names) == 1 and names[0] in NAMED:  # every allowed name, the default first
            assert re.findall(r"`([\w.]+)`", values_cell) == list(NAMED[names[0]]), names[0]
            assert NAMED[names[0]][0] == TRAIN_DEFAULTS[names[0]], names[0]
            continue
        values = [v.strip() for v in values_cell.split(",")]
        assert len(values) == len(names), names_cell
        for name, value in zip(names, values):
            default = TRAIN_DEFAULTS[name]
            if name == "batch_size":
                assert default is None and value == "full batch"
            elif name == "hidden":  # a list of widths, kept as the one layer's width
                assert value == f"[{default}]"
            elif isinstance(written(default), str):
                assert value == written(default), name
            else:
                assert float(value) == default, name
    assert sorted(seen) == sorted(TRAIN_DEFAULTS), "the table names every setting once"


def test_the_figures_table_is_every_figure_the_analysis_draws():
    rows = [row[0].strip("`") for row in table_rows(section("docs/analysis.md", "Figures"))]
    assert sorted(rows) == sorted(schema.FIGURES.values())


def test_the_analysis_page_names_every_table_the_analysis_writes():
    tables = section("docs/analysis.md", "Tables")
    assert all(f"`{name}`" in tables for name in schema.ANALYSIS_TABLES.values())


def test_the_results_folder_table_is_the_schema():
    rows = {
        name: row[1]
        for row in table_rows(section("docs/experiments.md", "The results folder"))
        for name in re.findall(r"`([\w./]+)`", row[0])
    }
    files = {schema.table_file(t, f) for t in schema.TABLES for f in schema.FORMATS}
    files |= {schema.MANIFEST, schema.CHUNK_TIMES, schema.CHUNKS + "/", schema.TUNING_TABLE, schema.TUNING_FOLDER + "/"}
    assert sorted(rows) == sorted(files)
    for column in [*schema.KEY, *schema.OUTCOMES, *schema.VALIDATION]:
        assert f"`{column}`" in rows["runs.csv"], column
    assert re.findall(r"\w+", rows["curves.csv"].split("`")[1]) == [*schema.KEY, *schema.CURVE]


def test_the_readme_states_numbas_bound_as_pyproject_does():
    dependencies = tomllib.loads(text("pyproject.toml"))["project"]["dependencies"]
    (numba,) = [d.split("#")[0].strip() for d in dependencies if d.startswith("numba")]
    assert f"`{numba}`" in text("README.md")


# --------------------------------------------------------------- examples


def blocks(page):
    """(language, code) of each fenced block of a page, in order."""
    return re.findall(r"^```(\w+)\n(.*?)^```$", text(page), flags=re.M | re.S)


def shrink(toml):
    """An experiment file with 2 seeds, at most 5 epochs and no [tune] section."""
    toml = re.sub(r"^seeds = \d+", "seeds = 2", toml, flags=re.M)
    toml = re.sub(r"^epochs = \d+", "epochs = 5", toml, flags=re.M)
    return re.sub(r"^\[tune(\.[\w.]+)?\]\n(?:(?!\[(?!tune)).*\n)*", "", toml, flags=re.M)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Shell:
    """Runs a page's shell lines (see the module's notes)."""

    def __init__(self):
        self.servers, self.address = [], f"127.0.0.1:{free_port()}"

    def run(self, line):
        line = line.replace("HOST:8786", self.address)
        words = shlex.split(line, comments=True)
        env = {}
        while words and re.fullmatch(r"\w+=\S*", words[0]):
            key, value = words.pop(0).split("=", 1)
            env[key] = value
        if not words:
            return
        program, args = words[0], words[1:]
        if program == "make":
            done = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True)
            assert done.returncode == 0, f"{line}\n{done.stderr}"
        elif program == "nn47":
            assert main(args) in (0, None), line
        elif program == "dask" and args[0] == "scheduler":
            port = self.address.split(":")[1]
            self.start([*args, "--port", port, "--no-dashboard"], env)
        elif program == "dask" and args[0] == "worker":
            self.start(args, env)
        else:
            raise AssertionError(f"no runner for {line!r}")

    def start(self, args, env):
        dask = [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]]
        self.servers.append(subprocess.Popen(dask, env={**os.environ, **env}))
        time.sleep(3)  # the scheduler listens before a worker or client connects (they retry anyway)

    def stop(self):
        for server in reversed(self.servers):
            server.terminate()
            server.wait()


def examples_of(page):
    marks = [pytest.mark.slow] if "dask worker" in text(page) else []
    return pytest.param(page, marks=marks, id=page)


@pytest.mark.parametrize("page", [examples_of(p) for p in PAGES if any(b[0] in ("python", "sh") for b in blocks(p))])
def test_every_example_runs(page, tmp_path, monkeypatch):
    (tmp_path / "experiments").mkdir()
    for file in (ROOT / "experiments").glob("*.toml"):
        (tmp_path / "experiments" / file.name).write_text(shrink(file.read_text(encoding="utf-8")), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace, shell = {}, Shell()
    try:
        for language, code in blocks(page):
            if language == "python":
                exec(compile(code, f"{page} (example)", "exec"), namespace)
            elif language == "sh":
                for line in code.splitlines():
                    shell.run(line)
    finally:
        shell.stop()


def test_shrink_keeps_the_grid_and_drops_tuning():
    default = (ROOT / "experiments" / "default.toml").read_text(encoding="utf-8")
    small = tomllib.loads(shrink(default))
    assert small["seeds"] == 2 and small["settings"]["epochs"] == 5 and "tune" not in small
    assert small["factors"] == tomllib.loads(default)["factors"]
