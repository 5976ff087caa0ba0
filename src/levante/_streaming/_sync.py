"""EventStream: the sync twin, which reads bytes and releases the response."""

from __future__ import annotations

import functools
import threading
import time
import warnings
from collections.abc import Generator
from types import TracebackType
from typing import TypeVar

import httpx2

from ._base import BaseEventStream
from ._body import SyncRead, sync_chunks, sync_direct_reader
from ._interrupt import WATCHDOG, shutdown_socket
from ._state import (
    CLOSE_WAIT,
    CLOSED,
    DEADLINE,
    DRAIN,
    FAIL,
    LOST,
    READ,
    STOP,
    State,
    Step,
)

__all__ = ["EventStream"]

# A member looked up on an enum class costs ~1 us (EnumType attribute access), more
# than a whole read at times: paths that run per read use these names.
_OPEN = State.OPEN
_CLOSING = State.CLOSING
_RELEASING = State.RELEASING
_RELEASED = State.RELEASED

T = TypeVar("T")

_get_ident = threading.get_ident


class EventStream(BaseEventStream[T]):
    """Iterate the server-sent events of a streamed ``httpx2.Response``, decoded to ``T``.

    ::

        with client.stream("POST", url, json=body) as response:
            with EventStream(response, lambda e: json.loads(e.data), sentinel="[DONE]") as s:
                for chunk in s:
                    ...

    ``decode`` turns each :class:`~levante.sse.ServerSentEvent` into the item yielded; any
    exception it raises becomes :class:`~levante.errors.StreamDecodeError`.

    ``end``: how the stream ends, an :class:`~levante.EndRule` (its end of body when not
    given). ``sentinel`` and ``terminal_events`` are shorthands: ``sentinel="[DONE]"`` is
    ``end=EndRule.at_sentinel("[DONE]")`` (an event whose data equals it ends the stream
    and is not yielded), ``terminal_events=types`` is ``end=EndRule.at_event(types)``
    (event types that end the stream after being yielded); give at most one of the three.
    A body that ends before the rule's marker, or in the middle of an event, raises
    :class:`~levante.errors.IncompleteStreamError`.

    An event whose type is one of the rule's error types (``event: error`` unless the rule
    says otherwise), or data that is a JSON object with a non-null top-level ``"error"`` or
    with ``"object": "error"``, raises :class:`~levante.errors.StreamAPIError` carrying the
    parsed payload and the event.

    ``first_event_timeout`` bounds, in seconds, the wait from construction to the first
    event (it defaults to ``idle_timeout``); ``idle_timeout`` bounds each later wait for
    the next event, counted from when the consumer asks for it, so time spent in the
    consumer's own code is not counted. Comments and partial events do not reset either.
    Both raise :class:`~levante.errors.StreamTimeout`. ``max_event_size`` caps one event in
    bytes (:class:`~levante.errors.StreamEventTooLarge`), ``None`` to lift the cap.

    Transport failures raise :class:`~levante.errors.APIConnectionError` or
    :class:`~levante.errors.APITimeoutError`. Whatever the path, the connection is
    released before the exception leaves the stream. After the end marker, the rest of
    the body is drained (bounded by :data:`DRAIN_MAX_BYTES` and :data:`DRAIN_TIMEOUT`) so the
    connection goes back to the pool.

    ``owner`` is kept referenced until the stream is gone: whatever must outlive it, such
    as the client whose pool the connection belongs to.

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
        self._set_reader(response)
        # A read is in progress (the only time another thread must not touch _chunks).
        self._reading = False
        self._reader = 0
        self._read_deadline: float | None = None
        self._released_event: threading.Event | None = None
        self._armed_at: float | None = None

    def _set_reader(self, response: httpx2.Response) -> None:
        # Nothing is started until the first read, so choosing the reader costs nothing.
        direct = sync_direct_reader(response)
        self._chunks: Generator[bytes] | None = None
        if direct is None:
            chunks = self._chunks = sync_chunks(response)
            direct = functools.partial(next, chunks, None)
        self._read_chunk: SyncRead = direct

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
        # The hot loop. Two parts are inlined for bench_stream: delivering a pending
        # event, which is _step's first branch (an A/B in one run: 10% less CPU per event
        # at 64 events per write), and the read without a deadline (1.44x the raw read
        # through _step, 1.36x inlined, at one event per write in separate runs; the A/B
        # saw no difference there on a loaded machine). Every other decision is the
        # core's _step. See _read for the handshake with close().
        step: Step | None
        while True:
            pos = self._pos
            pending = self._pending
            if pos < len(pending):
                self._pos = pos + 1
                try:
                    item = self._convert(pending[pos])
                except BaseException:
                    self._release()  # decode raised something that is not an Exception
                    raise
                if item.__class__ is not Step:
                    return item  # type: ignore[no-any-return]
                step = item
            else:
                step = self._step()
                if step is READ:
                    if self._deadline is not None:
                        step = self._read(self._deadline)
                    else:
                        self._reader = _get_ident()
                        self._reading = True
                        if self._state is _OPEN:
                            try:
                                data = self._read_chunk()
                            except BaseException as exc:
                                self._reading = False
                                step = self._read_failed(exc)
                            else:
                                self._reading = False
                                if data is not None and self._interrupt is None:
                                    self._feed(data)
                                    continue
                                step = self._took(data)
                        else:
                            self._reading = False
                            step = STOP
                    if step is None:
                        continue
            self._finish(step)

    def _took(self, data: bytes | None) -> Step | None:
        """Hand one read to the core; a step only if the read was cut short."""
        if self._interrupt is not None:
            return self._interrupted()
        if data is None:
            self._body_ended()
        else:
            self._feed(data)
        return None

    def _finish(self, step: Step) -> None:
        """Carry out a step that ends the iteration; returns only if a lost stream got a
        new body (see :meth:`_reopen`), which the loop then reads."""
        if step is LOST:
            try:
                if self._reopen():
                    return
            except BaseException:
                self._release()
                raise
            if self._failure is None:
                step = STOP
        if step is DRAIN:
            self._drain()
            raise StopIteration
        self._release()
        if step is FAIL or step is LOST:
            raise self._take_failure()
        raise StopIteration

    # -- the seam for reconnection (levante._connect) --------------------------------------

    def _reopen(self) -> bool:
        """The body was cut short (a LOST step, ``_failure`` holding why): True once a new
        body is attached (:meth:`_attach`). False ends the stream: raising ``_failure``
        (the IncompleteStreamError, or what ``_fail`` stored instead), or cleanly if it
        was cleared. Runs on the reading thread with the lost body still open
        (:meth:`_drop_body`); whatever it raises releases the stream and propagates.
        This stream cannot reconnect; a subclass that can overrides this."""
        return False

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless :meth:`close` is called meanwhile (from any thread),
        which ends the wait at once; False if the stream is closing."""
        with self._lock:
            if self._state >= State.CLOSING:
                return False
            event = self._released_event
            if event is None:
                # close() sets it once it has released the stream
                event = self._released_event = threading.Event()
        event.wait(seconds)
        return self._state < _CLOSING

    def _drop_body(self) -> None:
        """Close the lost body's response, leaving the stream's state as it is."""
        try:
            if self._chunks is not None:
                self._chunks.close()
            self._response.close()
        except (httpx2.HTTPError, OSError):
            pass  # the connection is gone either way

    def _attach(self, response: httpx2.Response) -> bool:
        """Read ``response`` from now on, resuming a LOST stream; False (and ``response``
        is left to the caller) if the stream was closed meanwhile."""
        if not isinstance(response.stream, self._byte_stream):
            raise TypeError(self._wrong_client)
        with self._lock:  # close() from another thread must see one response or the other
            if self._state >= State.CLOSING:
                return False
            self._response = response
            self._set_reader(response)
            self._resume()
        return True

    def _read(self, deadline: float) -> Step | None:
        """One read with a deadline, handed to the core; a step if it was cut short.

        The flags are a handshake with :meth:`close` in another thread, which moves the
        state to CLOSING and then looks at ``_reading``: whichever runs second sees the
        other's write (the GIL orders them), so a read never starts on a stream being
        closed, and a close never misses a read in progress. Deadlines also involve the
        watchdog thread, so this path takes the lock (in ``_start_timed_read``).
        """
        data = self._read_bytes(deadline)
        if isinstance(data, Step):
            return data
        return self._took(data)

    def _read_bytes(self, deadline: float) -> bytes | Step | None:
        """One read with a deadline: bytes, None at the end of the body, or a step."""
        step = self._start_timed_read(deadline)
        if step is not None:
            return step
        try:
            data = self._read_chunk()
        except BaseException as exc:
            self._reading = False
            return self._read_failed(exc)
        self._reading = False
        if self._interrupt is not None:
            return self._interrupted()
        return data

    def _start_timed_read(self, deadline: float) -> Step | None:
        with self._lock:
            if self._state >= _CLOSING:
                return STOP
            if time.monotonic() >= deadline:
                return self._timed_out()
            armed = self._armed_at
            if armed is None or armed > deadline:
                self._armed_at = deadline
                WATCHDOG.arm(deadline, self)
            self._read_deadline = deadline
            self._reader = _get_ident()
            self._reading = True
            return None

    def _drain(self) -> None:
        """After the end marker: read what is left of the body, within bounds, release."""
        deadline = self._drain_deadline()
        while self._drained(self._read_bytes(deadline)):
            pass
        self._release()
        error = self._drain_error()
        if error is not None:
            raise error

    def _on_deadline(self, when: float) -> None:
        """Called by the watchdog thread when an armed deadline passes."""
        with self._lock:
            if self._armed_at == when:
                self._armed_at = None
            deadline = self._read_deadline
            if not self._reading or self._interrupt is not None or deadline is None:
                return
            if time.monotonic() >= deadline:
                self._interrupt = DEADLINE
                shutdown_socket(self._response)
            elif self._armed_at is None:
                self._armed_at = deadline
                WATCHDOG.arm(deadline, self)

    def _advance(self, state: State) -> None:
        with self._lock:  # close() moves the state from another thread
            super()._advance(state)

    def _release(self) -> None:
        """Close the response (idempotent, thread-safe); the pool gets the connection back
        if the body was read to its end, else the connection is closed."""
        with self._lock:
            if not self._begin_release():
                return
            reading = self._reading
        try:
            if not reading and self._chunks is not None:
                self._chunks.close()
            self._response.close()
        except (httpx2.HTTPError, OSError):
            pass  # closing is best effort: the connection is dropped either way
        finally:
            with self._lock:
                self._state = _RELEASED
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
            if self._state < _CLOSING:
                self._state = _CLOSING
            elif self._state is _RELEASED:
                return
            reading = self._reading
            if reading:
                if self._interrupt is None:
                    self._interrupt = CLOSED
                shutdown_socket(self._response)
                if self._reader == threading.get_ident():
                    return  # a signal handler inside the read: the read releases on return
            event = self._released_event
            if event is None:
                event = self._released_event = threading.Event()
        if reading:
            # The woken reader releases by itself; once it has left the read (even if it
            # raced past the interrupt with data in hand) it is safe to release from here.
            give_up = time.monotonic() + CLOSE_WAIT
            while self._reading and not event.wait(0.02) and time.monotonic() < give_up:
                pass
        self._release()
        event.wait(CLOSE_WAIT)  # if the reader is releasing right now, let it finish

    def __del__(self) -> None:
        if getattr(self, "_state", _RELEASED) >= _RELEASING:
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
