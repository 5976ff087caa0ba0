"""levante._transport._read_timeout: the body's read timeout, one timer per body.

Against a real server on 127.0.0.1: a stalled body still fails with ``httpx2.ReadTimeout``
between 1x and 1.25x the timeout after its last bytes; no timer is armed per chunk; a
body whose reader is behind is not timed out; and a connection handed back to the pool is
never failed by the watch of the body it carried before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from levante._transport import AiohttpTransport
from levante._transport._read_timeout import BodyWatch
from liveserver import LiveServer, SSEApp, live_server

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the aiohttp transport runs on asyncio only


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[SSEApp, LiveServer]]:
    app = SSEApp()
    with live_server(app.app) as srv:
        yield app, srv


def client(server: Any, read: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=AiohttpTransport(),
        base_url=server[1].url,
        timeout=httpx2.Timeout(5.0, read=read),
    )


def watch_of(response: httpx2.Response) -> BodyWatch | None:
    watch: BodyWatch | None = response.stream._stream._watch  # type: ignore[attr-defined]
    return watch


def protocol_of(response: httpx2.Response) -> Any:
    aiohttp_response = response.stream._stream._response  # type: ignore[attr-defined]
    return aiohttp_response.connection.protocol


@pytest.mark.anyio
async def test_a_stalled_body_times_out_within_a_quarter_past_the_timeout(server: Any) -> None:
    async with client(server, read=0.4) as http, http.stream("GET", "/sse?n=2&delay=5") as r:
        chunks = r.aiter_raw()
        assert (await chunks.__anext__()).startswith(b"data: ")
        started = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            await chunks.__anext__()
        waited = time.monotonic() - started
    # the last bytes came just before `started`; the watch looks every 0.1 s
    assert 0.35 <= waited < 0.4 * 1.25 + 0.25, waited
    assert server[0].wait_for_streams(0) == 0


@pytest.mark.anyio
async def test_no_timer_is_armed_per_chunk(server: Any) -> None:
    async with client(server, read=5) as http, http.stream("GET", "/sse?n=6&delay=0.05") as r:
        watch = watch_of(r)
        assert watch is not None
        protocol = protocol_of(r)
        seen = 0
        async for chunk in r.aiter_raw():
            seen += chunk.count(b"data: ")
            # aiohttp would re-arm its sock_read timer at every chunk; it has none now
            assert protocol._read_timeout_handle is None
            assert watch._handle is not None or r.stream._stream._response.content.is_eof()  # type: ignore[attr-defined]
        assert seen == 7
    assert watch._handle is None  # stopped when the response was closed


@pytest.mark.anyio
async def test_a_reader_that_falls_behind_is_not_timed_out(server: Any) -> None:
    # 4 MB after the first event, then the server hangs: while the client does not read,
    # aiohttp pauses reading (its buffer is full) and no bytes arrive for 1 s, over twice
    # the timeout. That is the reader's doing, not the server's: no timeout until the
    # buffered bytes are read and the server has really stalled.
    tail = 4_000_000
    path = f"/sse?n=1&tail={tail}&hang=1"
    async with client(server, read=0.4) as http, http.stream("GET", path) as r:
        chunks = r.aiter_raw()
        received = len(await chunks.__anext__())
        await asyncio.sleep(1.0)
        with pytest.raises(httpx2.ReadTimeout):
            while True:
                received += len(await chunks.__anext__())
        assert received >= tail
    assert server[0].wait_for_streams(0) == 0


@pytest.mark.anyio
async def test_a_reused_connection_is_not_failed_by_the_previous_bodys_watch(
    server: Any,
) -> None:
    transport = AiohttpTransport()
    timeout = httpx2.Timeout(5.0, read=0.3)
    http = httpx2.AsyncClient(transport=transport, base_url=server[1].url, timeout=timeout)
    async with http:
        # read to its end (as a stream reads it: aiter_raw would also close it) but not
        # closed: its connection goes back to the pool at the end of the body (aiohttp's
        # doing), while the response and its watch are still alive
        first = await http.send(http.build_request("GET", "/sse?n=2&delay=0.05"), stream=True)
        assert watch_of(first) is not None
        read = first.stream._stream.direct_reader()  # type: ignore[attr-defined]
        body = b""
        with pytest.raises(StopAsyncIteration):
            while True:
                body += await read()
        assert body.count(b"data: ") == 3
        assert transport.pool_stats() == (0, 1)
        # gaps of 0.2 s, each under the timeout, on the same connection, for 1.2 s: four
        # times what the first body's watch would need to fail the connection
        async with http.stream("GET", "/sse?n=6&delay=0.2") as second:
            body = b"".join([chunk async for chunk in second.aiter_raw()])
            assert body.count(b"data: ") == 7
        assert transport.pool_stats() == (0, 1)  # still the one connection, reused
        await first.aclose()


@pytest.mark.anyio
async def test_without_a_read_timeout_nothing_is_watched(server: Any) -> None:
    async with (
        httpx2.AsyncClient(
            transport=AiohttpTransport(), base_url=server[1].url, timeout=httpx2.Timeout(None)
        ) as http,
        http.stream("GET", "/sse?n=1") as r,
    ):
        assert watch_of(r) is None
        assert (await r.aread()).count(b"data: ") == 2
