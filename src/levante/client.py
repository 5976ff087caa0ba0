"""The Mistral client: configuration, authentication, retries and the two send paths.

Design rules (keep them when changing this module):

1. Requests are described without I/O. Resources hand the client an :class:`APIRequest`
   (method, path, JSON body bytes, per-call :class:`RequestOptions`); one
   :meth:`Mistral._build_request` turns it into an ``httpx2.Request`` for either client.
2. The sync and async send paths (:meth:`Mistral._send`, :meth:`Mistral._send_async`) are
   the only twins. They always send with ``stream=True`` so that an error body can be read
   with a size bound, and every response they do not return is closed before they sleep,
   retry or raise.
3. No hidden defaults. :data:`DEFAULT_TIMEOUT` is applied only to HTTP clients levante
   creates; a user's ``httpx2.Client`` keeps its own timeout unless a timeout is passed
   explicitly (to the constructor or per call).
4. The API key never appears in ``repr``, logs or error messages.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from ._retry import (
    DEFAULT_RETRIES,
    RETRY_STATUS_CODES,
    RetryConfig,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    resolve_retries,
)
from ._streaming import AsyncStreamContext, EventStreamAsync, _abort_body, _StreamCore
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    HTTPValidationError,
    MistralError,
    error_class_for_status,
)

if TYPE_CHECKING:
    from .resources.agents import Agents
    from .resources.beta import Beta
    from .resources.chat import Chat
    from .resources.conversations import Conversations
    from .resources.fim import Fim
    from .resources.models import Models

__all__ = [
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "ERROR_BODY_LIMIT",
    "APIRequest",
    "Mistral",
    "RequestOptions",
    "RetryConfig",
]

logger = logging.getLogger("levante")

#: The official Mistral API; ``MISTRAL_SERVER_URL`` replaces this default.
DEFAULT_SERVER_URL: Final = "https://api.mistral.ai"

#: Applied only to the HTTP clients levante creates itself: 10 s to connect, and up to
#: 300 s for any single read, write or pool wait (a non-streamed completion may think for
#: minutes before its first byte). A user-supplied client keeps its own timeout.
DEFAULT_TIMEOUT: Final = httpx2.Timeout(300.0, connect=10.0)

#: At most this many bytes of an error response body are read (the rest is discarded).
ERROR_BODY_LIMIT: Final = 64 * 1024

_OFFICIAL_HOSTS: Final = frozenset({"api.mistral.ai"})

#: Longest message an APIError quotes from the body.
_MAX_MESSAGE: Final = 500

try:
    _VERSION = metadata.version("levante")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    _VERSION = "0.0.0"

USER_AGENT: Final = f"levante/{_VERSION}"

TimeoutTypes: TypeAlias = float | httpx2.Timeout | None
ApiKey: TypeAlias = str | Callable[[], str | None] | None
_ModelT = TypeVar("_ModelT", bound=BaseModel)
_StreamT = TypeVar("_StreamT", bound="_StreamCore[Any]")
_AsyncStreamT = TypeVar("_AsyncStreamT", bound="EventStreamAsync[Any]")


class _NotGiven:
    """Marks an argument the caller did not pass (``None`` is a meaningful value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()


@dataclass(slots=True)
class RequestOptions:
    """Per-call overrides, as accepted by every resource method.

    ``timeout`` is already resolved from ``timeout_ms`` / ``timeout``; ``NOT_GIVEN`` means
    "use the client's setting".
    """

    retries: RetryPolicy | _NotGiven = NOT_GIVEN
    server_url: str | None = None
    timeout: TimeoutTypes | _NotGiven = NOT_GIVEN
    http_headers: Mapping[str, str] | None = None
    first_event_timeout: float | None = None
    idle_timeout: float | None = None


@dataclass(slots=True)
class APIRequest:
    """One API call described without I/O: what resources hand to the client."""

    method: str
    path: str
    body: bytes | None = None
    stream: bool = False
    params: Mapping[str, str] | None = None
    options: RequestOptions = field(default_factory=RequestOptions)


def _coerce_timeout(value: TimeoutTypes) -> httpx2.Timeout:
    if isinstance(value, httpx2.Timeout):
        return value
    if value is None:
        return httpx2.Timeout(None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"timeout must be a number of seconds, an httpx2.Timeout or None, "
            f"not {type(value).__name__}"
        )
    if value <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    return httpx2.Timeout(float(value))


def _check_server_url(url: str) -> str:
    if not isinstance(url, str):
        raise TypeError(f"server_url must be a str, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server_url must be an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")


def _redact(text: str, secret: str | None) -> str:
    if secret and len(secret) >= 4 and secret in text:
        return text.replace(secret, "***")
    return text


def _describe_error(status_code: int, reason: str, body: str) -> tuple[str, Any]:
    """A one-line message and the parsed ``detail`` (for 422) of an error body."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    detail: Any = None
    message = ""
    if isinstance(parsed, dict):
        inner = parsed.get("error")
        if isinstance(inner, dict) and "message" in inner:
            parsed = inner
        if "detail" in parsed:
            detail = parsed["detail"]
            message = _describe_detail(detail)
        elif "message" in parsed:
            raw = parsed["message"]
            message = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
            if isinstance(raw, dict) and "detail" in raw:
                detail = raw["detail"]
            extras = [f"{k}={parsed[k]}" for k in ("type", "code") if parsed.get(k) is not None]
            if extras:
                message = f"{message} ({', '.join(extras)})"
    if not message:
        message = body.strip()
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."  # the whole text stays in .body
    return (message or reason or f"HTTP {status_code}"), detail


def _describe_detail(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                msg = str(item.get("msg", item))
                parts.append(f"{loc}: {msg}" if loc else msg)
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)


def _connection_error(exc: Exception, method: str, url: str) -> APIConnectionError:
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(f"{method} {url} timed out ({type(exc).__name__}: {exc})")
    return APIConnectionError(f"{method} {url} failed ({type(exc).__name__}: {exc})")


def _retryable_exception(exc: Exception) -> bool:
    return isinstance(exc, (httpx2.NetworkError, httpx2.TimeoutException, httpx2.ProtocolError))


class _RetryState:
    """Bookkeeping shared by both send paths: may we retry, and how long to wait."""

    __slots__ = ("attempt", "config", "started")

    def __init__(self, config: RetryConfig) -> None:
        self.config = config
        self.attempt = 0
        self.started = time.monotonic()

    def next_delay(self, retry_after: float | None) -> float | None:
        """The wait before the next attempt, or ``None`` when no attempt is left."""
        config = self.config
        if self.attempt >= config.max_retries:
            return None
        delay = backoff_delay(config, self.attempt, retry_after)
        if config.max_elapsed is not None and (
            time.monotonic() - self.started + delay > config.max_elapsed
        ):
            return None
        self.attempt += 1
        return delay


class Mistral:
    """Client for the Mistral API (and any server speaking its wire format).

    :param api_key: the API key, or a callable returning it; ``MISTRAL_API_KEY`` when
        ``None``. A key is required only for the official API: a custom ``server_url``
        (e.g. ``levante serve``) may be used without one.
    :param server_url: base URL; ``MISTRAL_SERVER_URL`` or :data:`DEFAULT_SERVER_URL`
        when ``None``.
    :param timeout: seconds or an ``httpx2.Timeout``. When not passed, clients levante
        creates use :data:`DEFAULT_TIMEOUT` and a user-supplied client keeps its own; when
        passed (``None`` disables timeouts) it applies to every request.
    :param retries: an int (number of retries), a :class:`~levante.RetryConfig`, ``None``
        (no retries) or the official SDK's ``RetryConfig``; default ``RetryConfig()``.
    :param client: an ``httpx2.Client`` to use for sync calls (never closed by levante).
    :param async_client: an ``httpx2.AsyncClient`` for async calls (never closed by levante).
    :param timeout_ms: the official SDK's spelling of ``timeout``, in milliseconds.
    :param retry_config: the official SDK's spelling of ``retries``.

    Use it as a context manager (``with`` or ``async with``) or call :meth:`close` /
    :meth:`aclose` to close the HTTP clients it created.
    """

    def __init__(
        self,
        api_key: ApiKey = None,
        *,
        server_url: str | None = None,
        timeout: TimeoutTypes | _NotGiven = NOT_GIVEN,
        retries: RetryPolicy = DEFAULT_RETRIES,
        client: httpx2.Client | None = None,
        async_client: httpx2.AsyncClient | None = None,
        timeout_ms: int | None = None,
        retry_config: RetryPolicy | _NotGiven = NOT_GIVEN,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("MISTRAL_API_KEY") or None
        if api_key is not None and not isinstance(api_key, str) and not callable(api_key):
            raise TypeError(f"api_key must be a str or a callable, not {type(api_key).__name__}")
        self._api_key: ApiKey = api_key
        if server_url is None:
            server_url = os.environ.get("MISTRAL_SERVER_URL") or DEFAULT_SERVER_URL
        self._server_url = _check_server_url(server_url)
        if timeout_ms is not None:
            if not isinstance(timeout, _NotGiven):
                raise TypeError("pass either timeout (seconds) or timeout_ms, not both")
            timeout = _ms_to_seconds(timeout_ms)
        self._timeout: httpx2.Timeout | None = (
            None if isinstance(timeout, _NotGiven) else _coerce_timeout(timeout)
        )
        self._retries = resolve_retries(
            retries if isinstance(retry_config, _NotGiven) else retry_config
        )
        if client is not None and not isinstance(client, httpx2.Client):
            raise TypeError(f"client must be an httpx2.Client, not {type(client).__name__}")
        if async_client is not None and not isinstance(async_client, httpx2.AsyncClient):
            raise TypeError(
                f"async_client must be an httpx2.AsyncClient, not {type(async_client).__name__}"
            )
        self._client = client
        self._async_client = async_client
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[[], Any] | None = None
        self._owns_client = client is None
        self._owns_async_client = async_client is None

        from .resources.agents import Agents
        from .resources.beta import Beta
        from .resources.chat import Chat
        from .resources.fim import Fim
        from .resources.models import Models

        self.chat: Chat = Chat(self)
        self.fim: Fim = Fim(self)
        self.agents: Agents = Agents(self)
        self.beta: Beta = Beta(self)
        #: Alias of ``beta.conversations``.
        self.conversations: Conversations = self.beta.conversations
        self.models: Models = Models(self)

    # -- configuration -------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        """The base URL requests go to (without a trailing slash)."""
        return self._server_url

    @property
    def retries(self) -> RetryConfig:
        """The client-wide retry policy."""
        return self._retries

    def __repr__(self) -> str:
        key = "unset" if self._api_key is None else "set"
        return f"<Mistral server_url={self._server_url!r} api_key={key}>"

    def _key(self) -> str | None:
        key = self._api_key
        if callable(key):
            resolved: str | None = key()
            return resolved
        return key

    def _http_client(self) -> httpx2.Client:
        client = self._client
        if client is None:
            # Created on first use (an async-only user never opens a sync pool); the lock
            # keeps two threads from each creating one and leaking the other.
            with self._lock:
                client = self._client
                if client is None:
                    client = self._client = httpx2.Client(timeout=self._timeout or DEFAULT_TIMEOUT)
                    # A Mistral dropped without close() (a script's module-level client)
                    # still closes its pool, at garbage collection or at exit, instead of
                    # leaving sockets to the interpreter. Streams keep their Mistral alive
                    # (_owner), so this never cuts a stream still being read.
                    self._finalizer = weakref.finalize(self, client.close)
        return client

    def _http_async_client(self) -> httpx2.AsyncClient:
        client = self._async_client
        if client is None:
            with self._lock:
                client = self._async_client
                if client is None:
                    client = self._async_client = httpx2.AsyncClient(
                        timeout=self._timeout or DEFAULT_TIMEOUT
                    )
        return client

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync HTTP client levante created (a user-supplied one stays open)."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
            if self._finalizer is not None:
                self._finalizer.detach()

    async def aclose(self) -> None:
        """Close both HTTP clients levante created (user-supplied ones stay open)."""
        self.close()
        if self._owns_async_client and self._async_client is not None:
            client, self._async_client = self._async_client, None
            with anyio.CancelScope(shield=True):
                await client.aclose()

    def __enter__(self) -> Mistral:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Mistral:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- request building (no I/O) -------------------------------------------------------

    def _build_request(
        self, client: httpx2.Client | httpx2.AsyncClient, req: APIRequest
    ) -> httpx2.Request:
        opts = req.options
        base = self._server_url if opts.server_url is None else _check_server_url(opts.server_url)
        key = self._key()
        if not key and urlsplit(base).hostname in _OFFICIAL_HOSTS:
            raise MistralError(
                "no Mistral API key: pass Mistral(api_key=...) or set MISTRAL_API_KEY "
                "(a key is optional only for a custom server_url)"
            )
        headers: dict[str, str] | httpx2.Headers = {
            "accept": "text/event-stream" if req.stream else "application/json",
            "user-agent": USER_AGENT,
        }
        if key:
            headers["authorization"] = f"Bearer {key}"
        if req.body is not None:
            headers["content-type"] = "application/json"
        if opts.http_headers:
            # case-insensitive, so that "User-Agent" replaces levante's "user-agent"
            headers = httpx2.Headers(headers)
            headers.update(opts.http_headers)
        timeout: Any
        if not isinstance(opts.timeout, _NotGiven):
            timeout = _coerce_timeout(opts.timeout)
        elif self._timeout is not None:
            timeout = self._timeout
        else:
            timeout = httpx2.USE_CLIENT_DEFAULT
        return client.build_request(
            req.method,
            base + req.path,
            content=req.body,
            params=req.params,
            headers=headers,
            timeout=timeout,
        )

    def _retry_config(self, opts: RequestOptions) -> RetryConfig:
        if isinstance(opts.retries, _NotGiven):
            return self._retries
        return resolve_retries(opts.retries)

    def _error_for(self, response: httpx2.Response, raw: bytes) -> APIError:
        # The key this request carried (a callable key may have changed since).
        key = response.request.headers.get("authorization", "").removeprefix("Bearer ") or None
        body = _redact(raw.decode("utf-8", "replace"), key)
        message, detail = _describe_error(response.status_code, response.reason_phrase, body)
        message = _redact(message, key)
        cls = error_class_for_status(response.status_code)
        if cls is HTTPValidationError:
            return HTTPValidationError(
                message,
                status_code=response.status_code,
                body=body,
                headers=response.headers,
                detail=detail,
            )
        return cls(message, status_code=response.status_code, body=body, headers=response.headers)

    # -- the sync send path --------------------------------------------------------------

    def _send(self, req: APIRequest) -> httpx2.Response:
        """Send ``req`` with retries; return an open streamed response with a 2xx/3xx status."""
        client = self._http_client()
        request = self._build_request(client, req)
        state = _RetryState(self._retry_config(req.options))
        while True:
            try:
                response = client.send(request, stream=True)
            except httpx2.TransportError as exc:
                delay = state.next_delay(None) if _retryable(state, exc) else None
                if delay is None:
                    raise _connection_error(exc, request.method, str(request.url)) from exc
                logger.debug("%s %s: %s, retrying in %.2fs", req.method, req.path, exc, delay)
                time.sleep(delay)
                continue
            status = response.status_code
            logger.debug("%s %s -> %d", request.method, request.url, status)
            if status < 400:
                return response
            try:
                if status in RETRY_STATUS_CODES:
                    delay = state.next_delay(parse_retry_after(response.headers))
                    if delay is not None:
                        _read_bounded(response)  # so the connection can be reused
                        response.close()
                        logger.debug(
                            "%s %s: HTTP %d, retrying in %.2fs", req.method, req.path, status, delay
                        )
                        time.sleep(delay)
                        continue
                raw = _read_bounded(response)
            finally:
                response.close()
            raise self._error_for(response, raw)

    def _request(self, req: APIRequest, model: type[_ModelT]) -> _ModelT:
        """Send a non-streamed request and parse its JSON body into ``model``."""
        response = self._send(req)
        try:
            raw = response.read()
        except httpx2.TransportError as exc:
            raise _connection_error(exc, req.method, str(response.url)) from exc
        finally:
            response.close()
        return _parse(raw, model, req)

    def _wrap(
        self,
        response: httpx2.Response,
        req: APIRequest,
        stream_cls: Callable[..., _StreamT],
        decode: Callable[[Any], Any],
        sentinel: str | None,
        terminal_events: Collection[str],
    ) -> _StreamT:
        """Wrap an open streamed response (no I/O; shared by both send paths)."""
        stream = stream_cls(
            response,
            decode,
            sentinel=sentinel,
            terminal_events=terminal_events,
            first_event_timeout=req.options.first_event_timeout,
            idle_timeout=req.options.idle_timeout,
        )
        stream._owner = self  # keeps this client, and so its pool, alive while streaming
        return stream

    def _stream(
        self,
        req: APIRequest,
        stream_cls: Callable[..., _StreamT],
        decode: Callable[[Any], Any],
        *,
        sentinel: str | None = None,
        terminal_events: Collection[str] = (),
    ) -> _StreamT:
        """Send a streamed request and wrap the response in ``stream_cls``."""
        response = self._send(req)
        try:
            return self._wrap(response, req, stream_cls, decode, sentinel, terminal_events)
        except BaseException:
            response.close()
            raise

    # -- the async send path -------------------------------------------------------------

    async def _send_async(self, req: APIRequest) -> httpx2.Response:
        """Async twin of :meth:`_send`."""
        client = self._http_async_client()
        request = self._build_request(client, req)
        state = _RetryState(self._retry_config(req.options))
        while True:
            try:
                response = await client.send(request, stream=True)
            except httpx2.TransportError as exc:
                delay = state.next_delay(None) if _retryable(state, exc) else None
                if delay is None:
                    raise _connection_error(exc, request.method, str(request.url)) from exc
                logger.debug("%s %s: %s, retrying in %.2fs", req.method, req.path, exc, delay)
                await anyio.sleep(delay)
                continue
            status = response.status_code
            logger.debug("%s %s -> %d", request.method, request.url, status)
            if status < 400:
                return response
            try:
                if status in RETRY_STATUS_CODES:
                    delay = state.next_delay(parse_retry_after(response.headers))
                    if delay is not None:
                        await _aread_bounded(response)  # so the connection can be reused
                        await _aclose(response)
                        logger.debug(
                            "%s %s: HTTP %d, retrying in %.2fs", req.method, req.path, status, delay
                        )
                        await anyio.sleep(delay)
                        continue
                raw = await _aread_bounded(response)
            finally:
                await _aclose(response)
            raise self._error_for(response, raw)

    async def _request_async(self, req: APIRequest, model: type[_ModelT]) -> _ModelT:
        """Async twin of :meth:`_request`."""
        response = await self._send_async(req)
        try:
            raw = await response.aread()
        except httpx2.TransportError as exc:
            raise _connection_error(exc, req.method, str(response.url)) from exc
        finally:
            await _aclose(response)
        return _parse(raw, model, req)

    def _stream_async(
        self,
        req: APIRequest,
        stream_cls: Callable[..., _AsyncStreamT],
        decode: Callable[[Any], Any],
        *,
        sentinel: str | None = None,
        terminal_events: Collection[str] = (),
    ) -> AsyncStreamContext[_AsyncStreamT]:
        """Async twin of :meth:`_stream`: sends nothing until awaited or entered."""
        return AsyncStreamContext(
            functools.partial(
                self._open_stream_async,
                req,
                stream_cls,
                decode,
                sentinel=sentinel,
                terminal_events=terminal_events,
            )
        )

    async def _open_stream_async(
        self,
        req: APIRequest,
        stream_cls: Callable[..., _AsyncStreamT],
        decode: Callable[[Any], Any],
        *,
        sentinel: str | None,
        terminal_events: Collection[str],
    ) -> _AsyncStreamT:
        response = await self._send_async(req)
        try:
            return self._wrap(response, req, stream_cls, decode, sentinel, terminal_events)
        except BaseException:
            await _aclose(response)
            raise


def _ms_to_seconds(timeout_ms: int) -> float:
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float)):
        raise TypeError(f"timeout_ms must be an int, not {type(timeout_ms).__name__}")
    if timeout_ms <= 0:
        raise ValueError("timeout_ms must be a positive number of milliseconds")
    return timeout_ms / 1000


def _retryable(state: _RetryState, exc: Exception) -> bool:
    return state.config.retry_connection_errors and _retryable_exception(exc)


def _read_bounded(response: httpx2.Response) -> bytes:
    """Up to :data:`ERROR_BODY_LIMIT` bytes of the body; the response is closed after."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_BODY_LIMIT:
                break
    except httpx2.HTTPError:
        pass  # an error status is what matters; keep what arrived
    finally:
        response.close()
    return b"".join(chunks)[:ERROR_BODY_LIMIT]


async def _aread_bounded(response: httpx2.Response) -> bytes:
    """Async twin of :func:`_read_bounded` (the caller closes the response)."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) <= ERROR_BODY_LIMIT:
        # Small: read it all, so that the connection can go back to the pool.
        try:
            return await response.aread()
        except httpx2.HTTPError:
            return b""
    chunks: list[bytes] = []
    size = 0
    body = response.aiter_bytes()
    try:
        async for chunk in body:
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_BODY_LIMIT:
                break
    except httpx2.HTTPError:
        pass
    finally:
        with anyio.CancelScope(shield=True):
            # not body.aclose(): that would abandon httpx2's innermost generator (trio
            # reports it); the stream layer's abort unwinds the whole chain instead
            await _abort_body(body)
    return b"".join(chunks)[:ERROR_BODY_LIMIT]


async def _aclose(response: httpx2.Response) -> None:
    # Closing must happen even when the surrounding task is being cancelled.
    with anyio.CancelScope(shield=True):
        await response.aclose()


def _parse(raw: bytes, model: type[_ModelT], req: APIRequest) -> _ModelT:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise MistralError(
            f"{req.method} {req.path}: the response is not a valid {model.__name__}: {exc}"
        ) from exc
