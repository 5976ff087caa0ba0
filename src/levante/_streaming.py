"""EventStream and EventStreamAsync: the lifecycle of one streamed HTTP response.

A stream owns an ``httpx2`` response opened for streaming, an :class:`~levante.sse.SSEDecoder`
and a ``decode`` function; iterating it yields whatever ``decode`` returns for each event.

Design rules (keep them when changing this module):

1. One sans-IO core, two thin twins. :class:`_StreamCore` holds the decoder, the pending
   events, the end marker, the error detection, the stats and the deadlines; it never does
   I/O. :class:`EventStream` and :class:`EventStreamAsync` only read bytes and release the
   response. Iteration is ``__next__`` / ``__anext__`` on the class with explicit state,
   never a generator, so another thread or task can close a stream at any time without
   "generator already running".
2. The connection is released on every path before an exception leaves the stream: the
   end marker, the end of the body, any error, ``close()`` from anywhere, cancellation,
   and, as a last resort, garbage collection (with a ``ResourceWarning``, as for files).
3. Cheap per event. Events decoded from one read sit in a list; each ``__next__`` takes
   the next one, compares it with the sentinel, runs a substring prefilter for in-stream
   errors, and calls ``decode``, which does the only JSON parse on the normal path. Clocks
   are read once per read, not once per event. Bytes come from the reader
   :mod:`levante._body` chooses: ``h11`` driven directly for httpx2's own HTTP/1.1
   transport, the response's byte iterator for anything else.
4. Reads are interruptible. ``close()`` from another thread, ``aclose()`` from another task
   and the sync timeout watchdog shut the socket down: a blocked ``recv`` wakes up (closing
   the fd alone does not, on Linux) and an event loop sees the socket at its end. That
   costs nothing per read. Async reads with a deadline, or without a socket of their own
   (HTTP/2, in-process transports), run in a cancel scope owned by the stream instead,
   which ``aclose()`` and the deadline cancel. A blocked sync read without a socket of
   its own cannot be interrupted: ``close()`` then releases after a bounded wait.
5. A complete stream gives its connection back to the pool: after the sentinel the rest of
   the body is drained within :data:`DRAIN_MAX_BYTES` and :data:`DRAIN_TIMEOUT`, else the
   connection is dropped rather than reused in an unknown state.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import itertools
import json
import math
import os
import socket
import threading
import time
import warnings
import weakref
from collections.abc import (
    AsyncGenerator,
    Callable,
    Collection,
    Coroutine,
    Generator,
)
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import anyio
import anyio.lowlevel
import httpx2

from ._body import (
    AsyncRead,
    SyncRead,
    async_chunks,
    async_direct_reader,
    sync_chunks,
    sync_direct_reader,
)
from .errors import (
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
from .sse import DEFAULT_MAX_EVENT_SIZE, EventTooLarge, ServerSentEvent, SSEDecoder

__all__ = [
    "DRAIN_MAX_BYTES",
    "DRAIN_TIMEOUT",
    "AsyncStreamContext",
    "EventStream",
    "EventStreamAsync",
    "StreamStats",
]

T = TypeVar("T")

#: After the sentinel, at most this many bytes of the body are read to reuse the connection.
DRAIN_MAX_BYTES = 64 * 1024
#: After the sentinel, at most this many seconds are spent reading the rest of the body.
DRAIN_TIMEOUT = 1.0
#: How long ``close()`` waits for a reader it interrupted to release the connection.
_CLOSE_WAIT = 5.0
#: EventStreamAsync yields to the event loop before every 32nd event of one read.
_FAIRNESS_MASK = 31
#: Chunks already buffered that closing an async body may skip before giving up on them.
#: One 64 KiB read of a chunked body can hold thousands of tiny chunks; skipping one costs
#: microseconds, and the loop stops at the first real read, which the cancellation ends.
_ABORT_MAX_CHUNKS = 8192
#: Longest error message quoted from a server payload.
_MAX_MESSAGE = 500

_monotonic = time.monotonic
_get_ident = threading.get_ident

_CLOSED = "closed"
_DEADLINE = "deadline"


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


class _Ended(Exception):
    """Internal: the sentinel was reached."""


def _check_timeout(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return float(value)


def _error_message(payload: Any) -> str:
    """A short human message for an in-stream error payload."""
    message: Any = payload
    if isinstance(payload, dict):
        inner = payload.get("error")
        if isinstance(inner, dict):
            message = inner.get("message", inner)
        elif isinstance(inner, str):
            message = inner
        else:
            message = payload.get("message", payload)
    if not isinstance(message, str):
        message = json.dumps(message, ensure_ascii=False, default=str)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    return f"the server reported an error in the stream: {message}"


class _StreamCore(Generic[T]):
    """The sans-IO part shared by both twins: bytes in, decoded items out."""

    #: Whatever must outlive the stream: the Mistral client that opened it, whose
    #: finalizer would otherwise close the pool under a stream still being read.
    _owner: object = None

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
    ) -> None:
        # Set first so that __del__ is quiet if validation below fails.
        self._released = True
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
        self._idle_timeout = _check_timeout("idle_timeout", idle_timeout)
        first = _check_timeout("first_event_timeout", first_event_timeout)
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
        """Turn one dispatched event into the item to yield; raises _Ended at the sentinel."""
        data = event.data
        if data == self._sentinel:
            self._complete = True
            raise _Ended
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


# -- sync ---------------------------------------------------------------------------------


def _own_socket(response: httpx2.Response) -> Any:
    """The socket that carries ``response`` and nothing else, if there is one.

    Only HTTP/1.1 qualifies: an HTTP/2 socket carries other streams too, and in-process
    transports have no socket at all. Sync transports give a ``socket.socket``, asyncio an
    ``asyncio.TransportSocket``, trio a ``trio.socket.SocketType``: all can shut down.
    """
    if response.http_version != "HTTP/1.1":
        return None
    network_stream = response.extensions.get("network_stream")
    if network_stream is None:
        return None
    try:
        sock = network_stream.get_extra_info("socket")
    except Exception:
        return None
    return sock if callable(getattr(sock, "shutdown", None)) else None


def _shutdown_socket(response: httpx2.Response) -> None:
    """Wake whoever is blocked reading ``response`` by shutting its socket down.

    A blocked ``recv`` sees the end of the stream (closing the fd from another thread
    would not wake it, on Linux); an event loop sees the socket readable, then at its end.
    """
    sock = _own_socket(response)
    if sock is None:
        return
    # Already shut down or closed is fine: the reader is waking up anyway. The base
    # method, because SSLSocket.shutdown would also drop its SSL object under the feet of
    # the reading thread.
    with contextlib.suppress(OSError):
        if isinstance(sock, socket.socket):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        else:
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that interrupts sync streams whose deadline passes during a read.

    Streams only arm it when a read starts with a deadline not yet covered; on firing, the
    stream checks its current deadline and re-arms if it moved. So the per-event cost of a
    timeout is nil and no thread is ever started per stream or per event.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, weakref.ref[EventStream[Any]]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap = []
        self._thread = None

    def arm(self, when: float, stream: EventStream[Any]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), weakref.ref(stream)))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="levante-stream-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][0] == when:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    when = self._heap[0][0]
                    delay = when - time.monotonic()
                    if delay <= 0:
                        ref = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(delay)
            stream = ref()
            if stream is not None:
                stream._on_deadline(when)
                # Drop the strong reference before sleeping, or a dropped stream would
                # outlive its last user until the next deadline.
                del stream


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHDOG._after_fork)


class EventStream(_StreamCore[T]):
    """Iterate the server-sent events of a streamed ``httpx2.Response``, decoded to ``T``.

    ::

        with client.stream("POST", url, json=body) as response:
            with EventStream(response, lambda e: json.loads(e.data), sentinel="[DONE]") as s:
                for chunk in s:
                    ...

    ``decode`` turns each :class:`~levante.sse.ServerSentEvent` into the item yielded; any
    exception it raises becomes :class:`~levante.errors.StreamDecodeError`.

    ``sentinel``: an event whose data equals it ends the stream and is not yielded
    (``"[DONE]"`` for chat completions). ``terminal_events``: event types that end the
    stream after being yielded. With either, a body that ends before the marker raises
    :class:`~levante.errors.IncompleteStreamError`; so does a body that ends in the
    middle of an event, always.

    An ``event: error`` block, or data that is a JSON object with a non-null top-level
    ``"error"`` or with ``"object": "error"``, raises
    :class:`~levante.errors.StreamAPIError` carrying the parsed payload and the event.

    ``first_event_timeout`` bounds, in seconds, the wait from construction to the first
    event (it defaults to ``idle_timeout``); ``idle_timeout`` bounds each later wait for
    the next event, counted from when the consumer asks for it, so time spent in the
    consumer's own code is not counted. Comments and partial events do not reset either.
    Both raise :class:`~levante.errors.StreamTimeout`. ``max_event_size`` caps one event in
    bytes (:class:`~levante.errors.StreamEventTooLarge`), ``None`` to lift the cap.

    Transport failures raise :class:`~levante.errors.APIConnectionError` or
    :class:`~levante.errors.APITimeoutError`. Whatever the path, the connection is
    released before the exception leaves the stream. After the sentinel, the rest of the
    body is drained (bounded by :data:`DRAIN_MAX_BYTES` and :data:`DRAIN_TIMEOUT`) so the
    connection goes back to the pool.

    :meth:`close` may be called at any time and from any thread. A ``__next__`` call
    blocked in a read when another thread closes the stream is woken and raises
    :class:`~levante.errors.StreamClosed`; any later ``__next__`` raises
    ``StopIteration``. A stream dropped without being closed or exhausted releases its
    connection when garbage collected and emits ``ResourceWarning``.
    """

    _byte_stream = httpx2.SyncByteStream
    _wrong_client = (
        "EventStream needs a response from a sync httpx2.Client; "
        "use EventStreamAsync for an AsyncClient response"
    )

    def _init_io(self, response: httpx2.Response) -> None:
        # Reentrant: close() may run in a signal handler on the reading thread.
        self._lock = threading.RLock()
        # Nothing is started until the first read, so choosing the reader costs nothing.
        direct = sync_direct_reader(response)
        self._chunks: Generator[bytes] | None = None
        if direct is None:
            chunks = self._chunks = sync_chunks(response)
            direct = functools.partial(next, chunks, None)
        self._read_chunk: SyncRead = direct
        # A read is in progress (the only time another thread must not touch _chunks).
        self._reading = False
        self._reader = 0
        self._read_deadline: float | None = None
        # Why the current read was cut short: _CLOSED or _DEADLINE.
        self._interrupt: str | None = None
        self._released_event: threading.Event | None = None
        self._armed_at: float | None = None

    def __iter__(self) -> EventStream[T]:
        return self

    def __enter__(self) -> EventStream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __next__(self) -> T:
        pos = self._pos
        pending = self._pending
        if pos < len(pending):
            self._pos = pos + 1
            try:
                return self._convert(pending[pos])
            except _Ended:
                self._drain()
                raise StopIteration from None
            except BaseException:
                self._release()
                raise
        while True:
            if self._error is not None:
                self._release()
                raise self._take_error()
            if self._closed:
                raise StopIteration
            if self._complete:
                self._drain()  # after a terminal event
                raise StopIteration
            deadline = self._deadline
            if deadline is None and self._idle_timeout is not None:
                deadline = self._next_deadline()
            if deadline is None:
                # _read() without a deadline, inlined: at one event per read this runs
                # once per event. See _read for the handshake with close().
                self._reader = _get_ident()
                self._reading = True
                if self._closed:
                    self._reading = False
                    self._release()
                    raise StopIteration
                try:
                    data = self._read_chunk()
                except BaseException as exc:
                    self._reading = False
                    self._read_failed(exc)
                self._reading = False
                if self._interrupt is not None:
                    raise self._read_interrupted()
            else:
                data = self._read(deadline)
            if data is None:
                try:
                    self._finish_body()
                finally:
                    self._release()
                raise StopIteration
            events = self._feed(data)
            if events:
                # The fast path of __next__, inlined for the same reason.
                self._pos = 1
                try:
                    return self._convert(events[0])
                except _Ended:
                    self._drain()
                    raise StopIteration from None
                except BaseException:
                    self._release()
                    raise

    def _read(self, deadline: float) -> bytes | None:
        """One read of the body with a deadline; None at its end. Releases the response
        before raising. (Reads without a deadline are inlined in ``__next__``.)

        The flags are a handshake with :meth:`close` in another thread, which sets
        ``_closed`` and then looks at ``_reading``: whichever runs second sees the other's
        write (the GIL orders them), so a read never starts on a stream being closed, and a
        close never misses a read in progress. Deadlines also involve the watchdog thread,
        so this path takes the lock (in ``_start_timed_read``).
        """
        self._start_timed_read(deadline)
        try:
            data = self._read_chunk()
        except BaseException as exc:
            self._reading = False
            self._read_failed(exc)
        self._reading = False
        if self._interrupt is not None:
            raise self._read_interrupted()
        return data

    def _read_failed(self, exc: BaseException) -> NoReturn:
        """Release after a failed read and raise what the stream reports instead."""
        interrupt = self._interrupt
        self._release()
        if interrupt == _CLOSED:
            raise self._closed_error() from None
        if interrupt == _DEADLINE:
            raise self._timeout_error() from None
        if isinstance(exc, httpx2.RequestError):
            raise self._transport_error(exc) from exc
        raise exc

    def _read_interrupted(self) -> StreamError:
        """Release after a read that close() or the watchdog cut short."""
        interrupt = self._interrupt
        self._release()
        if interrupt == _CLOSED:
            return self._closed_error()
        return self._timeout_error()

    def _start_timed_read(self, deadline: float) -> None:
        with self._lock:
            if not self._closed and time.monotonic() < deadline:
                armed = self._armed_at
                if armed is None or armed > deadline:
                    self._armed_at = deadline
                    _WATCHDOG.arm(deadline, self)
                self._read_deadline = deadline
                self._reader = _get_ident()
                self._reading = True
                return
            closed = self._closed
        self._release()
        if closed:
            raise StopIteration
        raise self._timeout_error()

    def _drain(self) -> None:
        """After the sentinel: read what is left of the body, within bounds, then release."""
        budget = DRAIN_MAX_BYTES
        deadline = time.monotonic() + DRAIN_TIMEOUT
        try:
            while budget >= 0:
                data = self._read(deadline)
                if data is None:
                    break
                self._bytes += len(data)
                budget -= len(data)
        except (StopIteration, StreamError, APIConnectionError):
            pass  # already released; the connection is simply not reused
        self._release()

    def _on_deadline(self, when: float) -> None:
        """Called by the watchdog thread when an armed deadline passes."""
        with self._lock:
            if self._armed_at == when:
                self._armed_at = None
            deadline = self._read_deadline
            if not self._reading or self._interrupt is not None or deadline is None:
                return
            if time.monotonic() >= deadline:
                self._interrupt = _DEADLINE
                _shutdown_socket(self._response)
            elif self._armed_at is None:
                self._armed_at = deadline
                _WATCHDOG.arm(deadline, self)

    def _release(self) -> None:
        """Close the response (idempotent, thread-safe); the pool gets the connection back
        if the body was read to its end, else the connection is closed."""
        with self._lock:
            if self._released:
                return
            self._released = True
            self._closed = True
            self._t_end = time.monotonic()
            reading = self._reading
            # Events decoded but not yet delivered are dropped with the stream.
            self._pending = []
        try:
            if not reading and self._chunks is not None:
                self._chunks.close()
            self._response.close()
        except (httpx2.HTTPError, OSError):
            pass  # closing is best effort: the connection is dropped either way
        finally:
            with self._lock:
                self._release_finished = True
                event = self._released_event
            if event is not None:
                event.set()

    def close(self) -> None:
        """Release the connection now. Idempotent; safe from any thread at any time.

        If another thread is blocked reading this stream, it is woken (its ``__next__``
        raises :class:`~levante.errors.StreamClosed`) and this call returns once the
        connection is released.
        """
        with self._lock:
            self._closed = True
            if self._release_finished:
                return
            reading = self._reading
            if reading:
                if self._interrupt is None:
                    self._interrupt = _CLOSED
                _shutdown_socket(self._response)
                if self._reader == threading.get_ident():
                    return  # a signal handler inside the read: the read releases on return
            event = self._released_event
            if event is None:
                event = self._released_event = threading.Event()
        if reading:
            # The woken reader releases by itself; once it has left the read (even if it
            # raced past the interrupt with data in hand) it is safe to release from here.
            give_up = time.monotonic() + _CLOSE_WAIT
            while self._reading and not event.wait(0.02) and time.monotonic() < give_up:
                pass
        self._release()
        event.wait(_CLOSE_WAIT)  # if the reader is releasing right now, let it finish

    def __del__(self) -> None:
        if getattr(self, "_released", True):
            return
        try:
            self._release()
        except Exception:
            pass  # e.g. at interpreter shutdown: a finalizer must not raise
        finally:
            warnings.warn(
                f"unclosed {self!r}: use 'with' or call close()",
                ResourceWarning,
                stacklevel=2,
                source=self,
            )


# -- async --------------------------------------------------------------------------------


async def _uncancellable(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run ``cleanup`` to completion even if the caller is cancelled, then re-raise that.

    An anyio shield holds off anyio and trio cancel scopes, but on asyncio a plain
    ``Task.cancel()`` (``asyncio.timeout``, ``wait_for``) still lands on the next await and
    would cut the release of the connection in half. So on asyncio the cleanup runs as its
    own task, which a cancellation of this one cannot interrupt.
    """
    if anyio.get_cancelled_exc_class() is not asyncio.CancelledError:
        await cleanup
        return
    task = asyncio.ensure_future(cleanup)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:  # noqa: PERF203 - a few turns at most
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    task.result()


