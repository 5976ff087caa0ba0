"""The public surface: what `levante` exports, that it is sorted, typed and documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

import levante

PUBLIC_MODULES = [
    "levante",
    "levante.sse",
    "levante.errors",
    "levante.models",
    "levante.accumulate",
    "levante.client",
    "levante.resources",
    "levante.devserver",
]


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then everything else
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_every_name_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member!r}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_classes_and_functions_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no module docstring"
    undocumented = [
        member
        for member in module.__all__
        if (inspect.isclass(obj := getattr(module, member)) or inspect.isfunction(obj))
        and not inspect.getdoc(obj)
    ]
    assert undocumented == [], f"{name}: undocumented public API {undocumented}"


def test_top_level_reexports_are_the_same_objects() -> None:
    from levante import _streaming, accumulate, client, errors, models, sse

    assert levante.EventStream is _streaming.EventStream
    assert levante.EventStreamAsync is _streaming.EventStreamAsync
    assert levante.EndRule is _streaming.EndRule
    assert levante.ChatCompletionAccumulator is accumulate.ChatCompletionAccumulator
    assert levante.Mistral is client.Mistral
    assert levante.UserMessage is models.UserMessage
    assert levante.CompletionEvent is models.CompletionEvent
    assert levante.ServerSentEvent is sse.ServerSentEvent
    for member in errors.__all__:
        if member[0].isupper() and member in levante.__all__:
            assert getattr(levante, member) is getattr(errors, member)


def test_every_error_is_in_the_one_hierarchy() -> None:
    from levante import errors

    classes = [obj for name in errors.__all__ if inspect.isclass(obj := getattr(errors, name))]
    assert classes, "errors exports no classes"
    for cls in classes:
        assert issubclass(cls, errors.MistralError)
        # the tree in the module docstring names every class
        assert cls.__name__ in (errors.__doc__ or ""), cls.__name__


def test_sse_package_imports_nothing_else_from_levante() -> None:
    import ast
    import pathlib

    root = pathlib.Path(levante.sse.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level in (0, 1), f"{path.name} imports from above levante.sse"
                assert not (node.module or "").startswith("levante"), path.name
                assert not (node.module or "").startswith("httpx"), path.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("levante", "httpx")), path.name


def test_client_never_imports_the_dev_server() -> None:
    import ast
    import pathlib

    root = pathlib.Path(levante.__file__).parent
    for path in root.rglob("*.py"):
        if "devserver" in path.parts or "cli" in path.relative_to(root).parts:
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                assert "devserver" not in (node.module or ""), path
            elif isinstance(node, ast.Import):
                assert not any("devserver" in a.name for a in node.names), path
