"""levante._streaming._body: which reader a response gets, and that the direct one reads,
fails and hands the connection back exactly as the generic one does, against a real
uvicorn server."""

from __future__ import annotations

import contextlib
import gzip
import logging
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx2
import pytest

from conftest import Server, loads, raw
from levante._streaming import EventStream, EventStreamAsync
from levante._streaming._body import async_direct_reader, sync_direct_reader
from levante._transport import AiohttpTransport
from levante.errors import IncompleteStreamError
from liveserver import pool_connections, serve_raw_once

EVENTS = [b'data: {"i": 0}\n\n', b'data: {"i": 1}\n\n', b"data: [DONE]\n\n"]
GZIP = {"content-encoding": "gzip"}


def random_parts(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice([1, 2, 7, 100, 5000, 70_000])) for _ in range(40)]


def read_all(read: Any) -> list[bytes]:
    chunks = []
    while (chunk := read()) is not None:
        chunks.append(chunk)
    return chunks


def assert_idle_and_reused(sse_client: httpx2.Client | httpx2.AsyncClient, requests: int) -> None:
    conns = pool_connections(sse_client)
    assert len(conns) == 1 and conns[0].is_idle(), conns
    assert f"Request Count: {requests}" in repr(conns[0])


# -- sync ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_direct_reader_reads_the_body_iter_bytes_reads_then_pools_it(
    sse_server: Server, sse_client: httpx2.Client, seed: int
) -> None:
    parts = random_parts(seed)
    path = raw(sse_server[0], *parts)
    with sse_client.stream("GET", path) as response:
        read = sync_direct_reader(response)
        assert read is not None
        assert response.is_stream_consumed
        direct = read_all(read)
        assert all(type(chunk) is bytes for chunk in direct)
        assert read() is None  # the end stays the end
    with sse_client.stream("GET", path) as response:
        generic = list(response.iter_bytes())
    assert b"".join(direct) == b"".join(generic) == b"".join(parts)
    # The connection read directly went back to the pool and carried the second request.
    assert_idle_and_reused(sse_client, 2)


def test_direct_reader_leaves_a_half_read_connection_to_be_dropped(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], *[b"x" * 100] * 50)
    with sse_client.stream("GET", path) as response:
        read = sync_direct_reader(response)
        assert read is not None and read() is not None
    assert pool_connections(sse_client) == []
    assert sse_server[0].wait_for_streams(0) == 0


def test_content_length_and_close_delimited_bodies(sse_client: httpx2.Client) -> None:
    body = b'data: {"i": 0}\n\ndata: [DONE]\n\n'
    sized = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    until_close = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + body
    for payload in (sized, until_close):
        url, thread = serve_raw_once(payload)
        with sse_client.stream("GET", url) as response:
            stream = EventStream(response, loads, sentinel="[DONE]")
            assert stream._chunks is None  # the direct reader
            assert list(stream) == [{"i": 0}]
        thread.join(10)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        # Cut off in the middle of a chunk.
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata", "RemoteProtocolError"),
        # Fewer bytes than Content-Length announced.
        (b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\ndata: 1\n\n", "RemoteProtocolError"),
        # A malformed chunk header.
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", "RemoteProtocolError"),
    ],
)
def test_direct_reader_raises_what_iter_bytes_raises(
    sse_client: httpx2.Client, payload: bytes, error: str
) -> None:
    raised = []
    for direct in (True, False):
        url, thread = serve_raw_once(payload)
        with sse_client.stream("GET", url) as response:
            read = sync_direct_reader(response) if direct else None
            with pytest.raises(httpx2.TransportError) as info:
                if read is not None:
                    read_all(read)
                else:
                    list(response.iter_bytes())
            raised.append(type(info.value))
        thread.join(10)
    assert raised[0] is raised[1] is getattr(httpx2, error)
    assert pool_connections(sse_client) == []


