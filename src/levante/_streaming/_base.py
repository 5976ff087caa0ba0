"""BaseEventStream: what both twins share above the core: the response, the constructor,
and the redaction of the request's credentials from what a server quotes in an error."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar, TypeVar

import httpx2

from .._checks import redact, redact_value, secrets_in
from ..errors import StreamAPIError, StreamDecodeError
from ..sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent
from ._core import StreamCore
from ._end import EndRule
from ._state import State, Step

__all__ = ["BaseEventStream", "end_rule", "redact_stream_error"]

# A member looked up on an enum class costs ~1 us (EnumType attribute access), more
# than a whole read at times: paths that run per read use these names.
_RELEASING = State.RELEASING
_RELEASED = State.RELEASED

T = TypeVar("T")


def end_rule(
    sentinel: str | None, terminal_events: Collection[str], end: EndRule | None
) -> EndRule:
    """The rule the constructor's keywords describe (at most one of the three is given)."""
    if sentinel is not None and not isinstance(sentinel, str):
        raise TypeError(f"sentinel must be a str or None, not {type(sentinel).__name__}")
    if isinstance(terminal_events, (str, bytes)):
        raise TypeError("terminal_events must be a collection of event types, not a string")
    given = (sentinel is not None) + bool(terminal_events) + (end is not None)
    if given > 1:
        raise TypeError("give at most one of sentinel=, terminal_events= and end=")
    if end is not None:
        if not isinstance(end, EndRule):
            raise TypeError(f"end must be an EndRule, not {type(end).__name__}")
        return end
    if sentinel is not None:
        return EndRule.at_sentinel(sentinel)
    if terminal_events:
        return EndRule.at_event(terminal_events)
    return EndRule.at_body_end()


def redact_stream_error(error: StreamAPIError | StreamDecodeError, secrets: list[str]) -> None:
    """Take ``secrets`` out of an error quoting what the server sent: its message, its
    event (a copy replaces it), a StreamAPIError's payload, and a decode error's chained
    cause (dropped when it quotes one: a pydantic error repeats the input it refused)."""
    message = str(error)
    clean = redact(message, secrets)
    if clean != message:
        error.args = (clean,)
    event = error.event
    if isinstance(event, ServerSentEvent):
        kind, data, last_id = (
            redact(text, secrets) for text in (event.event, event.data, event.id)
        )
        if (kind, data, last_id) != (event.event, event.data, event.id):
            error.event = ServerSentEvent(event=kind, data=data, id=last_id, retry=event.retry)
    if isinstance(error, StreamAPIError):
        error.payload = redact_value(error.payload, secrets)
    cause = error.__cause__
    if cause is not None and redact(str(cause), secrets) != str(cause):
        error.__cause__ = None
        error.__suppress_context__ = True


class BaseEventStream(StreamCore[T]):
    """The base of :class:`EventStream` and :class:`EventStreamAsync` (see them)."""

    #: The byte stream a response from the right kind of client carries, and what to say
    #: when it is the other kind.
    _byte_stream: ClassVar[type[Any]]
    _wrong_client: ClassVar[str]

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], T],
        *,
        sentinel: str | None = None,
        terminal_events: Collection[str] = (),
        end: EndRule | None = None,
        first_event_timeout: float | None = None,
        idle_timeout: float | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        owner: object = None,
    ) -> None:
        # Set first so that __del__ is quiet if validation below fails.
        self._state = _RELEASED
        #: Whatever must outlive the stream, e.g. the client whose finalizer would
        #: otherwise close the pool under a stream still being read.
        self._owner = owner
        if not isinstance(response, httpx2.Response):
            raise TypeError(f"response must be an httpx2.Response, not {type(response).__name__}")
        if not isinstance(response.stream, self._byte_stream):
            raise TypeError(self._wrong_client)
        rule = end_rule(sentinel, terminal_events, end)
        super().__init__(
            decode,
            end=rule,
            first_event_timeout=first_event_timeout,
            idle_timeout=idle_timeout,
            max_event_size=max_event_size,
        )
        self._response = response
        self._init_io(response)

    def _init_io(self, response: httpx2.Response) -> None:
        """Set up the twin's own I/O state (called last by ``__init__``)."""
        raise NotImplementedError

    def _request(self) -> httpx2.Request:
        return self._response.request

    def _fail(self, error: BaseException) -> Step:
        # Only errors quoting the server's words can quote the key (a server or proxy that
        # echoes the request); the request in hand says what to take out.
        if isinstance(error, (StreamAPIError, StreamDecodeError)):
            secrets = secrets_in(self._response.request.headers.multi_items())
            if secrets:
                redact_stream_error(error, secrets)
        return super()._fail(error)

    @property
    def response(self) -> httpx2.Response:
        """The underlying ``httpx2`` response (status, headers, request)."""
        return self._response

    @property
    def end(self) -> EndRule:
        """How this stream ends (see :class:`~levante.EndRule`)."""
        return self._end

    @property
    def closed(self) -> bool:
        """True once the stream has released its connection (ended, failed or closed)."""
        return self._state >= _RELEASING

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} [{state}] events={self._events} bytes={self._bytes}>"
