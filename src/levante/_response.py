"""Reading what a server answered: bounded body reads, error mapping and parsing.

The sync and async readers are twins that agree on everything but ``for`` / ``async
for``: both count *decoded* bytes (httpx2 decompresses in bounded pieces, so a small
compressed bomb cannot inflate in one go), both stop at the same limit, and both close the
response whatever happens. Content-Length is not trusted by either: it counts the
compressed bytes, not what decompression would make of them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final, TypeVar

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from ._checks import describe_error, redact
from ._streaming import abort_body
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    HTTPValidationError,
    MistralError,
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
    "connection_error",
    "error_for",
    "parse",
    "read_body",
    "read_error_body",
    "secrets_of",
]

#: At most this many (decoded) bytes of an error body are kept; the rest is discarded.
ERROR_BODY_LIMIT: Final = 64 * 1024

#: A non-streamed JSON answer larger than this (decoded) is refused rather than buffered.
RESPONSE_BODY_LIMIT: Final = 64 * 1024 * 1024

#: Request headers whose values are credentials, redacted from every error message.
SECRET_HEADERS: Final = ("authorization", "api-key", "x-api-key")

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def secrets_of(request: httpx2.Request) -> list[str]:
    """The credentials ``request`` carried: whole header values and their token part."""
    found: list[str] = []
    for name in SECRET_HEADERS:
        for value in request.headers.get_list(name):
            found.append(value)
            _, _, token = value.partition(" ")
            if token:
                found.append(token)
    return found


def connection_error(exc: Exception, request: httpx2.Request) -> APIConnectionError:
    """The levante error for a transport failure while sending ``request``."""
    cls = APITimeoutError if isinstance(exc, httpx2.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else "failed"
    text = f"{request.method} {request.url} {what} ({type(exc).__name__}: {exc})"
    return cls(redact(text, secrets_of(request)))


def error_for(response: httpx2.Response, raw: bytes) -> APIError:
    """The :class:`~levante.errors.APIError` subclass for an error status and its body."""
    secrets = secrets_of(response.request)
    body = redact(raw.decode("utf-8", "replace"), secrets)
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = body
    message, detail = describe_error(payload)
    message = message or response.reason_phrase or f"HTTP {response.status_code}"
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


def read_error_body(response: httpx2.Response) -> bytes:
    """Up to :data:`ERROR_BODY_LIMIT` decoded bytes of an error body; closes the response.

    Read to its end when it is smaller, so that the connection goes back to the pool.
    """
    kept = _Bounded(ERROR_BODY_LIMIT)
    body = response.iter_bytes()
    try:
        for chunk in body:
            if kept.add(chunk):
                break
    except httpx2.HTTPError:
        pass  # the status is what matters; keep what arrived
    finally:
        response.close()
    return kept.value()


async def aread_error_body(response: httpx2.Response) -> bytes:
    """Async twin of :func:`read_error_body`."""
    kept = _Bounded(ERROR_BODY_LIMIT)
    body = response.aiter_bytes()
    try:
        async for chunk in body:
            if kept.add(chunk):
                break
    except httpx2.HTTPError:
        pass
    finally:
        with anyio.CancelScope(shield=True):
            # not body.aclose() alone: that would abandon httpx2's innermost generator
            # (trio reports it); abort_body unwinds the whole chain
            await abort_body(body)
            await response.aclose()
    return kept.value()


def _too_large(response: httpx2.Response, limit: int) -> MistralError:
    request = response.request
    return MistralError(
        f"{request.method} {request.url.path}: the response body exceeds {limit} bytes; refused"
    )


def read_body(response: httpx2.Response, limit: int = RESPONSE_BODY_LIMIT) -> bytes:
    """The whole decoded body of a JSON answer, refused past ``limit`` bytes."""
    kept = _Bounded(limit + 1)
    body = response.iter_bytes()
    try:
        for chunk in body:
            if kept.add(chunk):
                raise _too_large(response, limit)
    except httpx2.TransportError as exc:
        raise connection_error(exc, response.request) from exc
    except httpx2.DecodingError as exc:
        raise MistralError(f"could not decode the response body: {exc}") from exc
    finally:
        response.close()
    return kept.value()


async def aread_body(response: httpx2.Response, limit: int = RESPONSE_BODY_LIMIT) -> bytes:
    """Async twin of :func:`read_body`."""
    kept = _Bounded(limit + 1)
    body = response.aiter_bytes()
    try:
        async for chunk in body:
            if kept.add(chunk):
                raise _too_large(response, limit)
    except httpx2.TransportError as exc:
        raise connection_error(exc, response.request) from exc
    except httpx2.DecodingError as exc:
        raise MistralError(f"could not decode the response body: {exc}") from exc
    finally:
        with anyio.CancelScope(shield=True):
            await abort_body(body)
            await response.aclose()
    return kept.value()


def parse(raw: bytes, model: type[_ModelT], req: APIRequest) -> _ModelT:
    """``raw`` validated as ``model``; a clear error when the server sent something else."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise MistralError(
            f"{req.method} {req.path}: the response is not a valid {model.__name__}: {exc}"
        ) from exc
