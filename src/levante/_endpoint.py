"""Endpoint declarations, and how one call's keyword arguments become an APIRequest.

An endpoint is data: a :class:`Call` (answered by one JSON body) or a :class:`StreamCall`
(answered by a server-sent event stream) says its method, path, body kind, query and
header fields, and what to decode. :func:`prepare` turns a declaration plus the caller's
keyword arguments into an :class:`~levante._request.APIRequest`, validating everything
on the way, without any I/O. The sender (:mod:`levante._send`) does the rest.

Wire rules, each the official SDK's:

- JSON bodies go through the request model (unknown or mistyped fields fail here) and
  :func:`~levante.models.request_json`.
- Multipart bodies: form fields first, in the model's field order, then file and JSON
  parts in that order; ``None`` is left out; a list is one part per item; booleans are
  ``true`` / ``false``; a JSON part is compact JSON with content type
  ``application/json``. A body with no file or JSON part goes out form-urlencoded, as
  httpx (which the official SDK uses) sends it.
- Query parameters: ``None`` is left out, a list is one parameter per item (``form``
  style, exploded), a mapping one parameter per key, booleans ``true`` / ``false``.
- Path parameters are percent-encoded; empty values, ``.`` and ``..`` are refused.
- A body model's ``stream`` field is set from the declaration (``StreamCall`` or
  ``Call``): a ``stream=`` argument that disagrees is refused, never sent.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from ._checks import check_finite_json, check_headers
from ._request import APIRequest, split_options
from ._streaming import EndRule
from .models import File, MistralModel, request_json
from .sse import ServerSentEvent

__all__ = [
    "JSON",
    "Call",
    "Endpoint",
    "Multipart",
    "StreamCall",
    "form_value",
    "prepare",
]

R = TypeVar("R", bound=BaseModel)
QueryPairs = tuple[tuple[str, str], ...]
S = TypeVar("S")
A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class JSON:
    """A JSON body, validated and serialized by a pydantic request ``model``."""

    model: type[BaseModel]


@dataclass(frozen=True, slots=True)
class Multipart:
    """A multipart body validated by ``model``: ``files`` name its file fields (each a
    :class:`~levante.models.File`, bytes or a binary file object) and ``json`` the fields
    sent as a JSON part; every other field is a form field."""

    model: type[BaseModel]
    files: tuple[str, ...] = ()
    json: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """What every declaration holds (see :class:`Call` and :class:`StreamCall`).

    ``name`` is the method as users call it (``"chat.complete"``; the async twin's is
    ``name + "_async"``), for error messages. ``path`` may hold ``{field}`` placeholders,
    filled from keyword arguments of that name. ``query`` names the keyword arguments
    sent as query parameters, or is a pydantic model of them (validated, and its
    defaults sent, as the official SDK sends its own); ``headers`` maps keyword arguments
    to header names.
    """

    name: str
    method: str
    path: str
    body: JSON | Multipart | None = None
    query: tuple[str, ...] | type[BaseModel] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    path_fields: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        names = tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)
        object.__setattr__(self, "path_fields", names)

    @property
    def streaming(self) -> bool:
        """Whether the answer is an event stream."""
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Endpoint, Generic[R]):
    """An endpoint answered by one JSON body, parsed into ``response``."""

    response: type[R]


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamCall(Endpoint, Generic[S, A]):
    """An endpoint answered by an event stream.

    ``stream`` / ``stream_async`` are the stream classes of the sync and async twins,
    ``decode`` turns one event into the item yielded, and ``sentinel`` /
    ``terminal_events`` say where the stream ends (``"[DONE]"``; or the event types
    that end it). With neither, the stream ends with its body. ``end`` (an
    :class:`~levante.EndRule`) says it all in one, in-stream error event types included;
    give it or the other two.

    ``resume`` names the keyword argument that carries a resume cursor (the official
    ``last_event_id``, a query parameter or a header as the declaration says): such a
    stream accepts ``reconnect=`` and, when its connection is lost, is sent again with
    that argument set to the last event id seen. The stream classes then take the
    ``reconnect`` and ``reopen`` keywords (``levante._connect``'s reconnecting streams).
    """

    stream: Callable[..., S]
    stream_async: Callable[..., A]
    decode: Callable[[ServerSentEvent], Any]
    sentinel: str | None = None
    terminal_events: Collection[str] = ()
    end: EndRule | None = None
    resume: str | None = None

    def __post_init__(self) -> None:
        Endpoint.__post_init__(self)
        if self.end is not None and (self.sentinel is not None or self.terminal_events):
            raise TypeError(f"{self.name}: give end= or sentinel=/terminal_events=, not both")

    @property
    def streaming(self) -> bool:
        """Always true."""
        return True


def prepare(endpoint: Endpoint, params: Mapping[str, Any], where: str) -> APIRequest:
    """Validate ``params`` for ``endpoint`` and describe the request (no I/O).

    Raises ``TypeError`` / ``ValueError`` (pydantic's ``ValidationError`` included) for
    any bad argument, before anything is sent.
    """
    options, fields = split_options(params, where)
    if options.reconnect is not None and not (
        isinstance(endpoint, StreamCall) and endpoint.resume is not None
    ):
        raise ValueError(f"{where}() cannot reconnect: the endpoint has no resume cursor")
    path = endpoint.path
    if endpoint.path_fields:
        values = {name: _path_value(fields, name, where) for name in endpoint.path_fields}
        path = path.format_map(values)
    query = _query(fields, endpoint.query) if endpoint.query else None
    headers = _header_fields(fields, endpoint.headers, where) if endpoint.headers else ()
    # after the query: a query parameter may be called "stream" too
    _check_stream_flag(fields, endpoint.streaming, where)
    model = fields.get("model")
    req = APIRequest(
        endpoint.method,
        path,
        stream=endpoint.streaming,
        params=query,
        options=options,
        headers=headers,
        model=model if isinstance(model, str) else None,
    )
    body = endpoint.body
    if body is not None and "stream" in body.model.model_fields:
        # the body's flag follows the method, so one request model may serve both
        fields["stream"] = endpoint.streaming
    if isinstance(body, JSON):
        req.body = request_json(body.model(**{key: _plain(value) for key, value in fields.items()}))
        try:
            check_finite_json(req.body)
        except ValueError as exc:
            raise ValueError(f"{where}(): {exc}") from None
    elif isinstance(body, Multipart):
        req.data, req.files = _multipart(body, fields)
    elif fields:
        raise TypeError(f"{where}() got unexpected keyword arguments: {', '.join(sorted(fields))}")
    return req


def _check_stream_flag(fields: dict[str, Any], streaming: bool, where: str) -> None:
    # ``stream=`` is accepted for drop-in compatibility, but only with the matching method.
    if "stream" not in fields:
        return
    flag = fields.pop("stream")
    if flag is None or bool(flag) == streaming:
        return
    if streaming:
        raise ValueError(f"{where}() always streams; call the non-streaming method instead")
    raise ValueError(f"{where}() does not stream; call the streaming method instead")


def _path_value(fields: dict[str, Any], name: str, where: str) -> str:
    value = fields.pop(name, None)
    if not isinstance(value, str) or not value:
        raise TypeError(f"{where}() requires {name}, a non-empty str")
    if value in (".", ".."):
        # a dot segment would be normalised away, sending the call to another path
        raise ValueError(f"{where}(): {name} cannot be {value!r}")
    return quote(value, safe="")


def _plain(value: Any) -> Any:
    """Foreign pydantic models (e.g. the official SDK's ``UserMessage``) as JSON-ready dicts.

    levante's own models pass through untouched; so do dicts and scalars.
    """
    if isinstance(value, BaseModel):
        if isinstance(value, MistralModel):
            return value
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def form_value(value: Any) -> str:
    """One value as the official SDK writes it in a query or a form field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _query(fields: dict[str, Any], query: tuple[str, ...] | type[BaseModel]) -> QueryPairs:
    if isinstance(query, tuple):
        values = [(name, fields.pop(name, None)) for name in query]
    else:
        # a model of the query parameters: validated, with its defaults, in field order
        picked = {name: fields.pop(name) for name in query.model_fields if name in fields}
        values = list(query(**picked).model_dump(mode="json", by_alias=True).items())
    pairs: list[tuple[str, str]] = []
    for name, value in values:
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend((str(k), form_value(v)) for k, v in value.items() if v is not None)
        elif isinstance(value, (list, tuple, set, frozenset)):
            pairs.extend((name, form_value(item)) for item in value if item is not None)
        else:
            pairs.append((name, form_value(value)))
    return tuple(pairs)


def _header_fields(
    fields: dict[str, Any], names: Mapping[str, str], where: str
) -> tuple[tuple[str, str], ...]:
    values = {
        header: form_value(value)
        for name, header in names.items()
        if (value := fields.pop(name, None)) is not None
    }
    try:
        return check_headers(values, "header") or ()
    except ValueError as exc:
        raise ValueError(f"{where}(): {exc}") from None


def _as_file(value: Any) -> File:
    if isinstance(value, File):
        return value
    if isinstance(value, Mapping):
        return File(**value)  # the official SDK's FileTypedDict
    if isinstance(value, BaseModel) and hasattr(value, "content"):
        # the official SDK's File, or any model of its shape
        return File(
            content=value.content,
            file_name=getattr(value, "file_name", "") or "",
            content_type=getattr(value, "content_type", None),
        )
    return File(content=value)


def _file_part(file: File) -> tuple[Any, ...]:
    content = file.content
    if isinstance(content, Path):
        try:
            content = content.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read the file to upload: {exc}") from None
    if file.content_type is not None:
        return (file.file_name, content, file.content_type)
    return (file.file_name, content)


def _multipart(
    body: Multipart, fields: dict[str, Any]
) -> tuple[dict[str, str | list[str]], list[tuple[str, Any]]]:
    for name in body.files:
        if fields.get(name) is not None:
            fields[name] = _as_file(fields[name])
    plain = {k: v if k in body.files else _plain(v) for k, v in fields.items()}
    instance = body.model(**plain)
    # the wire values (aliases, enums as values, the None rule) of every non-file field
    wire = instance.model_dump(mode="json", by_alias=True, exclude=set(body.files))
    data: dict[str, str | list[str]] = {}
    parts: list[tuple[str, Any]] = []
    for name, info in type(instance).model_fields.items():
        key = info.alias or name
        if name in body.files:
            file = getattr(instance, name)
            if file is not None:
                parts.append((key, _file_part(_as_file(file))))
            continue
        value = wire.get(key)
        if value is None:
            continue
        if name in body.json:
            text = json.dumps(value, separators=(",", ":"))
            parts.append((key, (None, text, "application/json")))
        elif isinstance(value, list):
            data[key] = [form_value(item) for item in value if item is not None]
        else:
            data[key] = form_value(value)
    return data, parts
