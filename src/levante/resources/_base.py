"""What every resource shares: per-call options, argument checks and body building.

Each endpoint declares its keyword arguments once, as a ``TypedDict`` (so mypy checks every
call), and one builder turns those arguments into an :class:`~levante.client.APIRequest`.
The sync and async methods are one-line wrappers over that builder: only the send differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx2
from pydantic import BaseModel
from typing_extensions import TypedDict

from .._retry import RetryPolicy
from .._streaming import AsyncStreamContext, EventStreamAsync, _StreamCore
from ..client import APIRequest, RequestOptions, _ms_to_seconds
from ..models import MistralModel, request_json
from ..sse import ServerSentEvent

if TYPE_CHECKING:
    from ..client import Mistral

__all__ = [
    "CompletionEndpoint",
    "RequestParams",
    "Resource",
    "StreamParams",
    "build_request",
    "split_params",
]


class RequestParams(TypedDict, total=False):
    """Per-call options every method accepts (the official SDK's, plus ``timeout``).

    - ``retries``: an int, a :class:`~levante.RetryConfig`, ``None`` (no retries) or the
      official SDK's ``RetryConfig``; replaces the client's policy for this call.
    - ``server_url``: send this call to another base URL.
    - ``timeout_ms`` / ``timeout``: this call's timeout in milliseconds / in seconds (or
      an ``httpx2.Timeout``); ``None`` means "the client's".
    - ``http_headers``: extra headers, replacing levante's own on a name clash.
    """

    retries: RetryPolicy
    server_url: str | None
    timeout_ms: int | None
    timeout: float | httpx2.Timeout | None
    http_headers: Mapping[str, str] | None


class StreamParams(RequestParams, total=False):
    """Per-call options of streaming methods.

    - ``first_event_timeout``: seconds to wait for the first event (``StreamTimeout``).
    - ``idle_timeout``: seconds allowed between two events (``StreamTimeout``).
    """

    first_event_timeout: float | None
    idle_timeout: float | None


_OPTION_KEYS = frozenset(StreamParams.__optional_keys__)


def split_params(params: Mapping[str, Any], where: str) -> tuple[RequestOptions, dict[str, Any]]:
    """Separate per-call options from body fields; check the options' shapes."""
    options = RequestOptions()
    fields = {key: value for key, value in params.items() if key not in _OPTION_KEYS}
    if "retries" in params:
        options.retries = params["retries"]
    server_url = params.get("server_url")
    if server_url is not None:
        options.server_url = server_url
    timeout_ms = params.get("timeout_ms")
    timeout = params.get("timeout")
    if timeout_ms is not None and timeout is not None:
        raise TypeError(f"{where}() takes timeout_ms or timeout, not both")
    if timeout_ms is not None:
        options.timeout = _ms_to_seconds(timeout_ms)
    elif timeout is not None:
        options.timeout = timeout
    headers = params.get("http_headers")
    if headers is not None:
        if not isinstance(headers, Mapping):
            raise TypeError(f"{where}(): http_headers must be a mapping of str to str")
        options.http_headers = headers
    for name in ("first_event_timeout", "idle_timeout"):
        value = params.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{where}(): {name} must be a positive number of seconds")
            setattr(options, name, float(value))
    return options, fields


def check_stream_flag(fields: dict[str, Any], *, streaming: bool, where: str) -> None:
    """Accept ``stream=`` for drop-in compatibility, but only with the matching method."""
    if "stream" not in fields:
        return
    flag = fields.pop("stream")
    if flag is None or bool(flag) == streaming:
        return
    if streaming:
        raise ValueError(f"{where}() always streams; call the non-streaming method instead")
    raise ValueError(f"{where}() does not stream; call the streaming method instead")


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


def build_request(
    method: str,
    path: str,
    params: Mapping[str, Any],
    request_cls: type[BaseModel] | None,
    *,
    where: str,
    streaming: bool,
    extra_fields: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
) -> APIRequest:
    """Validate ``params`` and build the :class:`APIRequest` of one call.

    Body fields go through ``request_cls`` (a pydantic request model that rejects
    unknown fields), so a misspelt or mistyped argument fails here, before any I/O.
    """
    options, fields = split_params(params, where)
    check_stream_flag(fields, streaming=streaming, where=where)
    if extra_fields:
        fields.update(extra_fields)
    body: bytes | None = None
    if request_cls is not None:
        body = request_json(request_cls(**{key: _plain(value) for key, value in fields.items()}))
    elif fields:
        raise TypeError(f"{where}() got unexpected keyword arguments: {', '.join(sorted(fields))}")
    params_out = None
    if query:
        params_out = {k: str(v) for k, v in query.items() if v is not None}
    return APIRequest(method, path, body, streaming, params_out, options)


class Resource:
    """Base of resources: holds the client they send through."""

    __slots__ = ("_client",)

    def __init__(self, client: Mistral) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


_StreamT = TypeVar("_StreamT", bound="_StreamCore[Any]")
_AsyncStreamT = TypeVar("_AsyncStreamT", bound="EventStreamAsync[Any]")
_ResponseT = TypeVar("_ResponseT", bound=BaseModel)


@dataclass(frozen=True)
class CompletionEndpoint(Generic[_StreamT, _AsyncStreamT, _ResponseT]):
    """A completion endpoint streamed as ``data:`` chunks up to ``data: [DONE]``.

    Chat, agents and FIM differ only in these fields, so their four methods each are
    one-line calls into this object, with the keyword arguments declared (and type-checked)
    once per endpoint by its ``TypedDict``.
    """

    name: str
    path: str
    stream_request: type[BaseModel]
    request: type[BaseModel]
    response: type[_ResponseT]
    stream_cls: Callable[..., _StreamT]
    async_stream_cls: Callable[..., _AsyncStreamT]
    decode: Callable[[ServerSentEvent], Any]

    def _build(self, params: Mapping[str, Any], method: str, *, streaming: bool) -> APIRequest:
        request_cls = self.stream_request if streaming else self.request
        where = f"{self.name}.{method}"
        return build_request(
            "POST", self.path, params, request_cls, where=where, streaming=streaming
        )

    def stream(self, client: Mistral, params: Mapping[str, Any]) -> _StreamT:
        """Send a streamed request; return the open stream."""
        req = self._build(params, "stream", streaming=True)
        return client._stream(req, self.stream_cls, self.decode, sentinel="[DONE]")

    def stream_async(
        self, client: Mistral, params: Mapping[str, Any]
    ) -> AsyncStreamContext[_AsyncStreamT]:
        """Async twin of :meth:`stream`: await the result, or use it in ``async with``."""
        req = self._build(params, "stream_async", streaming=True)
        return client._stream_async(req, self.async_stream_cls, self.decode, sentinel="[DONE]")

    def complete(self, client: Mistral, params: Mapping[str, Any]) -> _ResponseT:
        """Send a non-streamed request; return the parsed response."""
        return client._request(self._build(params, "complete", streaming=False), self.response)

    async def complete_async(self, client: Mistral, params: Mapping[str, Any]) -> _ResponseT:
        """Async twin of :meth:`complete`."""
        req = self._build(params, "complete_async", streaming=False)
        return await client._request_async(req, self.response)