def test_direct_reader_honours_the_read_timeout(sse_server: Server) -> None:
    with (
        httpx2.Client(base_url=sse_server[1].url, timeout=httpx2.Timeout(10, read=0.2)) as client,
        client.stream("GET", "/sse?first_delay=3") as response,
    ):
        read = sync_direct_reader(response)
        assert read is not None
        with pytest.raises(httpx2.ReadTimeout):
            read()


class CountingStream(httpx2.SyncByteStream):
    """A transport's own stream around httpx2's: what it does per chunk must still run."""

    def __init__(self, inner: httpx2.SyncByteStream) -> None:
        self.inner = inner
        self.chunks = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.chunks += 1
            yield chunk

    def close(self) -> None:
        self.inner.close()


class Wrapping(httpx2.BaseTransport):
    """A user's transport that wraps httpx2's own and its response streams."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.streams: list[CountingStream] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        stream = CountingStream(response.stream)
        self.streams.append(stream)
        return httpx2.Response(response.status_code, headers=response.headers, stream=stream)

    def close(self) -> None:
        self.inner.close()


class Delegating(httpx2.BaseTransport):
    """A transport that only delegates: the response chain is httpx2's own."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_delegating_transport_keeps_the_direct_reader(sse_server: Server) -> None:
    path = raw(sse_server[0], *EVENTS)
    with httpx2.Client(base_url=sse_server[1].url, transport=Delegating()) as client:
        for _ in range(2):
            with client.stream("GET", path) as response:
                stream = EventStream(response, loads, sentinel="[DONE]")
                assert stream._chunks is None
                assert [item["i"] for item in stream] == [0, 1]
        conns = list(client._transport.inner._pool.connections)  # type: ignore[attr-defined]
        assert len(conns) == 1 and conns[0].is_idle()
        assert "Request Count: 2" in repr(conns[0])


def _trace(name: str, info: dict[str, Any]) -> None:
    pass


@pytest.mark.parametrize("case", ["gzip", "trace", "debug-log", "transport", "read", "closed"])
def test_anything_but_the_plain_case_takes_the_generic_reader(
    sse_server: Server, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, srv = sse_server
    events = b'data: {"i": 0}\n\ndata: {"i": 1}\n\ndata: [DONE]\n\n'
    if case == "gzip":
        path = raw(app, gzip.compress(events), headers={"content-encoding": "gzip"})
    else:
        path = raw(app, events)
    extensions = {"trace": _trace} if case == "trace" else None
    if case == "debug-log":
        caplog.set_level(logging.DEBUG, logger="httpcore2.http11")
    transport = Wrapping() if case == "transport" else None
    with (
        httpx2.Client(base_url=srv.url, transport=transport) as client,
        client.stream("GET", path, extensions=extensions) as response,
    ):
        if case == "read":
            response.read()
        if case == "closed":
            response.close()
        assert sync_direct_reader(response) is None
        if case in ("read", "closed"):
            return
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert stream._chunks is not None  # the generic reader
        assert [item["i"] for item in stream] == [0, 1]
    if transport is not None:
        assert transport.streams[0].chunks == 1  # the wrapper saw the body go by
    if case == "debug-log":
        # httpcore2 traced the body read, as it does for any response.
        assert "receive_response_body.complete" in caplog.text


class PlainIterStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A transport's stream whose iterators are not generators (nothing to close)."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _AsyncListIterator(self.parts)


class _AsyncListIterator:
    def __init__(self, parts: list[bytes]) -> None:
        self.parts = iter(parts)

    def __aiter__(self) -> _AsyncListIterator:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self.parts)
        except StopIteration:
            raise StopAsyncIteration from None


@pytest.mark.parametrize("stop_after", [1, None])
def test_a_stream_over_a_plain_iterator_closes_cleanly(stop_after: int | None) -> None:
    response = httpx2.Response(200, stream=PlainIterStream(EVENTS))
    with EventStream(response, loads, sentinel="[DONE]") as stream:
        items = [item for _, item in zip(range(stop_after or 9), stream, strict=False)]
    assert stream.closed and response.is_closed
    assert [item["i"] for item in items] == [0, 1][: stop_after or 2]


