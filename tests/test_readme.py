"""The README's code map and experiments table match the tree."""

import re
from pathlib import Path

from engine.sweep import spec

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title):
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_the_code_map_lists_every_module_once():
    block = section("Layout of the code").split("```")[1]
    listed = re.findall(r"^(engine/\S+\.py)\s", block, flags=re.M)
    modules = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "engine").rglob("*.py")
        if p.name != "__init__.py" or p.parent.name == "engine"
    )
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == modules


def test_the_experiments_table_lists_every_file_with_its_runs():
    rows = dict(re.findall(r"^\| `(\w+\.toml)` \|.*\| ([\d,]+)[^|]*\|$", section("Experiment files"), flags=re.M))
    files = {p.name: p for p in (ROOT / "experiments").glob("*.toml")}
    assert sorted(rows) == sorted(files)
    for name, runs in rows.items():
        assert spec.load(files[name]).n_runs == int(runs.replace(",", "")), name
