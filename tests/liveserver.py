"""A real uvicorn server on 127.0.0.1 in a background thread, for tests that need sockets.

In-process ASGI transports buffer whole bodies and cannot show early close, disconnects or
pool reuse, so lifecycle and client tests talk to this instead.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class LiveServer:
    """A running server: ``url`` to talk to, ``server`` to inspect its state."""

    url: str
    server: uvicorn.Server

    @property
    def open_connections(self) -> int:
        """TCP connections the server currently holds open."""
        return len(self.server.server_state.connections)

    @property
    def total_requests(self) -> int:
        return self.server.server_state.total_requests

    def wait_for_connections(self, expected: int, timeout: float = 5.0) -> int:
        """Poll until the server holds ``expected`` open connections; return the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.open_connections
            if count == expected or time.monotonic() > deadline:
                return count
            time.sleep(0.01)


@contextmanager
def live_server(app: Any, **config: Any) -> Iterator[LiveServer]:
    """Serve ``app`` on a free loopback port for the duration of the ``with`` block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    cfg = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=30, **config)
    server = uvicorn.Server(cfg)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.005)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
