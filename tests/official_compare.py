"""Compare levante's decoded objects with the official SDK's, attribute by attribute.

The official SDK decodes a stream event by turning ``{"event": ..., "data": <parsed
JSON>}`` into its model (``unmarshal_json``); :func:`official_event` does exactly that, so a
test can decode the same bytes with both SDKs and check that every attribute the official
model has reads the same on levante's (:func:`assert_same_attributes`).
"""

from __future__ import annotations

import json
from typing import Any

from mistralai.client.types import UNSET, BaseModel
from mistralai.client.utils.serializers import unmarshal_json
from pydantic import BaseModel as PydanticModel

__all__ = ["assert_same_attributes", "official_dump", "official_event"]


def official_event(model: Any, event_type: str, data: str) -> Any:
    """Decode one SSE event as the official SDK's ``EventStream`` does."""
    try:
        parsed: Any = json.loads(data)
    except json.JSONDecodeError:
        parsed = data
    return unmarshal_json(json.dumps({"event": event_type, "data": parsed}), model)


def official_dump(instance: BaseModel) -> str:
    """The JSON the official SDK's model stands for (its own serializer, aliases on)."""
    return instance.model_dump_json(by_alias=True)


def _unset(value: Any) -> bool:
    return value is UNSET or type(value).__name__ == "Unset"


def assert_same_attributes(ours: Any, theirs: Any, path: str = "") -> None:
    """Every attribute of the official object reads the same on levante's.

    Unset official fields must read ``None``; official ``Unknown...`` variants (type
    ``"UNKNOWN"``, the parsed payload in ``raw``) must be levante unknowns holding the
    same payload.
    """
    # any official model: the Azure and GCP clients have their own BaseModel classes
    if isinstance(theirs, PydanticModel):
        if getattr(theirs, "is_unknown", False) is True:
            assert getattr(ours, "is_unknown", False) is True, f"{path}: not unknown"
            assert json.loads(ours.raw) == theirs.raw, path  # type: ignore[attr-defined]
            return
        assert ours is not None, f"{path}: missing"
        for name in type(theirs).model_fields:
            value = getattr(theirs, name)
            mine = getattr(ours, name)
            if _unset(value):
                assert mine is None, f"{path}.{name}: {mine!r} where the SDK has it unset"
            else:
                assert_same_attributes(mine, value, f"{path}.{name}")
        extra = theirs.__pydantic_extra__ or {}
        for key, value in extra.items():
            assert_same_attributes(getattr(ours, key), value, f"{path}.{key}")
        return
    if isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: {ours!r} is not a list"
        assert len(ours) == len(theirs), path
        for index, (mine, value) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_attributes(mine, value, f"{path}[{index}]")
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: {ours!r} is not a dict"
        assert set(ours) == set(theirs), path
        for key, value in theirs.items():
            assert_same_attributes(ours[key], value, f"{path}[{key!r}]")
        return
    assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"
    # an official str subclass (UnrecognizedStr) or an int read as float still matches
    assert isinstance(theirs, (type(ours), int, float)), path