async def _abort_body(chunks: AsyncGenerator[bytes]) -> None:
    """Finish an unexhausted ``aiter_raw()`` / ``aiter_bytes()`` by cancelling its next read.

    ``aclose()`` alone throws GeneratorExit in at the outer ``yield``; httpx2's transport
    stream then abandons the httpcore2 generator it iterates, which trio reports as a
    ``ResourceWarning`` when it is garbage collected. A cancelled read instead unwinds every
    generator of the chain by exception, each running its own cleanup (which closes the
    connection). Chunks already buffered come first: skip a bounded number of them.
    """
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            for _ in range(_ABORT_MAX_CHUNKS):
                await chunks.__anext__()
        except StopAsyncIteration:
            pass
        except (httpx2.HTTPError, OSError):
            pass  # the connection is being dropped: errors on the way out are expected
    await chunks.aclose()


async def _aclose_quietly(chunks: AsyncGenerator[bytes] | None, response: httpx2.Response) -> None:
    with anyio.CancelScope(shield=True):
        try:
            if chunks is not None:
                await _abort_body(chunks)
            await response.aclose()
        except Exception:
            pass  # best effort from a finalizer: there is nobody left to tell


_FINALIZER_TASKS: set[Any] = set()


def _spawn_asyncio(loop: Any, chunks: AsyncGenerator[bytes] | None, resp: httpx2.Response) -> None:
    task = loop.create_task(_aclose_quietly(chunks, resp))
    # The loop keeps only a weak reference to tasks.
    _FINALIZER_TASKS.add(task)
    task.add_done_callback(_FINALIZER_TASKS.discard)


