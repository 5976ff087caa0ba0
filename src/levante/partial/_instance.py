"""Where a partial JSON value's members sit on the model instance validated from it.

A string refresh of :class:`~levante.partial.PartialObjectTracker` grows one string of
the JSON value in place; these helpers find the same place on the validated instance,
and say whether the new string can be set there without validating it again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, RootModel

__all__ = [
    "Target",
    "child",
    "field_for_key",
    "plain_field",
    "string_target",
    "unroot",
    "without_open_item",
]

Target = tuple[Any, Any, bool]
"""Where to set a string on the instance: (object, attribute name or index, is an attribute)."""


def unroot(target: Any, owner: tuple[BaseModel, Any] | None) -> tuple[Any, Any]:
    # a RootModel stands for its root value, held by its "root" field
    if isinstance(target, RootModel):
        return target.root, (target, "root")
    return target, owner


def child(target: Any, key: Any) -> Any:
    # follow the JSON path inside the validated instance, when it mirrors the JSON
    if target is None:
        return None
    if isinstance(target, BaseModel):
        name = field_for_key(type(target), key)
        return getattr(target, name) if name is not None else None
    if isinstance(target, list) and isinstance(key, int) and len(target) == key + 1:
        return target[-1]
    if isinstance(target, dict) and key in target:
        return target[key]
    return None


def field_for_key(cls: type[BaseModel], key: Any) -> str | None:
    for name, field in cls.model_fields.items():
        if (field.validation_alias or field.alias or name) == key:
            return name
    return None


def plain_field(model: BaseModel, key: Any, annotations: tuple[Any, ...]) -> str | None:
    # a field whose value needs no validation beyond its type: no constraint, no
    # validator, a mutable model that does not validate assignments
    cls = type(model)
    name = field_for_key(cls, key)
    config = cls.model_config
    if name is None or config.get("frozen") or config.get("validate_assignment"):
        return None
    field = cls.model_fields[name]
    if field.annotation not in annotations or field.metadata:
        return None
    decorators = cls.__pydantic_decorators__
    if decorators.model_validators or decorators.field_validators or decorators.validators:
        return None
    return name


def string_target(
    target: Any, key: Any, owner: tuple[BaseModel, Any] | None, size: int
) -> Target | None:
    """Where a growing string can be set on the instance without validating it again:
    a plain ``str`` field of a model, or the last item of a plain ``list[str]`` field."""
    if isinstance(target, BaseModel):
        name = plain_field(target, key, (str, str | None))
        return (target, name, True) if name is not None else None
    if (
        isinstance(target, list)
        and owner is not None
        and len(target) == size
        and plain_field(owner[0], owner[1], (list[str],)) is not None
    ):
        return (target, size - 1, False)
    return None


def without_open_item(value: Any, depth: int) -> Any:
    """``value`` without the open last item of the outermost list that has one, or
    ``None`` when no list on the open path ends with an open container.

    ``depth`` is how many containers are open: the first ``depth`` nodes of the value's
    rightmost path. The containers on the way are copied (shallowly): ``value`` is left
    as it is.
    """
    path: list[Any] = []
    node = value
    for level in range(depth - 1):
        if not isinstance(node, (dict, list)) or not node:
            return None
        key = len(node) - 1 if isinstance(node, list) else next(reversed(node))
        path.append(key)
        if isinstance(node, list) and level + 1 < depth:
            # its last item is the next open container
            return _drop_last(value, path)
        node = node[key]
    return None


def _drop_last(node: Any, path: list[Any]) -> Any:
    # copy the containers down the path; the last step removes the list's last item
    if len(path) == 1:
        return node[:-1]
    copy = list(node) if isinstance(node, list) else dict(node)
    copy[path[0]] = _drop_last(node[path[0]], path[1:])
    return copy
