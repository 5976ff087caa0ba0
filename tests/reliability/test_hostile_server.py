"""The hostile-server table: one raw-socket scenario per row, its documented outcome, and a
bound on the memory levante used to reach it (``tracemalloc`` peak).

Each row is a server that misbehaves on purpose at the byte level (an HTML page for a
stream, a redirect to another host, compression bombs, broken chunked encoding, a close
mid-chunk, a line that never ends, headers that never come, absurd ``retry:`` / ``id:``
fields, invalid UTF-8...) and the one exception levante documents for it, with a phrase of
its message. Every row runs sync, and async on asyncio (httpx2's transport and levante's
aiohttp one) and on trio. SECURITY.md carries the same table.
"""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest

from levante import Mistral
from levante._transport import AiohttpTransport
from levante.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    IncompleteStreamError,
    MistralError,
    ResponseTooLarge,
    StreamDecodeError,
    StreamEventTooLarge,
    StreamTimeout,
)
from rawserver import RawServer, gzip_bomb, http_head
from reliability_report import report

MiB = 1 << 20
SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}
CHUNK = json.dumps(
    {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
    }
).encode()
EVENT = b"data: " + CHUNK + b"\n\n"
DONE = b"data: [DONE]\n\n"

Respond = Callable[[Any, bytes, threading.Event], None]


def send(*parts: bytes) -> Respond:
    def respond(conn: Any, request: bytes, stop: threading.Event) -> None:
        for part in parts:
            conn.sendall(part)

    return respond


def paced(*parts: bytes, pause: float = 0.1) -> Respond:
    """Each part in its own write, ``pause`` seconds apart: the head and the first event
    reach the client before what breaks the body, whatever the transport's read-ahead."""

    def respond(conn: Any, request: bytes, stop: threading.Event) -> None:
        for part in parts:
            conn.sendall(part)
            stop.wait(pause)

    return respond


def forever(head: bytes, filler: bytes, prefix: bytes = b"") -> Respond:
    """The head, then ``filler`` again and again until the client goes away."""

    def respond(conn: Any, request: bytes, stop: threading.Event) -> None:
        conn.sendall(head + prefix)
        while not stop.is_set():
            conn.sendall(filler)  # raises once the client has closed

    return respond


def stall(*parts: bytes, ping: bytes = b"", every: float = 0.05) -> Respond:
    """``parts``, then nothing (or ``ping`` every ``every`` seconds) until the test ends."""

    def respond(conn: Any, request: bytes, stop: threading.Event) -> None:
        conn.sendall(b"".join(parts))
        while not stop.wait(every if ping else 30):
            conn.sendall(ping)

    return respond


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)


def gzipped(head: dict[str, str], size: int, layers: int) -> bytes:
    payload = gzip_bomb(size, layers)
    encoding = ", ".join(["gzip"] * layers)
    fields = {**head, "content-encoding": encoding, "content-length": str(len(payload))}
    return http_head(200 if "event-stream" in head.get("content-type", "") else 400, fields) + (
        payload
    )


@dataclass
class Row:
    """One scenario: the server, the call, what it raises (and says), the memory bound."""

    name: str
    respond: Respond
    error: type[Exception] | None  # None: the stream ends normally
    phrase: str
    call: str = "stream"  # or "complete"
    options: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    memory: int = 8 * MiB


