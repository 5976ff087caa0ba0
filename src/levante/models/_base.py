"""The two pydantic bases every levante model derives from, and the wire rule they share.

Design rules for this package:

- Data only: no I/O, no HTTP library import.
- Forward compatible: every model keeps unknown fields (``extra="allow"``) and enum-like
  fields are typed ``str`` (known values listed in the docstring), so a new
  ``finish_reason`` or a new field from the server never fails validation.
- One wire rule, the one the official SDK applies when it serializes: a field whose value
  is ``None`` is left out of the JSON, unless the field is *nullable* (declared with
  :data:`Nullable`) **and** the caller set it explicitly, in which case ``null`` is sent.
  Non-``None`` values, defaults included, are always sent. :func:`request_body` applies it.
- Decoding stays in Rust: no validators on the streamed models, plain field types, small
  unions only.
- NaN and the infinities are not JSON. Request models refuse them in their own fields,
  and every model writes them as the ``NaN`` / ``Infinity`` constants (pydantic's default
  would write ``null``), so that one nested anywhere in a request is found and refused
  before sending (``levante._endpoint``) instead of being sent silently as ``null``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "MistralModel",
    "Nullable",
    "RequestModel",
    "SentAsNull",
    "request_body",
    "request_json",
]

T = TypeVar("T")


class _NullMarker:
    """Field metadata telling the wire rule when ``None`` is sent as JSON ``null``."""

    __slots__ = ("always",)

    def __init__(self, *, always: bool) -> None:
        self.always = always

    def __repr__(self) -> str:
        return "SENT_AS_NULL" if self.always else "NULLABLE"


_NULLABLE = _NullMarker(always=False)
_SENT_AS_NULL = _NullMarker(always=True)

Nullable = Annotated[T | None, _NULLABLE]
"""``Nullable[X]`` is ``X | None`` where an explicit ``None`` is sent as ``null``.

It mirrors the official SDK's ``OptionalNullable``: left unset, the field is omitted from
the request; set to ``None``, it is sent as ``null``, as the official SDK sends it.
"""

SentAsNull = Annotated[T | None, _SENT_AS_NULL]
"""``SentAsNull[X]`` is ``X | None`` that is always on the wire, as ``null`` when ``None``.

For response fields the API always sends even when empty (``finish_reason``): a model
built without them still serializes to what the official SDK requires.
"""


class MistralModel(BaseModel):
    """Base of every levante model: keeps unknown fields and serializes by the wire rule.

    ``model_dump(mode="json", by_alias=True)`` (or ``model_dump_json(by_alias=True)``)
    gives exactly the JSON the Mistral API sends or expects.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, ser_json_inf_nan="constants")

    # What the wire rule does with a key whose value is None, computed once per class so
    # that serializing does no introspection: the keys (wire key and field name) of the
    # fields that may be left out, each to (field name, nullable). A key not in it (a
    # required field, a SentAsNull one, an unknown field) keeps its None.
    __none_rules__: ClassVar[dict[str, tuple[str, bool]]] = {}
    __nullable_fields__: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        rules: dict[str, tuple[str, bool]] = {}
        nullable: set[str] = set()
        for name, field in cls.model_fields.items():
            if any(meta is _SENT_AS_NULL for meta in field.metadata):
                continue
            is_nullable = any(meta is _NULLABLE for meta in field.metadata)
            if is_nullable:
                nullable.add(name)
            if not field.is_required() or is_nullable:
                rules[name] = rules[field.alias or name] = (name, is_nullable)
        cls.__none_rules__ = rules
        cls.__nullable_fields__ = frozenset(nullable)

    @model_serializer(mode="wrap")
    def _serialize_wire(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        rules = self.__none_rules__
        # Only the keys holding None are looked at (a request model has some twenty
        # optional fields, most of them unset): once per model of every request.
        dropped = [key for key, value in data.items() if value is None and key in rules]
        if dropped:
            explicit = self.__pydantic_fields_set__
            for key in dropped:
                name, nullable = rules[key]
                if not (nullable and name in explicit):
                    del data[key]
        return data


class RequestModel(MistralModel):
    """Base of request bodies: unknown keyword arguments are an error, not silently sent,
    and so are NaN and infinite numbers."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, allow_inf_nan=False, ser_json_inf_nan="constants"
    )


def request_body(model: BaseModel) -> dict[str, Any]:
    """Return the JSON-ready body the official SDK would send for ``model``.

    Fields the caller did not set are omitted; nullable fields explicitly set to ``None``
    are sent as ``null``; defaults the SDK always sends (``"stream": true`` on stream
    requests, ``"prefix": false`` on assistant messages, ...) are included.

    >>> from levante.models import ChatCompletionStreamRequest
    >>> request_body(ChatCompletionStreamRequest(
    ...     model="m", messages=[{"role": "user", "content": "hi"}], top_p=None))
    {'model': 'm', 'messages': [{'content': 'hi', 'role': 'user'}], 'top_p': None, 'stream': True}
    """
    return model.model_dump(mode="json", by_alias=True)


def request_json(model: BaseModel) -> bytes:
    """Return :func:`request_body` already encoded as compact UTF-8 JSON bytes.

    The dump and the encoding both happen in pydantic-core, which is faster than
    ``json.dumps(request_body(model))``.
    """
    return model.model_dump_json(by_alias=True).encode()
