"""``import levante`` is lazy: names load on first use, and the three lists of them agree."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import levante

INIT = pathlib.Path(levante.__file__)


def _type_checking_imports() -> dict[str, set[str]]:
    """What the ``if TYPE_CHECKING:`` block of levante/__init__.py imports, by module."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for block in tree.body:
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
            for node in block.body:
                if isinstance(node, ast.ImportFrom) and node.level == 1:
                    names = {alias.name for alias in node.names}
                    found.setdefault(node.module or "", set()).update(names)
    return found


def test_the_lazy_table_matches_the_type_checking_imports_and_all() -> None:
    lazy = {module: set(names) for module, names in levante._LAZY.items()}
    assert lazy == _type_checking_imports()
    every = {name for names in lazy.values() for name in names}
    assert every | {"__version__"} == set(levante.__all__)


def test_importing_levante_loads_neither_the_client_nor_its_dependencies() -> None:
    code = (
        "import sys, levante; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx2', 'pydantic', 'anyio') or m.startswith('levante.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(levante._LAZY["client"] + levante._LAZY["errors"]))
def test_a_lazy_name_is_its_module_s_object(name: str) -> None:
    module = importlib.import_module(f"levante.{levante._SOURCE[name]}")
    assert getattr(levante, name) is getattr(module, name)


def test_submodules_and_unknown_names() -> None:
    assert levante.sse is importlib.import_module("levante.sse")
    from levante import errors

    assert errors is importlib.import_module("levante.errors")
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        levante.Nope  # type: ignore[attr-defined]  # noqa: B018
    assert "Mistral" in dir(levante)
