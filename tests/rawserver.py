"""A raw TCP server on 127.0.0.1 for answers no well-behaved HTTP server gives.

uvicorn will not send an invalid chunk size, a body that ends mid-chunk, headers that
never end or a gzip bomb with a lying length, so the hardening and hostile-server tests
write bytes themselves. Each accepted connection reads one request head (and its body, by
Content-Length) and hands the socket to ``respond``; the server counts connections, so a
test can show that a refused argument never opened one.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["RawServer", "gzip_bomb", "http_head", "raw_server", "read_request"]

Respond = Callable[[socket.socket, bytes], None]


def http_head(status: int, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    """A status line and header block (``connection: close`` unless given)."""
    fields = {"connection": "close", **(headers or {})}
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@functools.cache
def gzip_bomb(size: int, layers: int = 1) -> bytes:
    """``size`` zero bytes (whole MiB) gzipped ``layers`` times, for ``Content-Encoding:
    gzip, gzip``...

    Built in milliseconds rather than by compressing ``size`` bytes: one MiB of zeros is
    deflated and fully flushed (which resets the compressor, so the piece stands alone),
    and the piece repeated once per MiB.
    """
    block = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    final = packer.flush()
    count = size >> 20
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)
    data = header + piece * count + final + trailer
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


class RawServer:
    """Accepts connections on a free loopback port and answers each with ``respond``.

    ``accepted`` counts connections, ``requests`` keeps every request (head and body).
    ``stop`` (an event) is set by :meth:`close`, so a ``respond`` that stalls can wait
    on it and still end with the test.
    """

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.accepted = 0
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                request = read_request(conn)
                with self._lock:
                    self.requests.append(request)
                self.respond(conn, request)
            except OSError:
                pass  # the client went away first: part of several scenarios

    def close(self) -> None:
        self.stop.set()
        # wakes the accept at once (it would notice ``stop`` within its 0.1 s timeout)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._accepter.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


def read_request(conn: socket.socket) -> bytes:
    """One whole request, head and body (by Content-Length). A server that answers and
    closes with part of the request unread (a body sent in a write of its own) resets the
    connection, and the client may lose the answer before it reads it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def raw_server(respond: Respond) -> Iterator[RawServer]:
    """A :class:`RawServer` for the duration of the ``with`` block."""
    server = RawServer(respond)
    try:
        yield server
    finally:
        server.close()
