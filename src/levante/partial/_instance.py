"""Where a partial JSON value's members sit on the model instance validated from it.

A string refresh of :class:`~levante.partial.PartialObjectTracker` grows one string of
the JSON value in place; these helpers find the same place on the validated instance,
and say whether the new string can be set there without validating it again.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, RootModel

__all__ = ["Target", "child", "field_for_key", "plain_field", "string_target", "unroot"]

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
    if isinstance(target, list) and isinstance(key, int) and target:
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
