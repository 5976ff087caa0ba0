"""Waking a blocked read: socket shutdown, and the watchdog thread of sync deadlines."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
import weakref
from typing import Any, Protocol

import httpx2

from .._transport import shut_down

__all__ = ["WATCHDOG", "own_socket", "shutdown_socket"]


class _Interruptible(Protocol):
    def _on_deadline(self, when: float) -> None: ...


def own_socket(response: httpx2.Response) -> Any:
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


def shutdown_socket(response: httpx2.Response) -> None:
    """Wake whoever is blocked reading ``response`` by shutting its socket down.

    A blocked ``recv`` sees the end of the stream (closing the fd from another thread
    would not wake it, on Linux); an event loop sees the socket readable, then at its end.
    """
    sock = own_socket(response)
    if sock is None:
        return
    # Already shut down or closed is fine: the reader is waking up anyway. The base
    # method, because SSLSocket.shutdown would also drop its SSL object under the feet of
    # the reading thread.
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
    else:
        shut_down(sock)  # an event loop's socket, uvloop's included


class _Watchdog:
    """One daemon thread that interrupts sync streams whose deadline passes during a read.

    Streams only arm it when a read starts with a deadline not yet covered; on firing, the
    stream checks its current deadline and re-arms if it moved. So the per-event cost of a
    timeout is nil and no thread is ever started per stream or per event.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, weakref.ref[_Interruptible]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap = []
        self._thread = None

    def arm(self, when: float, stream: _Interruptible) -> None:
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


WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WATCHDOG._after_fork)
