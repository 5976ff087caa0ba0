"""A real uvicorn server on 127.0.0.1 in a background thread, for tests that need sockets.

In-process ASGI transports buffer whole bodies and cannot show early close, disconnects or
pool reuse, so lifecycle and client tests talk to this instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from levante._transport import AiohttpTransport
from rawserver import read_request


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

    def connection_ids(self) -> set[int]:
        """Identities of the connections the server holds now (same id: same connection)."""
        return {id(conn) for conn in self.server.server_state.connections}

    def wait_for_connections(self, expected: int, timeout: float = 5.0) -> int:
        """Poll until the server holds ``expected`` open connections; return the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.open_connections
            if count == expected or time.monotonic() > deadline:
                return count
            time.sleep(0.01)

    def wait_for_at_most(self, most: int, timeout: float = 5.0) -> int:
        """Poll until the server holds at most ``most`` open connections; return the last
        count (``wait_for_connections(1) <= 1`` would wait out its timeout at 0)."""
        deadline = time.monotonic() + timeout
        while (count := self.open_connections) > most and time.monotonic() < deadline:
            time.sleep(0.01)
        return count


class _Server(uvicorn.Server):
    """uvicorn's server, woken when told to stop: its own loop looks at ``should_exit``
    only every 0.1 s, and the suite starts and stops a few hundred servers."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._wake: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    async def main_loop(self) -> None:
        wake = asyncio.Event()
        self._wake = asyncio.get_running_loop(), wake
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000  # on_tick refreshes the Date header every 10th
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), 0.1)

    def stop(self) -> None:
        self.should_exit = True
        if self._wake is not None:
            loop, wake = self._wake
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(wake.set)


@contextmanager
def live_server(app: Any, **config: Any) -> Iterator[LiveServer]:
    """Serve ``app`` on a free loopback port for the duration of the ``with`` block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    cfg = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=30, **config)
    server = _Server(cfg)
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
        server.stop()
        thread.join(timeout=10)
        sock.close()


class CountingApp:
    """Wraps an ASGI app and counts the HTTP requests it sees, when it sees them (uvicorn's
    own ``total_requests`` is updated after the response, so it races an assertion).

    ``requests`` keeps (method, path, query string, headers) of each, headers lower-case.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str, dict[str, str]]] = []

    @property
    def seen(self) -> int:
        return len(self.requests)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            query = scope["query_string"].decode("latin-1")
            self.requests.append((scope["method"], scope["path"], query, headers))
        await self.app(scope, receive, send)


# -- helpers for streaming tests (added by the EventStream work) ---------------------------


def pool_connections(client: Any) -> list[Any]:
    """The connections an ``httpx2.Client`` / ``AsyncClient`` pool holds now.

    httpcore2's connection objects; for levante's aiohttp transport, stand-ins with the
    same ``is_idle()`` (aiohttp keeps no per-connection object worth showing).
    """
    transport = client._transport
    if isinstance(transport, AiohttpTransport):
        in_use, idle = transport.pool_stats()
        return [_AiohttpConnection(False)] * in_use + [_AiohttpConnection(True)] * idle
    return list(transport._pool.connections)


@dataclass(frozen=True)
class _AiohttpConnection:
    idle: bool

    def is_idle(self) -> bool:
        return self.idle


#: What the async lifecycle suites send through: None is httpx2's own transport; the
#: ``body_reader`` fixture (conftest.py) swaps in levante's aiohttp transport.
async_transport: Callable[[], Any] = lambda: None  # noqa: E731


def idle_pool_connections(client: Any) -> int:
    """How many of the client's pooled connections are idle (reusable)."""
    return sum(1 for conn in pool_connections(client) if conn.is_idle())


class SSEApp:
    """A starlette app streaming server-sent events that counts the streams it holds open.

    ``GET /sse`` takes query parameters: ``n`` events ``data: {"i": k}`` (default 3),
    ``per_write`` events per write (1), ``done=0`` to omit the ``[DONE]`` sentinel,
    ``delay`` seconds between writes, ``first_delay`` seconds before the first write,
    ``tail`` bytes of comment after the sentinel, ``hang=1`` to keep the body open
    afterwards, ``ping`` seconds between ``: ping`` comments while hanging.
    ``GET /raw/{key}`` writes the chunks stored in ``bodies[key]``, one per write, with
    the extra response headers in ``headers[key]`` if any.
    """

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.open_streams = 0
        self.started = 0
        self.bodies: dict[str, list[bytes]] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.app = Starlette(routes=[Route("/sse", self._sse), Route("/raw/{key}", self._raw)])

    def wait_for_streams(self, expected: int, timeout: float = 5.0) -> int:
        """Poll until ``expected`` response bodies are being streamed; return the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.open_streams
            if count == expected or time.monotonic() > deadline:
                return count
            time.sleep(0.005)

    def _respond(self, chunks: Any, headers: dict[str, str] | None = None) -> Any:
        from starlette.responses import StreamingResponse

        async def body() -> Any:
            self.open_streams += 1
            self.started += 1
            try:
                async for chunk in chunks:
                    yield chunk
            finally:
                self.open_streams -= 1

        return StreamingResponse(body(), media_type="text/event-stream", headers=headers)

    async def _raw(self, request: Any) -> Any:
        key = request.path_params["key"]
        parts = self.bodies[key]

        async def chunks() -> Any:
            for part in parts:
                yield part

        return self._respond(chunks(), self.headers.get(key))

    async def _sse(self, request: Any) -> Any:
        import anyio

        q = request.query_params
        n = int(q.get("n", 3))
        per_write = int(q.get("per_write", 1))
        done = q.get("done", "1") == "1"
        delay = float(q.get("delay", 0))
        first_delay = float(q.get("first_delay", 0))
        tail = int(q.get("tail", 0))
        hang = q.get("hang") == "1"
        ping = float(q.get("ping", 0))

        async def chunks() -> Any:
            if first_delay:
                await anyio.sleep(first_delay)
            batch: list[str] = []
            for i in range(n):
                batch.append(f'data: {{"i": {i}}}\n\n')
                if len(batch) == per_write:
                    yield "".join(batch).encode()
                    batch = []
                    if delay:
                        await anyio.sleep(delay)
            if batch:
                yield "".join(batch).encode()
            if done:
                yield b"data: [DONE]\n\n"
            if tail:
                yield b": " + b"x" * tail + b"\n\n"
            while hang:
                await anyio.sleep(ping or 3600)
                if ping:
                    yield b": ping\n\n"

        return self._respond(chunks())


def serve_raw_once(payload: bytes) -> tuple[str, threading.Thread]:
    """A one-shot raw HTTP server: answer one request with ``payload`` bytes, then hang up.

    For responses uvicorn will not produce, such as a body cut off mid-chunk. Returns the
    URL and the serving thread (join it, with a timeout, at the end of the test).
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def run() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                read_request(conn)  # all of it: see read_request
                conn.sendall(payload)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread
