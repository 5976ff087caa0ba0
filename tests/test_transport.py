"""levante._transport: the aiohttp transport against real servers on 127.0.0.1.

What goes on the wire must be what httpx2's own transport sends; every failure must leave
as the httpx2 error httpx2 raises; every way a response ends (read to the end, closed
early, cancelled) must leave the pool right; and one transport must serve a second event
loop, trio, and a garbage collector without warnings.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import aiohttp
import anyio
import httpx2
import pytest
from aiohttp.http_exceptions import BadHttpMessage

from levante._streaming import EventStreamAsync
from levante._transport import READ_SIZE, AiohttpTransport, DirectByteStream
from levante._transport._aiohttp import _timeout, httpx_error, read_error
from liveserver import LiveServer, SSEApp, live_server, serve_raw_once

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # aiohttp runs on asyncio only; trio is tested on its own below


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[SSEApp, LiveServer]]:
    app = SSEApp()
    with live_server(app.app) as srv:
        yield app, srv


def quiet(server: tuple[SSEApp, LiveServer]) -> None:
    app, srv = server
    assert app.wait_for_streams(0) == 0
    assert srv.wait_for_connections(0) == 0


# -- what goes on the wire -------------------------------------------------------------------


def capture_requests(count: int) -> tuple[str, list[bytes], threading.Thread]:
    """A raw server recording ``count`` requests (one per connection), answering each."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(count)
    listener.settimeout(10)
    seen: list[bytes] = []

    def run() -> None:
        with listener:
            for _ in range(count):
                conn, _ = listener.accept()
                with conn:
                    data = b""
                    while not _complete(data):
                        data += conn.recv(65536)
                    seen.append(data)
                    conn.sendall(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", seen, thread


def _complete(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
        if line.startswith(b"transfer-encoding:"):
            return body.endswith(b"0\r\n\r\n")
    return True


async def send_both(**request: Any) -> list[bytes]:
    url, seen, thread = capture_requests(2)
    for transport in (None, AiohttpTransport()):
        async with httpx2.AsyncClient(transport=transport) as client:
            response = await client.request(url=url + "/v1/x?q=a%20b", **request)
            assert response.status_code == 204
    thread.join(10)
    return [s.replace(url.removeprefix("http://").encode(), b"HOST") for s in seen]


@pytest.mark.anyio
async def test_the_request_on_the_wire_is_httpx2s() -> None:
    headers = {"Authorization": "Bearer k", "content-type": "application/json", "X-Two": "a"}
    ours, theirs = await send_both(method="POST", content=b'{"a": 1}', headers=headers)
    assert ours == theirs
    assert b"\r\nAuthorization: Bearer k\r\n" in ours and ours.endswith(b'\r\n\r\n{"a": 1}')


def _without_boundary(raw: bytes) -> bytes:
    boundary = re.search(rb"boundary=([0-9a-f]+)", raw)
    assert boundary is not None
    return raw.replace(boundary.group(1), b"B")


@pytest.mark.anyio
async def test_a_multipart_upload_on_the_wire_is_httpx2s() -> None:
    files = {"file": ("a.txt", b"x" * 70_000, "text/plain")}
    ours, theirs = await send_both(method="POST", files=files, data={"purpose": "ocr"})
    assert _without_boundary(ours) == _without_boundary(theirs)
    assert b"x" * 70_000 in ours


# -- responses ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_body_read_to_its_end_goes_back_to_the_pool(server: Any) -> None:
    quiet(server)
    transport = AiohttpTransport()
    async with httpx2.AsyncClient(transport=transport, base_url=server[1].url) as client:
        for _ in range(3):
            response = await client.get("/sse?n=40&per_write=3")
            assert response.text.count("data: ") == 41
            assert response.http_version == "HTTP/1.1"
            assert response.headers["content-type"].startswith("text/event-stream")
        assert transport.pool_stats() == (0, 1)
        assert server[1].open_connections == 1  # one connection served all three
    assert transport.pool_stats() == (0, 0)
    quiet(server)


@pytest.mark.anyio
async def test_closing_early_closes_the_connection(server: Any) -> None:
    quiet(server)
    transport = AiohttpTransport()
    async with httpx2.AsyncClient(transport=transport, base_url=server[1].url) as client:
        async with client.stream("GET", "/sse?n=5&hang=1") as response:
            async for chunk in response.aiter_raw():
                assert chunk.startswith(b"data: ")
                break
            assert transport.pool_stats() == (1, 0)
        assert transport.pool_stats() == (0, 0)
        quiet(server)
        assert (await client.get("/sse?n=1")).text.count("data: ") == 2


@pytest.mark.anyio
async def test_cancelling_a_read_closes_the_connection(server: Any) -> None:
    quiet(server)
    transport = AiohttpTransport()
    async with httpx2.AsyncClient(transport=transport, base_url=server[1].url) as client:

        async def read_forever() -> None:
            async with client.stream("GET", "/sse?n=1&hang=1") as response:
                async for _ in response.aiter_raw():
                    pass

        with anyio.move_on_after(0.3) as scope:
            await read_forever()
        assert scope.cancelled_caught
        assert transport.pool_stats() == (0, 0)
        quiet(server)


@pytest.mark.anyio
async def test_the_direct_reader_reads_the_body_and_ends(server: Any) -> None:
    client = httpx2.AsyncClient(transport=AiohttpTransport(), base_url=server[1].url)
    async with client, client.stream("GET", "/sse?n=20&per_write=4") as response:
        stream = response.stream._stream  # type: ignore[attr-defined]  # httpx2's wrapper
        assert isinstance(stream, DirectByteStream)
        read = stream.direct_reader()
        body = b""
        with pytest.raises(StopAsyncIteration):
            while True:
                body += await read()
    assert body.count(b"data: ") == 21 and body.endswith(b"data: [DONE]\n\n")


@pytest.mark.anyio
async def test_the_flat_reader_reads_the_same_body_and_ends_with_empty_bytes(server: Any) -> None:
    client = httpx2.AsyncClient(transport=AiohttpTransport(), base_url=server[1].url)
    async with client, client.stream("GET", "/sse?n=20&per_write=4") as response:
        stream = response.stream._stream  # type: ignore[attr-defined]  # httpx2's wrapper
        flat = stream.flat_reader()
        assert flat is not None
        read, _map = flat
        body = b""
        while chunk := await read(READ_SIZE):
            assert len(chunk) <= READ_SIZE
            body += chunk
        assert await read(READ_SIZE) == b""  # the end stays the end
    assert body.count(b"data: ") == 21 and body.endswith(b"data: [DONE]\n\n")
    quiet(server)


@pytest.mark.anyio
async def test_a_stream_takes_the_flat_read_and_keeps_no_event_across_a_wait(
    server: Any,
) -> None:
    client = httpx2.AsyncClient(transport=AiohttpTransport(), base_url=server[1].url)
    async with client, client.stream("GET", "/sse?n=4&delay=0.05") as response:
        stream = EventStreamAsync(response, lambda sse: sse.data, sentinel="[DONE]")
        assert stream._flat is not None  # aiohttp's own read, with no wrapper around it
        held_while_waiting: list[int] = []

        async def watch() -> None:
            while True:
                await asyncio.sleep(0.005)
                if stream._reading:
                    held_while_waiting.append(len(stream._pending))

        watcher = asyncio.ensure_future(watch())
        async with stream:
            got = [json.loads(item)["i"] async for item in stream]
        watcher.cancel()
    assert got == [0, 1, 2, 3]
    # the waits between events were seen, and no delivered event was held through one
    assert len(held_while_waiting) >= 3 and set(held_while_waiting) == {0}
    quiet(server)


def test_read_errors_map_like_the_direct_readers() -> None:
    cut = aiohttp.ClientPayloadError("cut")
    error = read_error(cut)
    assert type(error) is httpx2.RemoteProtocolError and error.__cause__ is cut
    gone = RuntimeError("Connection closed.")
    error = read_error(gone)
    assert type(error) is httpx2.ReadError and error.__cause__ is gone
    for own in (asyncio.CancelledError(), KeyboardInterrupt(), ValueError("x")):
        assert read_error(own) is own  # not aiohttp's: passed through as it is


@pytest.mark.anyio
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_shutting_the_socket_down_wakes_a_blocked_read(server: Any, loop: str) -> None:
    # What EventStreamAsync.aclose() does to wake a reader in another task.
    async def run() -> bytes:
        client = httpx2.AsyncClient(transport=AiohttpTransport(), base_url=server[1].url)
        async with client, client.stream("GET", "/sse?n=0&done=0&hang=1") as response:
            sock = response.extensions["network_stream"].get_extra_info("socket")
            asyncio.get_running_loop().call_later(0.2, sock.shutdown, socket.SHUT_RDWR)
            with pytest.raises(httpx2.RemoteProtocolError):
                await response.aread()
        return b""

    if loop == "uvloop":
        import uvloop

        await asyncio.to_thread(uvloop.run, run())
    else:
        await run()
    quiet(server)


@pytest.mark.anyio
async def test_a_cancelled_iteration_stops_within_a_chunk_or_two(server: Any) -> None:
    # Bytes already buffered come without a trip through the loop; the iteration must
    # still let a cancellation in, or aborting it would read the whole body first.
    quiet(server)
    transport = AiohttpTransport()
    async with httpx2.AsyncClient(transport=transport, base_url=server[1].url) as client:
        tail = 50_000_000  # a 50 MB comment after the events
        async with client.stream("GET", f"/sse?n=1&tail={tail}") as response:
            chunks = response.aiter_raw()
            received = len(await chunks.__anext__())
            with anyio.CancelScope() as scope:
                scope.cancel()
                async for chunk in chunks:
                    received += len(chunk)
            assert received < 1_000_000
        assert transport.pool_stats() == (0, 0)
    quiet(server)


# -- errors --------------------------------------------------------------------------------


async def get(url: str, limits: httpx2.Timeout | float = 5.0) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=AiohttpTransport(), timeout=limits) as client:
        return await client.get(url)


@pytest.mark.anyio
async def test_refused_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx2.ConnectError):
        await get(f"http://127.0.0.1:{port}/")


