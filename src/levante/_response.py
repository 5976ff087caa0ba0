"""Reading what a server answered: bounded body reads, error mapping and parsing.

The sync and async readers are twins that agree on everything but ``for`` / ``async
for``: both count *decoded* bytes, both stop at the same limit, and both close the
response whatever happens. Content-Length is not trusted by either: it counts the
compressed bytes, not what decompression would make of them.

They read raw chunks and decode them with the response's own httpx2 decoder
(``Response._get_content_decoder``, private: the one place levante takes it), which
decompresses lazily in pieces of at most 1 MiB. Reading ``aiter_bytes()`` instead would
be bounded in memory too, but aborting it at the limit skips what it has buffered, which
for a few hundred bytes of "gzip, gzip" bomb means decompressing half a gigabyte (seconds
of CPU per request): on raw chunks the abort stops at the next network read.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, TypeVar

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from ._checks import describe_error, printable, redact, secrets_in
from ._streaming import abort_body
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    HTTPValidationError,
    MistralError,
    NotAnEventStream,
    ResponseTooLarge,
    error_class_for_status,
)

if TYPE_CHECKING:
    # only a type: reading answers sits below the request layer (connect_sse uses it)
    from ._request import APIRequest

__all__ = [
    "ERROR_BODY_LIMIT",
    "RESPONSE_BODY_LIMIT",
    "aread_body",
    "aread_error_body",
    "check_answer",
    "connection_error",
    "describe_validation",
    "error_for",
    "parse",
    "read_body",
    "read_error_body",
    "secrets_of",
    "unexpected_answer",
]

#: At most this many (decoded) bytes of an error body are kept; the rest is discarded.
ERROR_BODY_LIMIT: Final = 64 * 1024

#: The default bound of a non-streamed JSON answer (decoded bytes): a larger one is refused
#: with :class:`~levante.errors.ResponseTooLarge` rather than buffered. A client's
#: ``max_response_bytes`` replaces it.
RESPONSE_BODY_LIMIT: Final = 64 * 1024 * 1024

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def secrets_of(request: httpx2.Request) -> list[str]:
    """The credentials ``request`` carried: whole header values and their token part."""
    return secrets_in(request.headers.multi_items())


def _underlying(exc: BaseException) -> str:
    """The first message down ``exc``'s chain (trio's TLS errors arrive as a bare
    ``ConnectError`` caused by the ``SSLCertVerificationError`` that says why)."""
    seen = exc.__cause__ or exc.__context__
    for _ in range(5):
        if seen is None:
            break
        if str(seen):
            return f"{type(seen).__name__}: {seen}"
        seen = seen.__cause__ or seen.__context__
    return ""


def _reason(exc: BaseException, request: httpx2.Request) -> str:
    """What went wrong, never empty: some transports raise errors without a message."""
    text = str(exc) or _underlying(exc)
    if not text and isinstance(exc, httpx2.TimeoutException):
        timeouts = request.extensions.get("timeout") or {}
        part = {
            httpx2.ConnectTimeout: "connect",
            httpx2.ReadTimeout: "read",
            httpx2.WriteTimeout: "write",
            httpx2.PoolTimeout: "pool",
        }.get(type(exc), "read")
        limit = timeouts.get(part) if isinstance(timeouts, dict) else None
        text = f"no progress within the {part} timeout" + (f" ({limit} s)" if limit else "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def connection_error(exc: Exception, request: httpx2.Request) -> APIConnectionError:
    """The levante error for a transport failure while sending ``request``."""
    cls = APITimeoutError if isinstance(exc, httpx2.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    text = f"{request.method} {request.url} {what} ({_reason(exc, request)})"
    return cls(printable(redact(text, secrets_of(request))))


def _redact_headers(headers: httpx2.Headers, secrets: list[str]) -> dict[str, str]:
    # a server may echo the credentials back in a header (a debugging proxy, a hostile one)
    return {name: redact(value, secrets) for name, value in headers.items()}


def error_for(response: httpx2.Response, raw: bytes) -> APIError:
    """The :class:`~levante.errors.APIError` subclass for an error status and its body."""
    secrets = secrets_of(response.request)
    body = redact(raw.decode("utf-8", "replace"), secrets)
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = body
    message, detail = describe_error(payload)
    message = message or printable(response.reason_phrase) or f"HTTP {response.status_code}"
    cls = error_class_for_status(response.status_code)
    headers = _redact_headers(response.headers, secrets)
    if cls is HTTPValidationError:
        return HTTPValidationError(
            message,
            status_code=response.status_code,
            body=body,
            headers=headers,
            detail=detail,
        )
    return cls(message, status_code=response.status_code, body=body, headers=headers)


def _media_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def check_answer(response: httpx2.Response, stream: bool) -> bool:
    """Whether a status < 400 answers the call as expected, before its body is read.

    A stream call wants a 200 ``text/event-stream`` (as the official SDK does); a JSON call
    a 2xx whose content type, when there is one, is JSON. Redirects are never followed: a
    3xx is unexpected too (following one would send the key wherever ``Location`` points).
    """
    status = response.status_code
    media_type = _media_type(response)
    if stream:
        return status == 200 and media_type == "text/event-stream"
    return 200 <= status < 300 and (not media_type or _is_json(media_type))


def unexpected_answer(response: httpx2.Response, raw: bytes, stream: bool) -> APIError:
    """The error for an answer :func:`check_answer` refused; ``raw`` is its bounded body.

    The message names the status and the content type, e.g. a captive portal's ``200
    text/html`` where an event stream was expected: a
    :class:`~levante.errors.NotAnEventStream` for a stream call, else an ``APIError``.
    """
    expected = "an event stream (text/event-stream)" if stream else "a JSON body"
    media_type = printable(_media_type(response)) or "no content type"
    status = response.status_code
    request = response.request
    message = (
        f"{request.method} {request.url.path}: expected {expected}, the server answered "
        f"{status} with {media_type}"
    )
    if 300 <= status < 400:
        message += " (a redirect: levante does not follow redirects; check server_url)"
    elif media_type == "text/html":
        message += " (a captive portal, a proxy's page or a wrong server_url?)"
    secrets = secrets_of(request)
    cls = NotAnEventStream if stream else APIError
    return cls(
        printable(redact(message, secrets)),
        status_code=status,
        body=redact(raw.decode("utf-8", "replace"), secrets),
        headers=_redact_headers(response.headers, secrets),
    )


class _Bounded:
    """Decoded chunks up to a limit: what both twins of every reader accumulate."""

    __slots__ = ("chunks", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.chunks: list[bytes] = []
        self.limit = limit
        self.size = 0

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; True once the limit is reached."""
        self.chunks.append(chunk)
        self.size += len(chunk)
        return self.size >= self.limit

    def value(self) -> bytes:
        return b"".join(self.chunks)[: self.limit]


