"""Every exception levante raises, in one hierarchy::

    MistralError
    ├── APIError(status_code, body, headers)        an HTTP error response
    │   ├── BadRequestError                          400
    │   ├── AuthenticationError                      401
    │   ├── PermissionDeniedError                    403
    │   ├── NotFoundError                            404
    │   ├── HTTPValidationError                      422, with the parsed ``detail``
    │   ├── RateLimitError                           429
    │   ├── InternalServerError                      5xx
    │   └── NotAnEventStream                         a success status, but not text/event-stream
    ├── APIConnectionError                           the server could not be reached
    │   └── APITimeoutError                          connect, read, write or pool timeout
    ├── ResponseTooLarge                             a JSON answer outgrew max_response_bytes
    ├── StreamError                                  something went wrong inside a stream
    │   ├── IncompleteStreamError                    the body ended (or the connection was
    │   │   │                                        lost) before the stream did
    │   │   └── ReconnectError                       reconnecting gave up after max_attempts
    │   ├── StreamAPIError                           the server sent an error inside the stream
    │   │   └── StreamDisconnectedError              a workflow stream's ``event: error``
    │   ├── StreamDecodeError                        an event could not be decoded
    │   ├── StreamEventTooLarge                      an event outgrew max_event_size
    │   ├── StreamTimeout                            first_event_timeout / idle_timeout
    │   └── StreamClosed                             the stream was closed while being read
    └── StructuredOutputError(raw, model)            structured output (chat.parse) that is
                                                     not an instance of the requested model;
                                                     also a ValueError, like the json and
                                                     pydantic errors the official SDK raises

The sans-IO decoder in :mod:`levante.sse` has its own small tree (``SSEError`` <-
``EventTooLarge``) because it imports nothing from the rest of levante; a stream turns
``EventTooLarge`` into :class:`StreamEventTooLarge`, chaining the original.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "HTTPValidationError",
    "IncompleteStreamError",
    "InternalServerError",
    "MistralError",
    "NotAnEventStream",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReconnectError",
    "ResponseTooLarge",
    "StreamAPIError",
    "StreamClosed",
    "StreamDecodeError",
    "StreamDisconnectedError",
    "StreamError",
    "StreamEventTooLarge",
    "StreamTimeout",
    "StructuredOutputError",
    "error_class_for_status",
]


class MistralError(Exception):
    """Base class of every error levante raises (except the sans-IO ``levante.sse`` ones)."""


class APIError(MistralError):
    """The server answered with an HTTP error status.

    ``body`` is the (size-bounded) response text, ``headers`` the response headers; the
    response itself is already closed when this is raised.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


class BadRequestError(APIError):
    """HTTP 400."""


class AuthenticationError(APIError):
    """HTTP 401: the API key is missing or wrong."""


class PermissionDeniedError(APIError):
    """HTTP 403."""


class NotFoundError(APIError):
    """HTTP 404: unknown path or model."""


class HTTPValidationError(APIError):
    """HTTP 422: the request did not validate; ``detail`` holds the server's parsed detail."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        detail: Any = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, headers=headers)
        self.detail = detail


class RateLimitError(APIError):
    """HTTP 429."""


class InternalServerError(APIError):
    """HTTP 5xx."""


class NotAnEventStream(APIError):
    """The server answered with a success status, but not with ``text/event-stream``.

    The message names the status and the content type; ``body`` holds the start of what
    was sent instead (the response is closed).
    """


class APIConnectionError(MistralError):
    """The request could not be sent or the response could not be received."""


class APITimeoutError(APIConnectionError):
    """The HTTP client timed out (connect, read, write or pool)."""


class ResponseTooLarge(MistralError):
    """A non-streamed answer's decoded body grew past the client's ``max_response_bytes``;
    it was refused (and its connection closed) rather than buffered."""


class StreamError(MistralError):
    """Base class of the errors raised while iterating a stream.

    ``events_delivered`` counts the items the stream had yielded before the error.
    """

    def __init__(self, message: str, *, events_delivered: int = 0) -> None:
        super().__init__(message)
        self.events_delivered = events_delivered


class IncompleteStreamError(StreamError):
    """The answer was truncated: the body ended before the stream's end marker or in the
    middle of an event, or the connection was lost while the body was being read (the
    transport error is chained as ``__cause__``)."""


class StreamAPIError(StreamError):
    """The server reported an error inside the stream.

    ``payload`` is the parsed error object (or the raw data when it was not JSON) and
    ``event`` the raw :class:`levante.sse.ServerSentEvent`.
    """

    def __init__(
        self, message: str, *, payload: Any, event: Any, events_delivered: int = 0
    ) -> None:
        super().__init__(message, events_delivered=events_delivered)
        self.payload = payload
        self.event = event


class ReconnectError(IncompleteStreamError):
    """Reconnecting gave up: ``attempts`` new requests in a row brought no event.

    The last failure (a connection error, or the loss of the last connection) is chained
    as ``__cause__``.
    """

    def __init__(self, message: str, *, attempts: int, events_delivered: int = 0) -> None:
        super().__init__(message, events_delivered=events_delivered)
        self.attempts = attempts


class StreamDisconnectedError(StreamAPIError):
    """A workflow stream was ended by the server with ``event: error`` (the official SDK's
    ``StreamDisconnectedError``): ``error`` is the server's message and ``reason`` one of
    ``"read_error"``, ``"stream_error"`` or ``"internal_error"``. Not a lost connection:
    that is :class:`IncompleteStreamError`."""

    def __init__(
        self,
        message: str,
        *,
        payload: Any,
        event: Any,
        error: str,
        reason: str,
        events_delivered: int = 0,
    ) -> None:
        super().__init__(message, payload=payload, event=event, events_delivered=events_delivered)
        self.error = error
        self.reason = reason


class StreamDecodeError(StreamError):
    """An event's data could not be decoded; ``event`` is the raw ServerSentEvent."""

    def __init__(self, message: str, *, event: Any, events_delivered: int = 0) -> None:
        super().__init__(message, events_delivered=events_delivered)
        self.event = event


class StreamEventTooLarge(StreamError):
    """One event grew past the stream's ``max_event_size``."""


class StreamTimeout(StreamError):
    """No event arrived within ``first_event_timeout`` or ``idle_timeout`` seconds."""


class StreamClosed(StreamError):
    """The stream was closed (from another thread or task) while it was being read."""


class StructuredOutputError(MistralError, ValueError):
    """Structured output that is not an instance of the requested model.

    Raised by ``chat.parse`` and ``final_response()`` of ``chat.parse_stream`` (and by
    :func:`levante.models.parse_chat_completion`) when a choice's text is not JSON or does
    not validate. ``raw`` is that text exactly as the model wrote it, ``model`` the
    pydantic class asked for and ``choice_index`` the choice; the
    :class:`json.JSONDecodeError` or :class:`pydantic.ValidationError` is chained as
    ``__cause__``. It is a :class:`ValueError` too, so code written for the official SDK
    (which lets those two through, both ``ValueError`` subclasses) still catches it.
    """

    def __init__(self, message: str, *, raw: str, model: type[Any], choice_index: int = 0) -> None:
        super().__init__(message)
        self.raw = raw
        self.model = model
        self.choice_index = choice_index


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: HTTPValidationError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP status code."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIError)
