"""The layering of levante, checked on the source (AST): no cycle, no upward import, no
``_private`` name taken from another part.

Layers, top to bottom (a module may import only from its own layer or lower ones):

    cli/ > devserver/ > levante (the package's re-exports) > client.py, azure/gcp clients
    > resources/ > _send.py > _endpoint.py > _request.py, _retry.py, _build.py
    > models/, accumulate* > connect_sse (_connect*) > _response.py > _streaming/
    > _transport/ > sse/
    > errors.py, _checks.py, _version.py

Imports under ``if TYPE_CHECKING:`` are ignored (they never run); imports inside functions
count, since a lazy import hides a cycle without removing it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "levante"

#: (module-name prefix, layer rank): the longest matching prefix wins; higher is upper.
LAYERS: tuple[tuple[str, int], ...] = (
    ("levante.cli", 100),
    ("levante.devserver", 90),
    ("levante", 80),  # the package __init__: re-exports of everything below
    ("levante.__main__", 100),
    ("levante.client", 70),
    ("levante.azure", 70),
    ("levante.gcp", 70),
    ("levante._clients", 70),
    ("levante.resources", 60),
    ("levante._send", 50),
    ("levante._auth", 50),
    ("levante._endpoint", 47),
    ("levante._response", 34),  # reading answers: also what connect_sse needs
    ("levante._request", 45),
    ("levante._build", 45),
    ("levante._retry", 45),
    ("levante.models", 40),
    ("levante.accumulate", 40),
    ("levante.accumulate_audio", 40),
    ("levante.accumulate_responses", 40),
    ("levante.accumulate_parsed", 40),
    ("levante.partial", 40),
    ("levante.structured", 40),
    ("levante._connect", 35),
    ("levante._reconnect", 35),
    ("levante._streaming", 30),
    ("levante._transport", 25),
    ("levante.sse", 10),
    ("levante.errors", 0),
    ("levante._checks", 0),
    ("levante._version", 0),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def rank(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for prefix, value in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), value)
    return None if best is None else best[1]


def part(module: str) -> str:
    """A top-level module or subpackage of levante."""
    return ".".join(module.split(".")[:2])


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                return True
    return False


def imports(module: str) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for each levante import that runs."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and not _type_checking_only(node, parents):
            for alias in node.names:
                if alias.name.split(".")[0] == "levante":
                    yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom) and not _type_checking_only(node, parents):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "levante":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:
                    yield sub, None, node.lineno
                else:
                    yield target, alias.name, node.lineno


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _, _ in imports(module):
            if target in MODULES and target != module:
                edges[module].add(target)
    for module, targets in edges.items():
        # A package re-exporting its children, or a child importing its package's
        # re-exports, is how packages are built, not a cycle between concerns.
        edges[module] = {
            t
            for t in targets
            if not t.startswith(module + ".")
            and not (module.startswith(t + ".") and MODULES[t].name == "__init__.py")
            and t != "levante"
        }
    edges.pop("levante", None)
    return edges


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in MODULES if rank(m) is None]
    assert not unplaced, f"place these modules in LAYERS: {unplaced}"


def test_no_upward_import() -> None:
    upward: set[str] = set()
    for module in MODULES:
        own = rank(module)
        for target, _, line in imports(module):
            other = rank(target)
            if own is not None and other is not None and other > own:
                upward.add(f"{MODULES[module].name}:{line} {module} imports {target}")
    assert not upward, "\n".join(sorted(upward))


def test_no_private_name_across_parts() -> None:
    crossing = [
        f"{module}:{line} imports {name} from {target}"
        for module in MODULES
        for target, name, line in imports(module)
        if name is not None
        and name.startswith("_")
        and not name.startswith("__")
        and part(target) != part(module)
    ]
    assert not crossing, "\n".join(crossing)


def test_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .client import Mistral\n", ("levante.client", "Mistral")),
        ("from ._streaming import _Hidden\n", ("levante._streaming", "_Hidden")),
        ("import levante.sse\n", ("levante.sse", None)),
    ],
)
def test_the_checker_resolves_imports(
    source: str, expected: tuple[str, str | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rules above are only as good as import resolution: check it on known sources.
    monkeypatch.setitem(MODULES, "levante.resources._probe", tmp_path / "_probe.py")
    (tmp_path / "_probe.py").write_text(source.replace("from .", "from .."))
    found = [(t, n) for t, n, _ in imports("levante.resources._probe")]
    assert found == [expected]


def test_the_checker_sees_a_lazy_cycle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("def f():\n    from levante.zz_b import g\n")
    b.write_text("from levante.zz_a import f\n")
    monkeypatch.setitem(MODULES, "levante.zz_a", a)
    monkeypatch.setitem(MODULES, "levante.zz_b", b)
    expected = re.escape("levante.zz_a -> levante.zz_b -> levante.zz_a")
    with pytest.raises(AssertionError, match=expected):
        test_no_import_cycle()