def _spawn_trio(chunks: AsyncGenerator[bytes] | None, resp: httpx2.Response) -> None:
    import trio

    trio.lowlevel.spawn_system_task(_aclose_quietly, chunks, resp)


def _schedule_aclose(
    token: object, chunks: AsyncGenerator[bytes] | None, response: httpx2.Response
) -> None:
    """From a finalizer (any thread, no await): close the response on its event loop."""
    try:
        if hasattr(token, "call_soon_threadsafe"):
            token.call_soon_threadsafe(_spawn_asyncio, token, chunks, response)
        elif hasattr(token, "run_sync_soon"):
            token.run_sync_soon(_spawn_trio, chunks, response)
    except Exception:
        pass  # the loop is gone, and with it the pool


class EventStreamAsync(_StreamCore[T]):
    """The async twin of :class:`EventStream`, over a response from ``httpx2.AsyncClient``.

    ::

        async with client.stream("POST", url, json=body) as response:
            async with EventStreamAsync(response, decode, sentinel="[DONE]") as s:
                async for chunk in s:
                    ...

    Everything :class:`EventStream` documents holds, with ``aclose()`` for ``close()``.
    Works on asyncio and trio (through anyio).

    ``aclose()`` may be called from another task at any time: a consumer awaiting the next
    event is woken and its ``__anext__`` raises :class:`~levante.errors.StreamClosed`;
    later calls raise ``StopAsyncIteration``. ``aclose()`` releases the connection even
    when cancelled, is safe to call twice, and re-raises the cancellation. Cancelling the
    consumer (task cancel, cancel scopes, ``asyncio.timeout``) releases the connection
    before the cancellation propagates.

    Fairness: before every 32nd event decoded from one read, the stream yields to the event
    loop, so a stream with a large backlog cannot starve the other tasks.
    """

    _byte_stream = httpx2.AsyncByteStream
    _wrong_client = (
        "EventStreamAsync needs a response from an httpx2.AsyncClient; "
        "use EventStream for a sync Client response"
    )

    def _init_io(self, response: httpx2.Response) -> None:
        # The generic reader's generator, created at the first read (see _read).
        self._chunks: AsyncGenerator[bytes] | None = None
        self._read_chunk: AsyncRead | None = async_direct_reader(response)
        # Whether aclose() can wake a read by shutting the socket down (see _read).
        self._socket_wakes = _own_socket(response) is not None
        self._reading = False
        self._scope: anyio.CancelScope | None = None
        self._interrupt: str | None = None
        self._released_event: anyio.Event | None = None
        # The event loop to close the response on if the stream is garbage collected.
        try:
            self._token: object = anyio.lowlevel.current_token().native_token
        except Exception:
            self._token = None

    def __aiter__(self) -> EventStreamAsync[T]:
        return self

    async def __aenter__(self) -> EventStreamAsync[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def __anext__(self) -> T:
        pos = self._pos
        pending = self._pending
        if pos < len(pending):
            if pos & _FAIRNESS_MASK == _FAIRNESS_MASK:
                await self._fair_checkpoint()
            self._pos = pos + 1
            try:
                return self._convert(pending[pos])
            except _Ended:
                await self._drain()
                raise StopAsyncIteration from None
            except BaseException:
                await self._release()
                raise
        return await self._next_slow()

    async def _fair_checkpoint(self) -> None:
        try:
            await anyio.lowlevel.checkpoint()
        except BaseException:
            await self._release()
            raise
        if self._closed:
            # aclose() ran in another task while we were yielding: this call was waiting.
            await self._release()
            raise self._closed_error()

    async def _next_slow(self) -> T:
        while True:
            if self._error is not None:
                await self._release()
                raise self._take_error()
            if self._closed:
                raise StopAsyncIteration
            if self._complete:
                await self._drain()  # after a terminal event
                raise StopAsyncIteration
            deadline = self._deadline
            if deadline is None and self._idle_timeout is not None:
                deadline = self._next_deadline()
            data = await self._read(deadline)
            if data is None:
                try:
                    self._finish_body()
                finally:
                    await self._release()
                raise StopAsyncIteration
            events = self._feed(data)
            if events:
                # The fast path of __anext__, inlined: at one event per read this runs
                # once per event.
                self._pos = 1
                try:
                    return self._convert(events[0])
                except _Ended:
                    await self._drain()
                    raise StopAsyncIteration from None
                except BaseException:
                    await self._release()
                    raise

    async def _read(self, deadline: float | None) -> bytes | None:
        """One read of the body; None at its end. Releases the response before raising.

        ``aclose()`` from another task must wake a read in progress. Over HTTP/1.1 it shuts
        the socket down, which the event loop sees as the end of the body, so a plain read
        needs nothing per call. A cancel scope (a few microseconds per read on asyncio,
        more on trio) is entered only for reads with a deadline, or when there is no
        socket of our own to shut down (HTTP/2, in-process transports).
        """
        if self._closed:
            await self._release()
            raise StopAsyncIteration
        read = self._read_chunk
        if read is None:
            chunks = self._chunks = async_chunks(self._response)
            read = self._read_chunk = chunks.__anext__
        if deadline is None and self._socket_wakes:
            self._reading = True
            try:
                data = await read()
            except StopAsyncIteration:
                data = None
            except BaseException as exc:
                self._reading = False
                await self._read_failed(exc)
            self._reading = False
            if self._interrupt is not None:
                raise await self._read_interrupted()
            return data
        return await self._read_in_scope(read, deadline)

    async def _read_in_scope(self, read: AsyncRead, deadline: float | None) -> bytes | None:
        if deadline is None:
            scope = anyio.CancelScope()
        else:
            remaining = deadline - _monotonic()
            if remaining <= 0:
                await self._release()
                raise self._timeout_error()
            scope = anyio.CancelScope(deadline=anyio.current_time() + remaining)
        self._scope = scope
        self._reading = True
        data: bytes | None = None
        try:
            with scope:
                try:
                    data = await read()
                except StopAsyncIteration:
                    data = None
        except BaseException as exc:
            self._reading = False
            self._scope = None
            await self._read_failed(exc)
        self._reading = False
        self._scope = None
        if scope.cancelled_caught and self._interrupt is None:
            self._interrupt = _DEADLINE
        if self._interrupt is not None:
            raise await self._read_interrupted()
        return data

    async def _read_failed(self, exc: BaseException) -> NoReturn:
        """Release after a failed read and raise what the stream reports instead."""
        interrupt = self._interrupt
        await self._release()
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            raise exc  # an outer cancellation (a scope of ours swallows its own)
        if interrupt == _CLOSED:
            raise self._closed_error() from None
        if isinstance(exc, httpx2.RequestError):
            raise self._transport_error(exc) from exc
        raise exc

    async def _read_interrupted(self) -> StreamError:
        """Release after a read that aclose() or a deadline cut short."""
        interrupt = self._interrupt
        await self._release()
        if interrupt == _CLOSED:
            return self._closed_error()
        return self._timeout_error()

    async def _drain(self) -> None:
        """After the sentinel: read what is left of the body, within bounds, then release."""
        budget = DRAIN_MAX_BYTES
        deadline = time.monotonic() + DRAIN_TIMEOUT
        try:
            while budget >= 0:
                data = await self._read(deadline)
                if data is None:
                    break
                self._bytes += len(data)
                budget -= len(data)
        except (StopAsyncIteration, StreamError, APIConnectionError):
            pass  # already released; the connection is simply not reused
        await self._release()

    async def _release(self) -> None:
        """Close the response (idempotent), shielded from cancellation."""
        if self._released:
            return
        self._released = True
        self._closed = True
        self._t_end = time.monotonic()
        # Events decoded but not yet delivered are dropped with the stream.
        self._pending = []
        chunks = self._chunks
        try:
            if not self._response.is_closed or (
                chunks is not None and getattr(chunks, "ag_frame", None) is not None
            ):
                with anyio.CancelScope(shield=True):
                    await _uncancellable(self._close_response(chunks, self._reading))
            # else: the body was read to its end, which closed the response already.
        finally:
            self._release_finished = True
            event = self._released_event
            if event is not None:
                event.set()

    async def _close_response(self, chunks: AsyncGenerator[bytes] | None, reading: bool) -> None:
        try:
            if chunks is not None and not reading:
                await _abort_body(chunks)
            await self._response.aclose()
        except (httpx2.HTTPError, OSError):
            pass  # closing is best effort: the connection is dropped either way

    async def aclose(self) -> None:
        """Release the connection now. Idempotent; safe from any task at any time.

        If another task is awaiting the next event, it is woken (its ``__anext__`` raises
        :class:`~levante.errors.StreamClosed`) and this call waits until it has released
        the connection. The connection is released even if this call is cancelled, and
        the cancellation is re-raised.
        """
        self._closed = True
        if not self._release_finished:
            if self._reading and not self._released:
                if self._interrupt is None:
                    self._interrupt = _CLOSED
                scope = self._scope
                if scope is not None:
                    scope.cancel()
                else:
                    _shutdown_socket(self._response)
            if self._reading or self._released:
                # Another task is leaving its read, or releasing: it sets the event when
                # done. This wait may be cancelled without leaking anything, since that
                # task releases the connection whether or not anyone waits for it.
                event = self._released_event
                if event is None:
                    event = self._released_event = anyio.Event()
                with anyio.move_on_after(_CLOSE_WAIT):
                    await event.wait()
            await self._release()
        await anyio.lowlevel.checkpoint_if_cancelled()

    def __del__(self) -> None:
        if getattr(self, "_released", True):
            return
        self._released = True
        try:
            _schedule_aclose(self._token, self._chunks, self._response)
        finally:
            warnings.warn(
                f"unclosed {self!r}: use 'async with' or await aclose()",
                ResourceWarning,
                stacklevel=2,
                source=self,
            )


_AS = TypeVar("_AS", bound=EventStreamAsync[Any])


class AsyncStreamContext(Generic[_AS]):
    """What an async streaming method returns, before any I/O: await it or enter it.

    ``stream = await client.chat.stream_async(...)`` sends the request and gives the open
    stream (as in the official SDK); ``async with client.chat.stream_async(...) as stream``
    does the same and closes the stream when the block is left, however it is left. The
    request is sent once: a second ``await`` or ``async with`` raises ``RuntimeError``.
    Arguments are validated when the method is called, before this object exists.
    """

    __slots__ = ("_open", "_stream")

    def __init__(self, open_stream: Callable[[], Coroutine[Any, Any, _AS]]) -> None:
        self._open: Callable[[], Coroutine[Any, Any, _AS]] | None = open_stream
        self._stream: _AS | None = None

    def _take(self) -> Callable[[], Coroutine[Any, Any, _AS]]:
        open_stream = self._open
        if open_stream is None:
            raise RuntimeError("this stream request was already sent; call the method again")
        self._open = None
        return open_stream

    def __await__(self) -> Generator[Any, None, _AS]:
        return self._take()().__await__()

    async def __aenter__(self) -> _AS:
        stream = self._stream = await self._take()()
        await stream.__aenter__()
        return stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stream = self._stream
        self._stream = None
        if stream is not None:
            await stream.__aexit__(exc_type, exc, tb)