@pytest.mark.anyio
async def test_a_slow_head_is_a_read_timeout(server: Any) -> None:
    with pytest.raises(httpx2.ReadTimeout):
        await get(server[1].url + "/sse?first_delay=5", httpx2.Timeout(5.0, read=0.2))
    quiet(server)


@pytest.mark.anyio
async def test_a_slow_body_is_a_read_timeout(server: Any) -> None:
    client = httpx2.AsyncClient(transport=AiohttpTransport(), timeout=httpx2.Timeout(5, read=0.3))
    async with client, client.stream("GET", server[1].url + "/sse?n=3&delay=5") as response:
        chunks = response.aiter_raw()
        assert (await chunks.__anext__()).startswith(b"data: ")
        started = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            await chunks.__anext__()
        assert time.monotonic() - started < 3
    quiet(server)


@pytest.mark.anyio
async def test_a_full_backlog_is_a_connect_timeout() -> None:
    # A listener that never accepts, its queue filled: further SYNs go unanswered.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(address)
            fillers.append(filler)
        try:
            with pytest.raises(httpx2.ConnectTimeout):
                await get(f"http://127.0.0.1:{address[1]}/", httpx2.Timeout(5.0, connect=0.3))
        finally:
            for filler in fillers:
                filler.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "payload",
    [
        b"",  # hung up before answering
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",  # cut mid-body
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello",  # short body
        b"NOT HTTP AT ALL\r\n\r\n",  # garbage head
    ],
)
async def test_a_broken_response_is_a_remote_protocol_error(payload: bytes) -> None:
    # POST: aiohttp sends a GET once more after a disconnect (RFC 9112 9.3.1).
    url, thread = serve_raw_once(payload)
    async with httpx2.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            await client.post(url, content=b"{}")
    thread.join(10)


