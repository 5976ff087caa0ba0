"""EventStream and EventStreamAsync: the lifecycle of one streamed HTTP response.

A stream owns an ``httpx2`` response opened for streaming, an :class:`~levante.sse.SSEDecoder`
and a ``decode`` function; iterating it yields whatever ``decode`` returns for each event.

Modules, imports pointing down: :mod:`._context` (:class:`AsyncStreamContext`) ->
:mod:`._sync`, :mod:`._async` (the twins: reading and releasing) -> :mod:`._base` (the
response and the constructor) -> :mod:`._core` (the sans-IO state machine: one state, one
decision step, stats, deadlines) -> :mod:`._state` (states, steps, limits, stats) and
:mod:`._end` (:class:`EndRule`). Beside them:
:mod:`._body` (how bytes are read), :mod:`._interrupt` (socket shutdown, the watchdog
thread), :mod:`._aclose` (shielded cleanup, abort, finalizer scheduling).

Design rules (keep them when changing this package):

1. One sans-IO core, two thin twins. The core holds the decoder, the pending events, the
   end rule, the error detection, the stats, the deadlines and the one lifecycle state,
   and decides every step; it never does I/O. :class:`EventStream` and
   :class:`EventStreamAsync` only read bytes and release the response, as a step asks.
   Iteration is ``__next__`` / ``__anext__`` on the class with explicit state, never a
   generator, so another thread or task can close a stream at any time without
   "generator already running".
2. The connection is released on every path before an exception leaves the stream: the
   end marker, the end of the body, any error, ``close()`` from anywhere, cancellation,
   and, as a last resort, garbage collection (with a ``ResourceWarning``, as for files).
3. Cheap per event. Events decoded from one read sit in a list; each ``__next__`` takes
   the next one, compares it with the sentinel, runs a substring prefilter for in-stream
   errors, and calls ``decode``, which does the only JSON parse on the normal path. Clocks
   are read once per read, not once per event. Bytes come from the reader
   :mod:`._body` chooses: ``h11`` driven directly for httpx2's own HTTP/1.1
   transport, the response's byte iterator for anything else.
4. Reads are interruptible. ``close()`` from another thread, ``aclose()`` from another task
   and the sync timeout watchdog shut the socket down: a blocked ``recv`` wakes up (closing
   the fd alone does not, on Linux) and an event loop sees the socket at its end. That
   costs nothing per read. Async reads with a deadline, or without a socket of their own
   (HTTP/2, in-process transports), run in a cancel scope owned by the stream instead,
   which ``aclose()`` and the deadline cancel. A blocked sync read without a socket of
   its own cannot be interrupted: ``close()`` then releases after a bounded wait.
5. A complete stream gives its connection back to the pool: after the end marker the rest
   of the body is drained within :data:`DRAIN_MAX_BYTES` and :data:`DRAIN_TIMEOUT`, else the
   connection is dropped rather than reused in an unknown state.
"""

from ._aclose import abort_body
from ._async import EventStreamAsync
from ._base import BaseEventStream
from ._context import AsyncStreamContext
from ._end import EndRule
from ._state import DRAIN_MAX_BYTES, DRAIN_TIMEOUT, StreamStats
from ._sync import EventStream

__all__ = [
    "DRAIN_MAX_BYTES",
    "DRAIN_TIMEOUT",
    "AsyncStreamContext",
    "BaseEventStream",
    "EndRule",
    "EventStream",
    "EventStreamAsync",
    "StreamStats",
    "abort_body",
]