def _in_memory(response: httpx2.Response, kept: _Bounded) -> bool | None:
    """Fill ``kept`` from a body already read (a mock transport's): None if it was not."""
    try:
        body = response.content
    except httpx2.ResponseNotRead:
        return None
    return kept.add(body)


def _fill(response: httpx2.Response, kept: _Bounded) -> bool:
    """Read and decode the body into ``kept`` until its limit (True) or its end (False);
    closes the response. Raises httpx2's transport and decoding errors."""
    try:
        done = _in_memory(response, kept)
        if done is not None:
            return done
        decoder = response._get_content_decoder()
        for data in response.iter_raw():
            for piece in decoder.decode(data):
                if kept.add(piece):
                    return True
        return any(kept.add(piece) for piece in decoder.flush())
    finally:
        response.close()


async def _afill(response: httpx2.Response, kept: _Bounded) -> bool:
    """Async twin of :func:`_fill`."""
    done = _in_memory(response, kept)
    if done is not None:
        await response.aclose()
        return done
    raw = response.aiter_raw()
    try:
        decoder = response._get_content_decoder()
        async for data in raw:
            for piece in decoder.decode(data):
                if kept.add(piece):
                    return True
        return any(kept.add(piece) for piece in decoder.flush())
    finally:
        with anyio.CancelScope(shield=True):
            # Not raw.aclose() alone: that would abandon httpx2's innermost generator
            # (trio reports it); abort_body unwinds the whole chain. On the raw chunks,
            # not on aiter_bytes(): skipping what that has buffered would decompress it.
            await abort_body(raw)
            await response.aclose()


