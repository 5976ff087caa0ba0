"""The sans-IO core of a stream: one lifecycle state and one decision step.

:class:`StreamCore` takes bytes (:meth:`~StreamCore._feed`), the end of the body
(:meth:`~StreamCore._body_ended`) and what went wrong with a read, and answers one question
at each step (:meth:`~StreamCore._step`): here is the next item, or read more (before
``_deadline``), or yield to the event loop, or drain and stop, or stop, or release and
raise ``_failure``. It holds the decoder, the pending events, the :class:`EndRule`, the
error detection, the stats and the deadlines, and never does I/O: the twins in
:mod:`._sync` and :mod:`._async` do the reads and the release that a step asks for.

Design rules (keep them when changing this module):

1. One explicit :class:`State`. It only moves forward (OPEN, then one of ENDING / ENDED /
   FAILED / LOST, then CLOSING, RELEASING, RELEASED), except :meth:`StreamCore._resume`,
   which takes a LOST stream back to OPEN: the seam for reconnection.
2. A step that ends the stream is decided here, with the error it raises; the twins only
   carry it out. Any failure is stored and raised after the release.
3. Cheap per event: the pending list, one sentinel compare, one substring prefilter for
   errors, ``decode`` (the only JSON parse on the normal path); the clock is read once per
   read that completes events, never per event.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import httpx2

from .._checks import check_timeout, describe_error
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    StreamAPIError,
    StreamClosed,
    StreamDecodeError,
    StreamError,
    StreamEventTooLarge,
    StreamTimeout,
)
from ..sse import DEFAULT_MAX_EVENT_SIZE, EventTooLarge, ServerSentEvent, SSEDecoder
from ._end import EndRule
from ._state import (
    CHECKPOINT,
    CLOSED,
    DEADLINE,
    DRAIN_MAX_BYTES,
    DRAIN_TIMEOUT,
    FAIL,
    FAIRNESS_MASK,
    LOST,
    READ,
    STEPS,
    State,
    Step,
    StreamStats,
)

__all__ = ["StreamCore"]

# A member looked up on an enum class costs ~1 us (EnumType attribute access), more
# than a whole read at times: paths that run per read use these names.
_OPEN = State.OPEN
#: The pending events once all are delivered: holding the last list until the next read
#: would keep its events alive while the stream waits (see _step).
_NO_EVENTS: tuple[ServerSentEvent, ...] = ()
_ENDING = State.ENDING
_ENDED = State.ENDED
_FAILED = State.FAILED
_LOST = State.LOST
_RELEASING = State.RELEASING
_RELEASED = State.RELEASED

T = TypeVar("T")


def _api_error(payload: Any, event: ServerSentEvent, events: int) -> StreamAPIError:
    message = describe_error(payload)[0] or json.dumps(payload, ensure_ascii=False, default=str)
    return StreamAPIError(
        f"the server reported an error in the stream: {message}",
        payload=payload,
        event=event,
        events_delivered=events,
    )


class StreamCore(Generic[T]):
    """The sans-IO state machine of one stream: bytes in, decoded items and steps out."""

    #: Set to FAIRNESS_MASK by a twin that must yield to its event loop in long backlogs.
    _fair_mask = 0
    #: True in a stream that reconnects when its body ends cleanly (see ``_body_ended``).
    _lost_at_end = False

    def __init__(
        self,
        decode: Callable[[ServerSentEvent], T],
        *,
        end: EndRule,
        first_event_timeout: float | None = None,
        idle_timeout: float | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Set first so that a twin's __del__ is quiet if validation below fails.
        self._state = _RELEASED
        if not callable(decode):
            raise TypeError(f"decode must be callable, not {type(decode).__name__}")
        if not isinstance(end, EndRule):
            raise TypeError(f"end must be an EndRule, not {type(end).__name__}")
        self._idle_timeout = check_timeout("idle_timeout", idle_timeout)
        first = check_timeout("first_event_timeout", first_event_timeout)
        self._first_timeout = first if first is not None else self._idle_timeout
        self._decoder = SSEDecoder(max_event_size)
        self._decode = decode
        self._end = end
        # The end rule, unpacked for the per-event path.
        self._sentinel = end.sentinel
        self._terminal: frozenset[str] | None = end.terminal or None
        self._error_types = end.errors
        self._error_payloads = end.error_payloads

        # Events dispatched by the last read that produced any, and the next to deliver.
        self._pending: Sequence[ServerSentEvent] = _NO_EVENTS
        self._pos = 0
        # The position the last fairness checkpoint was asked for.
        self._checkpoint_pos = -1
        # The error a FAIL or LOST step raises; why the current read was cut short.
        self._failure: BaseException | None = None
        self._interrupt: str | None = None
        self._drain_budget = DRAIN_MAX_BYTES

        self._clock = clock
        self._events = 0
        self._bytes = 0
        self._t0 = clock()
        self._t_first: float | None = None
        self._t_last = self._t0
        self._longest_gap = 0.0
        self._t_end: float | None = None
        self._reconnections = 0
        # When the next event must have arrived by, or None.
        self._deadline: float | None = (
            self._t0 + self._first_timeout if self._first_timeout is not None else None
        )
        self._state = _OPEN

    # -- read-only state -----------------------------------------------------------------

    @property
    def last_event_id(self) -> str:
        """The last event ID the server sent, as ``EventSource`` keeps it ("" if none)."""
        return self._decoder.last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time the server asked for last (``retry:``, in ms), or None."""
        return self._decoder.retry

    @property
    def stats(self) -> StreamStats:
        """Counters and timings of this stream so far (see :class:`StreamStats`)."""
        end = self._t_end if self._t_end is not None else self._clock()
        first = self._t_first
        return StreamStats(
            time_to_first_event=None if first is None else first - self._t0,
            events=self._events,
            bytes=self._bytes,
            elapsed=end - self._t0,
            longest_gap=self._longest_gap,
            reconnections=self._reconnections,
        )

    # -- the decision step ---------------------------------------------------------------

    def _step(self) -> Any:
        """The next item (a ``T``), or the :class:`Step` the twin must take first.

        The per-event path of every stream: keep it short (bench_stream measures it).
        """
        pos = self._pos
        pending = self._pending
        if pos < len(pending):
            if pos & self._fair_mask == FAIRNESS_MASK and self._checkpoint_pos != pos:
                self._checkpoint_pos = pos
                return CHECKPOINT
            self._pos = pos + 1
            return self._convert(pending[pos])
        if self._state is _OPEN:
            if pending:
                # Delivered: let its events go before the wait (at thousands of streams,
                # objects alive across the wait are what each garbage collection scans).
                self._pending = _NO_EVENTS
            if self._deadline is None and self._idle_timeout is not None:
                self._next_deadline()
            return READ
        return STEPS[self._state]

    def _convert(self, event: ServerSentEvent) -> Any:
        """The item for one dispatched event, or the step its end rule decides."""
        data = event.data
        if data == self._sentinel:
            self._advance(_ENDING)
            return STEPS[self._state]
        # In JSON the substring "error" with both quotes can only be a key or a whole string
        # value, never escaped string content, so most events skip the second parse.
        if event.event in self._error_types or '"error"' in data:
            reported = self._in_stream_error(event)
            if reported is not None:
                return self._fail(reported)
        try:
            item = self._decode(event)
        except StreamAPIError as exc:
            # decode may report an in-stream error itself, in a type of its own (e.g. a
            # workflow stream's event: error); no cost to events that decode normally
            return self._fail(exc)
        except Exception as exc:
            error = StreamDecodeError(
                f"could not decode a {event.event!r} event: {exc}",
                event=event,
                events_delivered=self._events,
            )
            error.__cause__ = exc
            return self._fail(error)
        self._events += 1
        terminal = self._terminal
        if terminal is not None and event.event in terminal:
            # Delivered, then the stream ends: anything after it in this read is dropped.
            self._advance(_ENDING)
            self._pending = _NO_EVENTS
            self._pos = 0
        return item

    def _in_stream_error(self, event: ServerSentEvent) -> StreamAPIError | None:
        """The StreamAPIError ``event`` reports, if it reports one (the slow path)."""
        if self._terminal is not None and event.event in self._terminal:
            return None  # the caller asked to receive this event type
        payload: Any
        if event.event in self._error_types:
            try:
                payload = json.loads(event.data)
            except ValueError:
                payload = event.data
            return _api_error(payload, event, self._events)
        if not self._error_payloads:
            return None
        try:
            payload = json.loads(event.data)
        except ValueError:
            return None  # not JSON: decode will have its say
        # "error": null appears in some servers' normal chunks; it reports nothing.
        if not isinstance(payload, dict) or (
            payload.get("error") is None and payload.get("object") != "error"
        ):
            return None
        return _api_error(payload, event, self._events)

    # -- what the twins tell the core ----------------------------------------------------

    def _feed(self, data: bytes) -> None:
        """One read of the body; the events it completes become the pending list."""
        self._bytes += len(data)
        try:
            events = self._decoder.feed(data)
        except EventTooLarge as exc:
            events = exc.events
            error = StreamEventTooLarge(str(exc), events_delivered=self._events)
            error.__cause__ = exc
            # Raised once the events before it are delivered.
            self._failure = error
            self._advance(_FAILED)
        if events:
            now = self._clock()
            if self._t_first is None:
                # The time to the first event is not a gap between events.
                self._t_first = now
            elif now - self._t_last > self._longest_gap:
                self._longest_gap = now - self._t_last
            self._t_last = now
            self._deadline = None
            self._pending = events
            self._pos = 0
            self._checkpoint_pos = -1

    def _body_ended(self) -> None:
        """The body ended: ENDED, or LOST if that is too early for the end rule."""
        self._decoder.end()
        if self._decoder.truncated:
            self._lose(IncompleteStreamError("the response body ended in the middle of an event"))
        elif self._end.kind != "body" and self._state is _OPEN:
            expected = self._end.expected()
            self._lose(IncompleteStreamError(f"the response body ended before {expected}"))
        elif self._lost_at_end and self._state is _OPEN:
            # EventSource's rule, which a reconnecting stream may follow: the end of the
            # body is a lost connection too; only a 204 or an error ends the stream
            self._lose(IncompleteStreamError("the response body ended"))
        else:
            self._advance(_ENDED)

    def _read_failed(self, exc: BaseException) -> Step:
        """A read raised ``exc``: the step to take, with the error it raises."""
        interrupt = self._interrupt
        if interrupt is not None:
            error = self._interrupt_error(interrupt)
            error.__cause__ = None
            return self._fail(error)
        if isinstance(exc, httpx2.RequestError):
            return self._transport_error(exc)
        return self._fail(exc)

    def _interrupted(self) -> Step:
        """A read came back after close() or a deadline cut it short."""
        assert self._interrupt is not None
        return self._fail(self._interrupt_error(self._interrupt))

    def _timed_out(self) -> Step:
        """The deadline passed before a read could start."""
        return self._fail(self._interrupt_error(DEADLINE))

    def _drain_deadline(self) -> float:
        """Start draining what is left of the body; the deadline of every drain read."""
        self._drain_budget = DRAIN_MAX_BYTES
        return self._clock() + DRAIN_TIMEOUT

    def _drained(self, data: bytes | Step | None) -> bool:
        """What one drain read gave (a step if it was cut short); whether to read again."""
        if data is None or isinstance(data, Step):
            return False
        self._bytes += len(data)
        self._drain_budget -= len(data)
        return self._drain_budget >= 0

    def _drain_error(self) -> BaseException | None:
        """After a drain: a failed drain read only costs the connection, unless what it
        raised is not the stream's to swallow (KeyboardInterrupt and the like)."""
        failure = self._failure
        if failure is None or isinstance(failure, (StreamError, APIConnectionError)):
            return None
        self._failure = None
        return failure

    # -- transitions ---------------------------------------------------------------------

    def _advance(self, state: State) -> None:
        """OPEN moves on to ``state``; a stream already past OPEN stays where it is."""
        if self._state is _OPEN:
            self._state = state

    def _fail(self, error: BaseException) -> Step:
        self._failure = error
        self._pending = _NO_EVENTS
        self._advance(_FAILED)
        return FAIL

    def _lose(self, error: IncompleteStreamError) -> Step:
        self._failure = error
        self._pending = _NO_EVENTS
        self._advance(_LOST)
        return LOST

    def _resume(self) -> None:
        """The seam for reconnection: a LOST stream goes on with a new body.

        The partial event of the lost body is discarded; ``last_event_id`` is kept, to be
        sent as ``Last-Event-ID``. The caller attaches the new body (twin I/O) first.
        """
        if self._state is not _LOST:
            raise RuntimeError(f"only a lost stream can resume, not a {self._state.name} one")
        self._decoder.end()
        self._failure = None
        self._interrupt = None
        first = self._first_timeout
        self._deadline = self._clock() + first if first is not None else None
        self._reconnections += 1
        self._state = _OPEN

    def _begin_release(self) -> bool:
        """Move to RELEASING; False if a release already began (twins call it once)."""
        if self._state >= _RELEASING:
            return False
        self._state = _RELEASING
        self._t_end = self._clock()
        # Events decoded but not yet delivered are dropped with the stream.
        self._pending = _NO_EVENTS
        return True

    def _take_failure(self) -> BaseException:
        error = self._failure
        assert error is not None
        self._failure = None
        if isinstance(error, StreamError):
            error.events_delivered = self._events
        return error

    # -- errors --------------------------------------------------------------------------

    def _next_deadline(self) -> float | None:
        """The deadline of the wait that starts now for the next event."""
        deadline = self._deadline
        if deadline is None and self._idle_timeout is not None and self._t_first is not None:
            deadline = self._deadline = self._clock() + self._idle_timeout
        return deadline

    def _interrupt_error(self, interrupt: str) -> StreamError:
        if interrupt == CLOSED:
            return StreamClosed(
                "the stream was closed while waiting for the next event",
                events_delivered=self._events,
            )
        if self._t_first is None:
            message = f"no event within first_event_timeout={self._first_timeout} s"
        else:
            message = f"no event within idle_timeout={self._idle_timeout} s"
        return StreamTimeout(message, events_delivered=self._events)

    def _request(self) -> httpx2.Request:
        """The request being answered (a twin knows it; raises RuntimeError if unknown)."""
        raise RuntimeError("no request")

    def _transport_error(self, exc: httpx2.RequestError) -> Step:
        try:
            exc.request  # noqa: B018 - the property raises when it was never set
        except RuntimeError:
            # Raised below iter_raw(), which would have attached the request: do it here,
            # so the chained cause tells which request failed, as httpx2's own errors do.
            with contextlib.suppress(RuntimeError):
                exc.request = self._request()
        if isinstance(exc, httpx2.TimeoutException):
            # some transports raise timeouts without a message: never end on an empty reason
            reason = str(exc) or f"{type(exc).__name__}, no data within the read timeout"
            error: APIConnectionError = APITimeoutError(f"timed out reading the stream: {reason}")
        elif isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError)):
            # The server was reached and the body started: losing the connection now is a
            # truncated answer, the case IncompleteStreamError exists for.
            lost = IncompleteStreamError(
                f"the connection was lost before the stream ended: {exc!r}",
                events_delivered=self._events,
            )
            lost.__cause__ = exc
            return self._lose(lost)
        else:
            error = APIConnectionError(f"error reading the stream: {exc!r}")
        error.__cause__ = exc
        return self._fail(error)
