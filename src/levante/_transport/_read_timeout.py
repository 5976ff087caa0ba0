"""The read timeout of an aiohttp response body, kept by one timer per body.

aiohttp keeps ``sock_read`` by cancelling and re-arming a timer on the event loop at every
chunk that arrives. At one event per chunk and thousands of streams that is most of what a
transport costs per event on uvloop (a libuv timer created and closed per chunk), and the
timer objects it churns through are what the garbage collector then walks: in
``bench_concurrency`` (C = 1,000, uvloop) dropping it took levante's client from 43-52 to
38-41 us of CPU per event, and the loop lag's p99 from 89-192 to 23-37 ms.

So once the response head is in (aiohttp's timer still bounds the head), the body's
timeout is :class:`BodyWatch`'s: a timer that wakes every quarter of the timeout and looks
whether bytes arrived since it last looked. A body with no new bytes for the timeout fails
as aiohttp would fail it (``SocketTimeoutError`` on the connection and on the body, which
the transport maps to ``httpx2.ReadTimeout``), between 1x and 1.25x the timeout after its
last bytes. A body whose reading is paused (its reader is behind, the buffer is full) is
not timed out, as aiohttp does not time it out.

It needs three private attributes of aiohttp's connection protocol (``_reading_paused``,
``_buffer_paused``, and the ``read_timeout`` setter's effect on ``_read_timeout_handle``);
with any of them missing, aiohttp keeps its own timer (:func:`watch_body` returns None).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

__all__ = ["BodyWatch", "watch_body"]

#: The watch looks this many times per timeout (so a stall is caught within 1.25x).
LOOKS_PER_TIMEOUT = 4


class BodyWatch:
    """Fails ``response``'s body when no bytes arrived for ``timeout`` seconds (see the
    module doc). :meth:`stop` when the body is closed; it stops itself at the body's end."""

    __slots__ = (
        "_content",
        "_handle",
        "_loop",
        "_protocol",
        "_response",
        "_seen",
        "_since",
        "_timeout",
    )

    def __init__(self, response: aiohttp.ClientResponse, protocol: Any, timeout: float) -> None:
        self._response = response
        self._content = response.content
        self._protocol = protocol
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._seen = self._content.total_bytes
        self._since = self._loop.time()
        self._handle: asyncio.TimerHandle | None = self._loop.call_at(
            self._since + timeout / LOOKS_PER_TIMEOUT, self._look
        )

    def stop(self) -> None:
        """Cancel the timer; the body is no longer watched."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    def _look(self) -> None:
        self._handle = None
        content = self._content
        if self._response.connection is None or content.is_eof() or content.exception():
            return  # released, ended or failed: nothing left to watch
        now = self._loop.time()
        protocol = self._protocol
        total = content.total_bytes
        if total != self._seen or protocol._reading_paused or protocol._buffer_paused:
            self._seen = total
            self._since = now
        elif now - self._since >= self._timeout:
            error = aiohttp.SocketTimeoutError("Timeout on reading data from socket")
            protocol.set_exception(error)  # the connection is not reused, as with aiohttp's
            if content.exception() is None:
                content.set_exception(error)
            return
        step = self._timeout / LOOKS_PER_TIMEOUT
        self._handle = self._loop.call_at(min(now + step, self._since + self._timeout), self._look)


def watch_body(response: aiohttp.ClientResponse, timeout: float | None) -> BodyWatch | None:
    """Take ``response``'s body read timeout over from aiohttp, or None (no timeout, or
    aiohttp's protocol is not the one this module knows: its own timer then stays)."""
    if timeout is None or timeout <= 0:
        return None
    connection = response.connection
    protocol = None if connection is None else connection.protocol
    if protocol is None or not all(
        hasattr(protocol, name)
        for name in ("_reading_paused", "_buffer_paused", "_read_timeout_handle", "start_timeout")
    ):
        return None
    if not isinstance(getattr(response.content, "total_bytes", None), int):
        return None
    protocol.read_timeout = None
    protocol.start_timeout()  # cancels the timer armed for the head; arms none
    if protocol._read_timeout_handle is not None:  # not the protocol this module knows
        protocol.read_timeout = timeout
        protocol.start_timeout()
        return None
    return BodyWatch(response, protocol, timeout)