def read_error_body(response: httpx2.Response) -> bytes:
    """Up to :data:`ERROR_BODY_LIMIT` decoded bytes of an error body; closes the response.

    Read to its end when it is smaller, so that the connection goes back to the pool.
    """
    kept = _Bounded(ERROR_BODY_LIMIT)
    with contextlib.suppress(httpx2.HTTPError):  # the status is what matters: keep what came
        _fill(response, kept)
    return kept.value()


async def aread_error_body(response: httpx2.Response) -> bytes:
    """Async twin of :func:`read_error_body`."""
    kept = _Bounded(ERROR_BODY_LIMIT)
    with contextlib.suppress(httpx2.HTTPError):
        await _afill(response, kept)
    return kept.value()


def _too_large(response: httpx2.Response, limit: int) -> ResponseTooLarge:
    request = response.request
    return ResponseTooLarge(
        f"{request.method} {request.url.path}: the response body exceeds {limit} bytes "
        "(max_response_bytes); refused"
    )


def _decoding_error(exc: httpx2.DecodingError) -> MistralError:
    return MistralError(f"could not decode the response body: {printable(str(exc))}")


def read_body(response: httpx2.Response, limit: int = RESPONSE_BODY_LIMIT) -> bytes:
    """The whole decoded body of a JSON answer; :class:`~levante.errors.ResponseTooLarge`
    past ``limit`` bytes. Closes the response."""
    kept = _Bounded(limit + 1)
    try:
        full = _fill(response, kept)
    except httpx2.TransportError as exc:
        raise connection_error(exc, response.request) from exc
    except httpx2.DecodingError as exc:
        raise _decoding_error(exc) from exc
    if full:
        raise _too_large(response, limit)
    return kept.value()


async def aread_body(response: httpx2.Response, limit: int = RESPONSE_BODY_LIMIT) -> bytes:
    """Async twin of :func:`read_body`."""
    kept = _Bounded(limit + 1)
    try:
        full = await _afill(response, kept)
    except httpx2.TransportError as exc:
        raise connection_error(exc, response.request) from exc
    except httpx2.DecodingError as exc:
        raise _decoding_error(exc) from exc
    if full:
        raise _too_large(response, limit)
    return kept.value()


def describe_validation(exc: ValidationError) -> str:
    """A pydantic error as ``loc: msg`` items, without the input values it would quote
    (a server's answer: it may echo the credentials, or be megabytes long)."""
    items = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [
        f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" if item["loc"] else item["msg"]
        for item in items[:5]
    ]
    if len(items) > 5:
        parts.append(f"... ({len(items)} errors)")
    return printable("; ".join(parts))


def parse(
    raw: bytes, model: type[_ModelT], req: APIRequest, secrets: Sequence[str] = ()
) -> _ModelT:
    """``raw`` validated as ``model``; a clear error when the server sent something else.

    The error never quotes the body; pydantic's own error is chained unless it quotes one
    of ``secrets`` (the credentials the request carried).
    """
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        error = MistralError(
            f"{req.method} {req.path}: the response is not a valid {model.__name__}: "
            + describe_validation(exc)
        )
        text = str(exc)
        if redact(text, secrets) == text:
            raise error from exc
    raise error  # outside the handler, so not chained to an error quoting a secret