# -- async --------------------------------------------------------------------------------


async def read_all_async(read: Any) -> list[bytes]:
    chunks = []
    with contextlib.suppress(StopAsyncIteration):
        while True:
            chunks.append(await read())
    return chunks


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [4, 5])
async def test_async_direct_reader_reads_the_body_aiter_bytes_reads_then_pools_it(
    sse_server: Server, seed: int
) -> None:
    parts = random_parts(seed)
    path = raw(sse_server[0], *parts)
    assert sse_server[1].wait_for_connections(0) == 0
    async with httpx2.AsyncClient(base_url=sse_server[1].url, timeout=10) as client:
        async with client.stream("GET", path) as response:
            read = async_direct_reader(response)
            assert read is not None
            direct = await read_all_async(read)
        async with client.stream("GET", path) as response:
            generic = [chunk async for chunk in response.aiter_bytes()]
        assert b"".join(direct) == b"".join(generic) == b"".join(parts)
        assert_idle_and_reused(client, 2)


@pytest.mark.anyio
async def test_async_direct_reader_raises_what_aiter_bytes_raises() -> None:
    payload = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata"
    raised = []
    async with httpx2.AsyncClient(timeout=10) as client:
        for direct in (True, False):
            url, thread = serve_raw_once(payload)
            async with client.stream("GET", url) as response:
                read = async_direct_reader(response) if direct else None
                with pytest.raises(httpx2.TransportError) as info:
                    if read is not None:
                        while True:
                            await read()
                    else:
                        async for _ in response.aiter_bytes():
                            pass
                raised.append(type(info.value))
            thread.join(10)
        assert pool_connections(client) == []
    assert raised == [httpx2.RemoteProtocolError, httpx2.RemoteProtocolError]


@pytest.mark.anyio
async def test_async_direct_reader_honours_the_read_timeout(sse_server: Server) -> None:
    timeout = httpx2.Timeout(10, read=0.2)
    async with (
        httpx2.AsyncClient(base_url=sse_server[1].url, timeout=timeout) as client,
        client.stream("GET", "/sse?first_delay=3") as response,
    ):
        read = async_direct_reader(response)
        assert read is not None
        with anyio.fail_after(5), pytest.raises(httpx2.ReadTimeout):
            await read()


@pytest.mark.anyio
async def test_an_async_stream_reads_httpx2s_body_flat_and_a_gzipped_one_generically(
    sse_server: Server,
) -> None:
    # Over httpx2's own transport the hot loop awaits the direct reader itself (rule 5).
    path = raw(sse_server[0], *EVENTS)
    async with httpx2.AsyncClient(base_url=sse_server[1].url) as client:
        async with client.stream("GET", path) as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert stream._flat is not None and stream._flat is stream._read_chunk
            async with stream:
                assert [item["i"] async for item in stream] == [0, 1]
        zipped = raw(sse_server[0], gzip.compress(b"".join(EVENTS)), headers=GZIP)
        async with client.stream("GET", zipped) as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert stream._flat is None  # a body to decode first: the generic reader
            async with stream:
                assert [item["i"] async for item in stream] == [0, 1]
    assert sse_server[0].wait_for_streams(0) == 0


