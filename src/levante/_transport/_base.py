"""What the stream layer needs to know about a transport, without importing one.

A transport whose response bodies can be read one chunk per call, with no generator in
between, gives its responses a :class:`DirectByteStream`. The stream package recognises
that type and reads through :meth:`DirectByteStream.direct_reader` instead of iterating
the byte stream, which at one event per read is most of what a stream costs.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, NamedTuple

import httpx2

__all__ = [
    "HTTPX_UNCAPPED_LIMITS",
    "READ_SIZE",
    "AsyncRead",
    "DirectByteStream",
    "FlatRead",
    "PoolStats",
    "shut_down",
]

#: One read of an async body: the next chunk; raises StopAsyncIteration at its end.
AsyncRead = Callable[[], Coroutine[Any, Any, bytes]]
#: The most one read returns: what is buffered, up to this (httpcore2 reads 64 KiB too), so
#: a reader that stops after some bytes (a stream draining its tail) is not handed more.
READ_SIZE: Final = 65536
#: A transport's own read with nothing wrapped around it, called with READ_SIZE: the next
#: chunk, ``b""`` at the end, the transport's own errors; and the function mapping those
#: errors to httpx2's. The read takes the size rather than having it bound in, so that it
#: can be the transport's own bound method: at thousands of streams each object a read
#: goes through is one more cache miss per event.
FlatRead = tuple[Callable[[int], Awaitable[bytes]], Callable[[BaseException], BaseException]]

#: Pool limits for the httpx2 pools levante creates itself (the sync client, and the async
#: client where aiohttp is not used). httpx2's default caps a pool at 100 connections, so
#: the 101st concurrent stream waits a whole stream's length for its first byte; a stream
#: is one connection for minutes, so levante does not cap them. Idle connections kept for
#: reuse stay bounded: httpcore2 scans every pooled connection whenever a request starts
#: or ends, so a large idle set costs every request.
HTTPX_UNCAPPED_LIMITS: Final = httpx2.Limits(
    max_connections=None, max_keepalive_connections=100, keepalive_expiry=5.0
)


class PoolStats(NamedTuple):
    """Connections a pool holds: carrying a response now, and idle (kept for reuse)."""

    in_use: int
    idle: int


class DirectByteStream(httpx2.AsyncByteStream):
    """A response body that can also be read one chunk per call (see the module doc).

    ``direct_reader()`` and ``flat_reader()`` are called before any other read of the
    body and mark it as taken: the stream's own ``__aiter__`` must not be used after them.
    The two read the same body and may be used in turn, but not at the same time.
    ``aclose()`` releases the connection either way.
    """

    def direct_reader(self) -> AsyncRead:
        """A callable returning the next chunk; it raises StopAsyncIteration at the end
        and httpx2's transport errors (``ReadTimeout``, ``RemoteProtocolError`` ...)."""
        raise NotImplementedError

    def flat_reader(self) -> FlatRead | None:
        """The same reads with no coroutine of levante's around them, or None.

        Every coroutine a read passes through is created per event, and lives while the
        stream waits: at thousands of streams those are what the garbage collector scans
        (see the stream package's ``__anext__``). The read returns ``b""`` at the end and
        raises the transport's own errors; the caller maps them with the second callable.
        """
        return None

    def finished(self) -> bool:
        """Whether the body was read to its end, nothing left buffered: closing it then
        only hands the connection back, with nothing to wait for."""
        return False


def shut_down(sock: Any) -> None:
    """Shut an event loop's socket down both ways: its reader sees the end, its peer a FIN.

    uvloop's transport sockets refuse ``shutdown()``; shutting a duplicate descriptor down
    does the same, since shutdown acts on the socket, not on the descriptor. Errors (the
    socket already shut down or closed) are ignored: the reader is waking up anyway.
    """
    with contextlib.suppress(OSError):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except TypeError:
            with socket.fromfd(sock.fileno(), sock.family, sock.type) as duplicate:
                duplicate.shutdown(socket.SHUT_RDWR)