ROWS = [
    Row("HTML captive portal", send(http_head(200, {"content-type": "text/html"}), b"<html>login</html>"), APIError, "200 with text/html"),  # noqa: E501
    Row("redirect to another host", send(http_head(302, {"location": "http://127.0.0.1:9/steal", **SSE})), APIError, "redirect"),  # noqa: E501
    Row("gzip bomb, one endless event", send(gzipped(SSE, 256 * MiB, 1)), StreamEventTooLarge, "larger than", memory=64 * MiB),  # noqa: E501
    Row("gzip, gzip bomb error body", send(gzipped(JSON, 256 * MiB, 2)), APIError, "400", call="complete"),  # noqa: E501
    Row("gzip, gzip bomb JSON answer", send(gzipped({**JSON, "x": "200"}, 256 * MiB, 2).replace(b" 400 ", b" 200 ", 1)), ResponseTooLarge, "exceeds", call="complete", client={"max_response_bytes": 4 * MiB}, memory=24 * MiB),  # noqa: E501
    Row("six content encodings", send(http_head(200, {**JSON, "content-encoding": "gzip, " * 5 + "gzip", "content-length": "2"}), b"{}"), MistralError, "decode", call="complete"),  # noqa: E501
    Row("invalid chunk size", paced(http_head(200, {**SSE, "transfer-encoding": "chunked"}), chunked(EVENT), b"zz\r\nboom\r\n"), IncompleteStreamError, "connection was lost"),  # noqa: E501
    Row("close mid-chunk", paced(http_head(200, {**SSE, "transfer-encoding": "chunked"}), chunked(EVENT), b"400\r\n" + EVENT), IncompleteStreamError, "connection was lost"),  # noqa: E501
    Row("Content-Length longer than the body", send(http_head(200, {**SSE, "content-length": "5000"}), EVENT), IncompleteStreamError, "connection was lost"),  # noqa: E501
    Row("endless line", forever(http_head(200, SSE), b"x" * 65536, b"data: "), StreamEventTooLarge, "larger than", memory=64 * MiB),  # noqa: E501
    Row("endless comments, no event", stall(http_head(200, SSE), ping=b": ping\n"), StreamTimeout, "first_event_timeout", options={"first_event_timeout": 0.3}),  # noqa: E501
    Row("stalled headers", stall(b"HTTP/1.1 200 OK\r\n"), APITimeoutError, "timed out", client={"timeout": 0.3}),  # noqa: E501
    Row("stalled body", stall(http_head(200, SSE), EVENT), APITimeoutError, "timed out", client={"timeout": 0.3}),  # noqa: E501
    Row("endless header block", forever(b"HTTP/1.1 200 OK\r\n", b"x-filler: " + b"y" * 1000 + b"\r\n"), APIConnectionError, "failed", client={"retries": 0}),  # noqa: E501
    Row("huge retry: field", send(http_head(200, SSE), b"retry: " + b"9" * (2 * MiB) + b"\n", EVENT, DONE), None, "", memory=16 * MiB),  # noqa: E501
    Row("huge id: field", send(http_head(200, SSE), b"id: " + b"7" * (17 * MiB) + b"\n\n"), StreamEventTooLarge, "larger than", memory=80 * MiB),  # noqa: E501
    Row("invalid UTF-8 in data", send(http_head(200, SSE), b'data: {"id": "\xff\xfe", "bad": \xc3\x28}\n\n', DONE), StreamDecodeError, "could not decode"),  # noqa: E501
    Row("no [DONE], connection closed", send(http_head(200, SSE), EVENT), IncompleteStreamError, "[DONE]"),  # noqa: E501
]  # fmt: skip

CALL = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
OUTCOMES: dict[str, set[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def print_table() -> Iterator[None]:
    yield
    for row in ROWS:
        seen = OUTCOMES.get(row.name)
        if seen:
            report("hostile server", f"{row.name}: {' / '.join(sorted(seen))}")


def check(row: Row, exc: BaseException | None, peak: int) -> None:
    OUTCOMES.setdefault(row.name, set()).add("ends normally" if exc is None else type(exc).__name__)
    if row.error is None:
        assert exc is None, repr(exc)
    else:
        assert isinstance(exc, row.error), repr(exc)
        assert row.phrase in str(exc), str(exc)
    assert peak < row.memory, f"{row.name}: peak {peak / MiB:.1f} MiB"


def run_sync(row: Row, url: str) -> BaseException | None:
    with Mistral(api_key="sk-hostile-0123", server_url=url, **row.client) as client:
        try:
            if row.call == "complete":
                client.chat.complete(**CALL, **row.options)
            else:
                with client.chat.stream(**CALL, **row.options) as stream:
                    for _ in stream:
                        pass
        except Exception as exc:
            return exc
    return None


async def run_async(row: Row, url: str, transport: str) -> BaseException | None:
    http = httpx2.AsyncClient(transport=AiohttpTransport() if transport == "aiohttp" else None)
    try:
        async with Mistral(
            api_key="sk-hostile-0123", server_url=url, async_client=http, **row.client
        ) as client:
            try:
                if row.call == "complete":
                    await client.chat.complete_async(**CALL, **row.options)
                else:
                    async with client.chat.stream_async(**CALL, **row.options) as stream:
                        async for _ in stream:
                            pass
            except Exception as exc:
                return exc
    finally:
        await http.aclose()
    return None


def serve(row: Row) -> tuple[RawServer, threading.Event]:
    stop = threading.Event()
    return RawServer(lambda conn, request: row.respond(conn, request, stop)), stop


def measured(run: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_hostile_server_sync(row: Row) -> None:
    server, stop = serve(row)
    try:
        exc, peak = measured(lambda: run_sync(row, server.url))
    finally:
        stop.set()
        server.close()
    check(row, exc, peak)
    if row.name.startswith("redirect"):
        assert server.accepted == 1  # the redirect was not followed, nor retried


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("backend", "transport"),
    [("asyncio", "httpx2"), ("asyncio", "aiohttp"), ("trio", "httpx2")],
    ids=["asyncio-httpx2", "asyncio-aiohttp", "trio-httpx2"],
)
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_hostile_server_async(row: Row, backend: str, transport: str) -> None:
    server, stop = serve(row)
    try:
        exc, peak = measured(
            lambda: anyio.run(run_async, row, server.url, transport, backend=backend)
        )
    finally:
        stop.set()
        server.close()
    check(row, exc, peak)