@pytest.mark.anyio
async def test_async_generic_reader_for_a_wrapping_transport(sse_server: Server) -> None:
    class Counting(httpx2.AsyncByteStream):
        def __init__(self, inner: httpx2.AsyncByteStream) -> None:
            self.inner = inner
            self.chunks = 0

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.inner:
                self.chunks += 1
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    class AsyncWrapping(httpx2.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx2.AsyncHTTPTransport()
            self.streams: list[Counting] = []

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            response = await self.inner.handle_async_request(request)
            assert isinstance(response.stream, httpx2.AsyncByteStream)
            stream = Counting(response.stream)
            self.streams.append(stream)
            return httpx2.Response(response.status_code, headers=response.headers, stream=stream)

        async def aclose(self) -> None:
            await self.inner.aclose()

    path = raw(sse_server[0], *EVENTS)
    transport = AsyncWrapping()
    async with (
        httpx2.AsyncClient(base_url=sse_server[1].url, transport=transport) as client,
        client.stream("GET", path) as response,
    ):
        assert async_direct_reader(response) is None
        async with EventStreamAsync(response, loads, sentinel="[DONE]") as stream:
            assert stream._read_chunk is None  # the generic reader, made at the first read
            assert [item["i"] async for item in stream] == [0, 1]
    assert transport.streams[0].chunks == len(EVENTS)
    assert sse_server[0].wait_for_streams(0) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("stop_after", [1, None])
async def test_an_async_stream_over_a_plain_iterator_closes_cleanly(
    stop_after: int | None,
) -> None:
    response = httpx2.Response(200, stream=PlainIterStream(EVENTS))
    items = []
    async with EventStreamAsync(response, loads, sentinel="[DONE]") as stream:
        async for item in stream:
            items.append(item)
            if len(items) == stop_after:
                break
    assert stream.closed and response.is_closed
    assert [item["i"] for item in items] == [0, 1][: stop_after or 2]


@pytest.mark.usefixtures("body_reader")
def test_a_transport_error_names_its_request(sse_client: httpx2.Client) -> None:
    payload = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata"
    url, thread = serve_raw_once(payload)
    with (
        sse_client.stream("GET", url) as response,
        pytest.raises(IncompleteStreamError) as info,
        EventStream(response, loads) as stream,
    ):
        list(stream)
    thread.join(10)
    cause = info.value.__cause__
    assert isinstance(cause, httpx2.RemoteProtocolError)
    assert cause.request is response.request


@pytest.mark.anyio
@pytest.mark.usefixtures("body_reader")
async def test_an_async_transport_error_names_its_request() -> None:
    payload = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\ndata"
    url, thread = serve_raw_once(payload)
    async with httpx2.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as response:
            with pytest.raises(IncompleteStreamError) as info:
                async with EventStreamAsync(response, loads) as stream:
                    async for _ in stream:
                        pass
        thread.join(10)
    cause = info.value.__cause__
    assert isinstance(cause, httpx2.RemoteProtocolError)
    assert cause.request is response.request


# -- a transport with a reader of its own (levante's aiohttp transport) --------------------


# aiohttp runs on asyncio only (on trio the transport hands over to httpx2's own).
on_asyncio = pytest.mark.parametrize("anyio_backend", ["asyncio"])


@pytest.mark.anyio
@on_asyncio
@pytest.mark.parametrize("seed", [6, 7])
async def test_aiohttp_bodies_are_read_by_the_transports_reader(
    sse_server: Server, seed: int
) -> None:
    parts = random_parts(seed)
    path = raw(sse_server[0], *parts)
    transport = AiohttpTransport()
    async with httpx2.AsyncClient(transport=transport, base_url=sse_server[1].url) as client:
        async with client.stream("GET", path) as response:
            read = async_direct_reader(response)
            assert read is not None and read.__qualname__.startswith("AiohttpResponseStream.")
            assert response.is_stream_consumed  # a second reader gets StreamConsumed
            direct = await read_all_async(read)
        async with client.stream("GET", path) as response:
            generic = [chunk async for chunk in response.aiter_bytes()]
        assert b"".join(direct) == b"".join(generic) == b"".join(parts)
        assert transport.pool_stats() == (0, 1)  # both read to the end, one connection


@pytest.mark.anyio
@on_asyncio
async def test_aiohttp_bodies_to_decode_take_the_generic_reader(sse_server: Server) -> None:
    body = gzip.compress(b"".join(EVENTS))
    path = raw(sse_server[0], body, headers={"content-encoding": "gzip"})
    async with (
        httpx2.AsyncClient(transport=AiohttpTransport(), base_url=sse_server[1].url) as client,
        client.stream("GET", path) as response,
    ):
        assert async_direct_reader(response) is None
        stream = EventStreamAsync(response, loads, sentinel="[DONE]")
        assert [item["i"] async for item in stream] == [0, 1]
