"""The package's architecture, enforced: modules import one way only, down the
layers below, and never in a cycle. The layer order is written here, once."""

import ast
import functools
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

# Lowest first. A module may import from its own layer (no cycles) or any layer
# below it; `engine/__init__.py` re-exports the public API and sits above all.
LAYERS = [
    "engine.options",  # names, codes, defaults and checks of every setting
    "engine.schema",  # the results folder: file names, columns and their kinds
    "engine.kernels",  # numba only
    "engine.model",  # layout, data, initial weights, the numpy reference
    "engine.training",  # train()
    "engine.sweep",  # experiment files, driver, store, provenance
    "engine.analysis",  # results folder -> tables, figures, report
    "engine.lecture",  # the lecture step by step: workbook, trace
    "engine.bench",  # benchmarks
    "engine.cli",  # the nn47 command
    "engine",  # the public API
]


def module_name(path, root):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root=ENGINE):
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imported(name, path, known):
    """Modules of engine that `name` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from . import x` names a module x when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known}
    return found - {name}


@functools.cache
def graph(root=ENGINE):
    """Module -> the engine modules it imports (at any depth of its code)."""
    known = modules(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def layer(name):
    """Index of the most specific layer that holds module `name`."""
    matches = [i for i, prefix in enumerate(LAYERS) if name == prefix or name.startswith(prefix + ".")]
    assert matches, f"{name} is in no layer: add it to LAYERS"
    return max(matches, key=lambda i: len(LAYERS[i]))


def test_the_graph_is_read():
    edges = graph()
    assert "engine.kernels.rng" in edges["engine.kernels.train"]
    assert "engine.model.layout" in edges["engine.training"]
    assert "engine.sweep.spec" in edges["engine.cli"]


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_point_down(name):
    upward = {m for m in graph()[name] if layer(m) > layer(name)}
    assert not upward, f"{name} (layer {LAYERS[layer(name)]}) imports from higher layers: {sorted(upward)}"


def find_cycle(edges):
    """One import cycle as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_a_planted_cycle_and_an_upward_import_are_caught(tmp_path):
    fake = tmp_path / "engine"
    (fake / "kernels").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "options.py").write_text("from .kernels import network\n")
    (fake / "kernels" / "__init__.py").write_text("")
    (fake / "kernels" / "network.py").write_text("from .. import options\n")
    edges = graph(fake)
    assert edges["engine.options"] == {"engine.kernels.network"}
    assert layer("engine.kernels.network") > layer("engine.options")  # options imports upward
    assert find_cycle(edges) == ["engine.kernels.network", "engine.options", "engine.kernels.network"]
