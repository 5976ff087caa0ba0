"""The streaming server of bench_concurrency: paced Mistral-style chat streams, fast.

A raw asyncio protocol (on uvloop when installed), one process, so that the server is
not what limits a run: no framework, no task per stream, one timer callback per event.
Every request (any path, any method) gets ``events`` chat chunks, the n-th written at
``n * interval`` seconds after the request arrived, then ``data: [DONE]``; the body is
chunked and the connection kept alive. A request carrying an ``x-bench-warm`` header
gets two chunks at once: the clients' warm-up.

    python benchmarks/_conc_server.py EVENTS INTERVAL   # prints its port, serves forever
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys

MODEL = "mistral-small-latest"
_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)
_END = b"0\r\n\r\n"


def chunk_event(i: int, last: bool = False) -> bytes:
    """One chat chunk as an SSE event (about 230 bytes, as the API sends them)."""
    choice = {
        "index": 0,
        "delta": {"content": "" if last else f" token{i % 1000:03d}"},
        "finish_reason": "stop" if last else None,
        "logprobs": None,
    }
    data = {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion.chunk",
        "created": 1702256327,
        "model": MODEL,
        "choices": [choice],
    }
    if last:
        data["usage"] = {"prompt_tokens": 9, "completion_tokens": i, "total_tokens": i + 9}
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


def _framed(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class _Stream(asyncio.Protocol):
    """One connection: reads request heads (and bodies), writes paced chunked streams."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._sent = 0
        self._total = 0
        self._start = 0.0
        self._interval = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment] - uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._transport = None

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            self._respond(b"x-bench-warm" in head)
        self._buffer = buffer

    def _respond(self, warm: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.write(_HEAD)
        if warm:
            transport.write(self._server.warm)
            return
        self._sent = 0
        self._total = self._server.events
        self._interval = self._server.interval
        loop = asyncio.get_running_loop()
        self._start = loop.time()
        self._timer = loop.call_at(self._start + self._interval, self._tick)

    def _tick(self) -> None:
        transport = self._transport
        if transport is None:
            return
        self._sent += 1
        frames = self._server.frames
        if self._sent >= self._total:
            self._timer = None
            transport.write(self._server.last)
            return
        transport.write(frames[self._sent % len(frames)])
        # Absolute times: a late tick does not delay every later event.
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(self._start + (self._sent + 1) * self._interval, self._tick)


class _Server:
    def __init__(self, events: int, interval: float) -> None:
        self.events = events
        self.interval = interval
        self.frames = [_framed(chunk_event(i)) for i in range(1000)]
        self.last = _framed(chunk_event(events, last=True) + b"data: [DONE]\n\n") + _END
        self.warm = self.frames[0] + _framed(chunk_event(1, last=True) + b"data: [DONE]\n\n")
        self.warm += _END


async def _serve(events: int, interval: float) -> None:
    loop = asyncio.get_running_loop()
    state = _Server(events, interval)
    server = await loop.create_server(lambda: _Stream(state), "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def raise_fd_limit() -> None:
    """Thousands of sockets need more than the usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    raise_fd_limit()
    events, interval = int(sys.argv[1]), float(sys.argv[2])
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(events, interval))
    else:
        uvloop.run(_serve(events, interval))


if __name__ == "__main__":
    main()
