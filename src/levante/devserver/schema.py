"""A deterministic JSON instance of a JSON schema: what the fake models answer to a
``json_schema`` response format, so that ``chat.parse`` can validate it.

Covered: ``$ref`` into ``$defs`` / ``definitions`` (pydantic's nested models), ``const``,
``enum`` (the first value), ``default``, ``anyOf`` / ``oneOf`` (the first branch that is not
``null``), ``allOf`` (merged), ``type`` lists, objects (every property, required or not),
arrays (``minItems`` items, at least one and at most ``maxItems``), strings (``format``
date, date-time, time, email, uri, uuid; ``minLength`` / ``maxLength``), integers and
numbers within ``minimum`` / ``maximum`` (exclusive bounds included), booleans and null.
Strings are built from the property name, so different fields get different values.
A ``pattern`` is not honoured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["instance"]

_MAX_DEPTH = 12
_FORMATS = {
    "date": "2024-05-01",
    "date-time": "2024-05-01T12:00:00Z",
    "time": "12:00:00",
    "email": "levante@example.com",
    "uri": "https://example.com/levante",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def instance(schema: Any) -> Any:
    """A value that validates against ``schema`` (a JSON schema as a dict)."""
    root = schema if isinstance(schema, Mapping) else {}
    return _value(root, root, "value", 0)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while isinstance(ref := schema.get("$ref"), str) and seen < _MAX_DEPTH:
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _branch(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with ``allOf`` merged and the first non-null ``anyOf``/``oneOf`` taken."""
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            resolved = [_resolve(o, root) for o in options if isinstance(o, Mapping)]
            chosen = next((o for o in resolved if o.get("type") != "null"), resolved[0])
            rest = {k: v for k, v in schema.items() if k != key}
            schema = {**rest, **_branch(chosen, root)}
    parts = schema.get("allOf")
    if isinstance(parts, list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in parts:
            if isinstance(part, Mapping):
                branch = _branch(part, root)
                properties = {**merged.get("properties", {}), **branch.get("properties", {})}
                merged = {**merged, **branch, "properties": properties}
        schema = merged
    return schema


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _value(schema: Mapping[str, Any], root: Mapping[str, Any], name: str, depth: int) -> Any:
    schema = _branch(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = _kind(schema)
    if depth >= _MAX_DEPTH:
        return None if kind != "object" else {}
    if kind == "object":
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        return {
            str(key): _value(sub if isinstance(sub, Mapping) else {}, root, str(key), depth + 1)
            for key, sub in properties.items()
        }
    if kind == "array":
        return _array(schema, root, name, depth)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name)


def _array(schema: Mapping[str, Any], root: Mapping[str, Any], name: str, depth: int) -> Any:
    low = schema.get("minItems", 1)
    high = schema.get("maxItems", max(low, 2))
    count = max(min(max(low, 2), high), 0)
    items = schema.get("items")
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):  # a tuple
        return [_value(p, root, name, depth + 1) for p in prefix if isinstance(p, Mapping)]
    item = items if isinstance(items, Mapping) else {}
    return [_value(item, root, f"{name}_{i + 1}", depth + 1) for i in range(count)]


def _number(schema: Mapping[str, Any], integer: bool) -> int | float:
    low_open = "minimum" not in schema and "exclusiveMinimum" in schema
    high_open = "maximum" not in schema and "exclusiveMaximum" in schema
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    has_low, has_high = isinstance(low, (int, float)), isinstance(high, (int, float))
    value: float = 1
    if has_low:
        value = max(value, low + (1 if low_open else 0))
    if has_high:
        value = min(value, high - (1 if high_open else 0))
    if has_low and (value < low or (low_open and value <= low)):
        value = (low + high) / 2 if has_high else low + 1  # a range narrower than 1
    if integer:
        return math.ceil(value) if has_low else math.floor(value)
    return float(value)


def _string(schema: Mapping[str, Any], name: str) -> str:
    text = _FORMATS.get(str(schema.get("format")), f"{name.replace('_', ' ')} of the levante")
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text = (text + " ") * (low // (len(text) + 1) + 1)
    if isinstance(high, int):
        text = text[:high]
    return text