def test_errors_map_onto_httpx2s() -> None:
    key: Any = type("Key", (), {"ssl": False, "host": "h", "port": 1})()
    table: list[tuple[BaseException, type[httpx2.TransportError]]] = [
        (aiohttp.ConnectionTimeoutError("t"), httpx2.ConnectTimeout),
        (aiohttp.SocketTimeoutError("t"), httpx2.ReadTimeout),
        (aiohttp.ClientConnectorError(key, OSError(111, "refused")), httpx2.ConnectError),
        (aiohttp.ClientProxyConnectionError(key, OSError(111, "x")), httpx2.ProxyError),
        (aiohttp.ServerDisconnectedError(), httpx2.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx2.RemoteProtocolError),
        (BadHttpMessage("bad"), httpx2.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx2.ReadError),
        (aiohttp.ClientConnectionResetError("reset"), httpx2.ReadError),
        (aiohttp.InvalidURL("x"), httpx2.UnsupportedProtocol),
        (asyncio.TimeoutError(), httpx2.ReadTimeout),
        (aiohttp.ClientError("other"), httpx2.TransportError),
    ]
    for exc, expected in table:
        assert type(httpx_error(exc)) is expected, exc


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (httpx2.Timeout(5.0), (10.0, 5.0, 5.0)),
        (httpx2.Timeout(300.0, connect=10.0), (310.0, 10.0, 300.0)),
        (httpx2.Timeout(None), (None, None, None)),
        (httpx2.Timeout(None, connect=2.0), (None, 2.0, None)),
        (httpx2.Timeout(1.0, read=None), (2.0, 1.0, None)),
    ],
)
def test_httpx2_timeouts_become_aiohttps(
    timeout: httpx2.Timeout, expected: tuple[Any, ...]
) -> None:
    converted = _timeout({"timeout": timeout.as_dict()})
    assert converted.total is None
    assert (converted.connect, converted.sock_connect, converted.sock_read) == expected


# -- loops and lifetimes -----------------------------------------------------------------------


def test_one_transport_serves_a_second_loop_and_trio(server: Any) -> None:
    transport = AiohttpTransport()
    client = httpx2.AsyncClient(transport=transport, base_url=server[1].url)

    async def fetch() -> int:
        return (await client.get("/sse?n=2")).text.count("data: ")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert asyncio.run(fetch()) == 3  # the first loop ends with a connection pooled,
        assert server[1].wait_for_connections(0) == 0  # closed as the loop shut down
        assert asyncio.run(fetch()) == 3  # and a new session on the new loop
        assert anyio.run(fetch, backend="trio") == 3  # httpx2's own transport
        anyio.run(client.aclose, backend="trio")
        gc.collect()
    quiet(server)


def test_a_dropped_transport_closes_its_connections_quietly(server: Any) -> None:
    async def run() -> None:
        transport = AiohttpTransport()
        client = httpx2.AsyncClient(transport=transport, base_url=server[1].url)
        assert (await client.get("/sse?n=1")).status_code == 200
        assert server[1].wait_for_connections(1) == 1
        del client, transport
        gc.collect()
        await asyncio.sleep(0.1)  # the loop runs the close the collection scheduled
        assert server[1].wait_for_connections(0) == 0  # before the loop shuts down

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(run())
        gc.collect()
    quiet(server)
