"""The sans-IO core of a stream: decoder, pending events, end rule, errors, stats, deadlines.

:class:`StreamCore` is what both twins (:mod:`._sync`, :mod:`._async`) share: bytes in,
decoded items out, and the errors a stream reports. It never does I/O; the twins read
bytes and release the response. See the package docstring for the design rules.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import httpx2

from .._checks import check_timeout, describe_error
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    MistralError,
    StreamAPIError,
    StreamClosed,
    StreamDecodeError,
    StreamError,
    StreamEventTooLarge,
    StreamTimeout,
)
from ..sse import DEFAULT_MAX_EVENT_SIZE, EventTooLarge, ServerSentEvent, SSEDecoder

__all__ = [
    "CLOSED",
    "CLOSE_WAIT",
    "DEADLINE",
    "DRAIN_MAX_BYTES",
    "DRAIN_TIMEOUT",
    "FAIRNESS_MASK",
    "Ended",
    "StreamCore",
    "StreamStats",
]

T = TypeVar("T")

#: After the sentinel, at most this many bytes of the body are read to reuse the connection.
DRAIN_MAX_BYTES = 64 * 1024
#: After the sentinel, at most this many seconds are spent reading the rest of the body.
DRAIN_TIMEOUT = 1.0
#: How long ``close()`` waits for a reader it interrupted to release the connection.
CLOSE_WAIT = 5.0
#: EventStreamAsync yields to the event loop before every 32nd event of one read.
FAIRNESS_MASK = 31

_monotonic = time.monotonic

#: Why a read was cut short.
CLOSED = "closed"
DEADLINE = "deadline"


@dataclass(frozen=True, slots=True)
class StreamStats:
    """A snapshot of a stream's counters; every duration is in seconds.

    Times are taken when the decoder dispatches events, i.e. when the bytes completing
    them were read, not when the consumer asks for them.
    """

    #: From the stream's construction to the first dispatched event; None before it.
    time_to_first_event: float | None
    #: Items yielded to the consumer (the sentinel is not counted).
    events: int
    #: Bytes of (content-decoded) body read so far.
    bytes: int
    #: From construction to the release of the connection, or to now while still open.
    elapsed: float
    #: The longest time between two reads that each completed at least one event.
    longest_gap: float


class Ended(Exception):
    """Internal: the sentinel was reached."""


def _error_message(payload: Any) -> str:
    """A short human message for an in-stream error payload."""
    message = describe_error(payload)[0] or json.dumps(payload, ensure_ascii=False, default=str)
    return f"the server reported an error in the stream: {message}"


class StreamCore(Generic[T]):
    """The sans-IO part shared by both twins: bytes in, decoded items out.

    ``owner`` is whatever must outlive the stream, e.g. the client that opened it, whose
    finalizer would otherwise close the pool under a stream still being read.
    """

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
        first_event_timeout: float | None = None,
        idle_timeout: float | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        owner: object = None,
    ) -> None:
        # Set first so that __del__ is quiet if validation below fails.
        self._released = True
        self._owner = owner
        if not isinstance(response, httpx2.Response):
            raise TypeError(f"response must be an httpx2.Response, not {type(response).__name__}")
        if not isinstance(response.stream, self._byte_stream):
            raise TypeError(self._wrong_client)
        if not callable(decode):
            raise TypeError(f"decode must be callable, not {type(decode).__name__}")
        if sentinel is not None and not isinstance(sentinel, str):
            raise TypeError(f"sentinel must be a str or None, not {type(sentinel).__name__}")
        if isinstance(terminal_events, (str, bytes)):
            raise TypeError("terminal_events must be a collection of event types, not a string")
        terminal = frozenset(terminal_events)
        if not all(isinstance(name, str) for name in terminal):
            raise TypeError("terminal_events must contain only str event types")
        self._idle_timeout = check_timeout("idle_timeout", idle_timeout)
        first = check_timeout("first_event_timeout", first_event_timeout)
        self._first_timeout = first if first is not None else self._idle_timeout
        self._decoder = SSEDecoder(max_event_size)
        self._decoder_feed = self._decoder.feed

        self._response = response
        self._decode = decode
        self._sentinel = sentinel
        self._terminal: frozenset[str] | None = terminal or None
        self._expect_end = sentinel is not None or bool(terminal)

        # Events dispatched by the last read that produced any, and the next one to deliver.
        self._pending: list[ServerSentEvent] = []
        self._pos = 0
        # An error to raise once the pending events are delivered (an oversized event).
        self._error: StreamError | None = None
        # The end marker was seen, or the body ended where it may.
        self._complete = False
        # No more reads: closed, finished or failed. _released: the response is closed.
        self._closed = False
        self._released = False
        # The release has completed (it may await, or run in another thread).
        self._release_finished = False

        self._events = 0
        self._bytes = 0
        self._t0 = _monotonic()
        self._t_first: float | None = None
        self._t_last = self._t0
        self._longest_gap = 0.0
        self._t_end: float | None = None
        # Monotonic time by which the next event must arrive, or None.
        self._deadline: float | None = (
            self._t0 + self._first_timeout if self._first_timeout is not None else None
        )
        self._init_io(response)

    def _init_io(self, response: httpx2.Response) -> None:
        """Set up the twin's own I/O state (called last by ``__init__``)."""
        raise NotImplementedError

    # -- public read-only state -------------------------------------------------------

    @property
    def response(self) -> httpx2.Response:
        """The underlying ``httpx2`` response (status, headers, request)."""
        return self._response

    @property
    def last_event_id(self) -> str:
        """The last event ID the server sent, as ``EventSource`` keeps it ("" if none)."""
        return self._decoder.last_event_id

    @property
    def closed(self) -> bool:
        """True once the stream has released its connection (ended, failed or closed)."""
        return self._released

    @property
    def stats(self) -> StreamStats:
        """Counters and timings of this stream so far (see :class:`StreamStats`)."""
        end = self._t_end if self._t_end is not None else time.monotonic()
        first = self._t_first
        return StreamStats(
            time_to_first_event=None if first is None else first - self._t0,
            events=self._events,
            bytes=self._bytes,
            elapsed=end - self._t0,
            longest_gap=self._longest_gap,
        )

    def __repr__(self) -> str:
        state = "closed" if self._released else "open"
        return f"<{type(self).__name__} [{state}] events={self._events} bytes={self._bytes}>"

    # -- the sans-IO engine -----------------------------------------------------------

    def _feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode one read; its events (returned) become the pending list."""
        self._bytes += len(data)
        try:
            events = self._decoder_feed(data)
        except EventTooLarge as exc:
            events = exc.events
            error = StreamEventTooLarge(str(exc), events_delivered=self._events)
            error.__cause__ = exc
            self._error = error
        if events:
            now = _monotonic()
            gap = now - self._t_last
            if gap > self._longest_gap:
                # _t_last starts at construction, so the first "gap" is the time to the
                # first event, which is not a gap between events.
                if self._t_first is None:
                    self._t_first = now
                else:
                    self._longest_gap = gap
            self._t_last = now
            self._deadline = None
            self._pending = events
            self._pos = 0
        return events

    def _convert(self, event: ServerSentEvent) -> T:
        """Turn one dispatched event into the item to yield; raises Ended at the sentinel."""
        data = event.data
        if data == self._sentinel:
            self._complete = True
            raise Ended
        # In JSON the substring "error" with both quotes can only be a key or a whole string
        # value, never escaped string content, so most events skip the second parse.
        if event.event == "error" or '"error"' in data:
            self._check_error(event)
        try:
            item = self._decode(event)
        except Exception as exc:
            raise StreamDecodeError(
                f"could not decode a {event.event!r} event: {exc}",
                event=event,
                events_delivered=self._events,
            ) from exc
        self._events += 1
        terminal = self._terminal
        if terminal is not None and event.event in terminal:
            # Delivered, then the stream ends: anything after it in this read is dropped.
            self._complete = True
            self._pending = []
            self._pos = 0
        return item

    def _check_error(self, event: ServerSentEvent) -> None:
        """Raise StreamAPIError if ``event`` reports an error (the slow path)."""
        if self._terminal is not None and event.event in self._terminal:
            return  # the caller asked to receive this event type
        payload: Any
        if event.event == "error":
            try:
                payload = json.loads(event.data)
            except ValueError:
                payload = event.data
        else:
            try:
                payload = json.loads(event.data)
            except ValueError:
                return  # not JSON: decode will have its say
            # "error": null appears in some servers' normal chunks; it reports nothing.
            if not isinstance(payload, dict) or (
                payload.get("error") is None and payload.get("object") != "error"
            ):
                return
        raise StreamAPIError(
            _error_message(payload), payload=payload, event=event, events_delivered=self._events
        )

    def _finish_body(self) -> None:
        """The body ended: raise IncompleteStreamError if it ended too early."""
        self._decoder.end()
        if self._decoder.truncated:
            raise IncompleteStreamError(
                "the response body ended in the middle of an event",
                events_delivered=self._events,
            )
        if self._expect_end and not self._complete:
            if self._sentinel is not None:
                what = f"the {self._sentinel!r} sentinel"
            else:
                what = "a terminal event (" + ", ".join(sorted(self._terminal or ())) + ")"
            raise IncompleteStreamError(
                f"the response body ended before {what}", events_delivered=self._events
            )
        self._complete = True

    def _next_deadline(self) -> float | None:
        """The deadline of the wait that starts now for the next event."""
        deadline = self._deadline
        if deadline is None and self._idle_timeout is not None and self._t_first is not None:
            deadline = self._deadline = time.monotonic() + self._idle_timeout
        return deadline

    def _timeout_error(self) -> StreamTimeout:
        if self._t_first is None:
            message = f"no event within first_event_timeout={self._first_timeout} s"
        else:
            message = f"no event within idle_timeout={self._idle_timeout} s"
        return StreamTimeout(message, events_delivered=self._events)

    def _closed_error(self) -> StreamClosed:
        return StreamClosed(
            "the stream was closed while waiting for the next event",
            events_delivered=self._events,
        )

    def _transport_error(self, exc: httpx2.RequestError) -> MistralError:
        try:
            exc.request  # noqa: B018 - the property raises when it was never set
        except RuntimeError:
            # Raised below iter_raw(), which would have attached the request: do it here,
            # so the chained cause tells which request failed, as httpx2's own errors do.
            with contextlib.suppress(RuntimeError):
                exc.request = self._response.request
        if isinstance(exc, httpx2.TimeoutException):
            return APITimeoutError(f"timed out reading the stream: {exc}")
        if isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError)):
            # The server was reached and the body started: losing the connection now is a
            # truncated answer, the case IncompleteStreamError exists for.
            return IncompleteStreamError(
                f"the connection was lost before the stream ended: {exc!r}",
                events_delivered=self._events,
            )
        return APIConnectionError(f"error reading the stream: {exc!r}")

    def _take_error(self) -> StreamError:
        error = self._error
        assert error is not None
        self._error = None
        error.events_delivered = self._events
        return error
