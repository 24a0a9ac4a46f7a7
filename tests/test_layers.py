"""Imports run one way: tracker <- renderers, data_sources <- bot. A lower layer importing a higher one fails here.

Every import is read from the source with `ast`, including the lazy ones inside functions, so a
deferred import cannot hide a reach upwards.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each package may import of the project's own packages (itself always).
ALLOWED = {
    "tracker": set(),
    "renderers": {"tracker"},
    "data_sources": {"tracker"},
    "bot": {"tracker", "renderers", "data_sources"},
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def upward_imports(package: str) -> list[str]:
    """'file:line imports X' for each import of a project package that `package` may not use."""
    forbidden = set(ALLOWED) - ALLOWED[package] - {package}
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in imported_packages(path):
            if name in forbidden:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_layer_imports_a_higher_one(package):
    assert upward_imports(package) == []


def test_the_check_sees_lazy_imports_inside_functions(tmp_path):
    # The checker itself must be able to fail: a lazy upward import in a function body is found.
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from bot.cli import main\n    import renderers.png\n", encoding="utf-8")
    assert imported_packages(bad) == [(2, "bot"), (3, "renderers")]
