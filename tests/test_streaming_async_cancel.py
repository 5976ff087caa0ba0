"""EventStreamAsync on asyncio and trio against a real uvicorn sse_server: every kind of
cancellation, cancellation during aclose, timeouts, and transports without a socket of
their own. Each must leave no connection behind, checked on the server (open streams,
connections) and in the client's pool.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest

from conftest import (
    Server,
    assert_dropped,
    assert_pooled,
    async_client,
    loads,
    wait_until_reading,
)
from levante._streaming import EventStreamAsync
from levante.errors import (
    APITimeoutError,
    IncompleteStreamError,
    StreamClosed,
    StreamTimeout,
)
from liveserver import pool_connections, serve_raw_once

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("body_reader")]


# -- cancellation -------------------------------------------------------------------------


async def consume_forever(stream: EventStreamAsync[Any]) -> None:
    async for _ in stream:
        pass


@pytest.mark.parametrize("how", ["task-group", "move_on_after", "fail_after"])
async def test_cancelling_the_consumer_releases_the_connection(
    sse_server: Server, how: str
) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=3&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            if how == "task-group":
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume_forever, stream)
                    await wait_until_reading(stream)
                    tg.cancel_scope.cancel()
            elif how == "move_on_after":
                with anyio.move_on_after(0.2) as scope:
                    await consume_forever(stream)
                assert scope.cancelled_caught
            else:
                with pytest.raises(TimeoutError), anyio.fail_after(0.2):
                    await consume_forever(stream)
            assert stream.closed
            assert pool_connections(client) == []
        assert_dropped(sse_server, client)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_timeout_and_task_cancel(sse_server: Server) -> None:
    import asyncio

    if sys.version_info < (3, 11):  # pragma: no cover - asyncio.timeout is 3.11+
        pytest.fail("needs Python 3.11")
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await consume_forever(stream)
            assert stream.closed and pool_connections(client) == []
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            task = asyncio.ensure_future(consume_forever(stream))
            await wait_until_reading(stream)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_cancel_scope(sse_server: Server) -> None:
    import trio

    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            with trio.move_on_after(0.2) as scope:
                await consume_forever(stream)
            assert scope.cancelled_caught
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


async def test_cancellation_landing_during_aclose(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            with anyio.CancelScope() as scope:
                scope.cancel()
                await stream.aclose()
                pytest.fail("aclose must re-raise the cancellation")  # pragma: no cover
            assert scope.cancelled_caught
            assert stream.closed and pool_connections(client) == []
            await stream.aclose()  # and is still safe to call again
        assert_dropped(sse_server, client)


async def test_aclose_cancelled_while_waiting_for_the_consumer(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            async with anyio.create_task_group() as tg:

                async def consume() -> None:
                    with pytest.raises(StreamClosed):
                        await stream.__anext__()

                tg.start_soon(consume)
                await wait_until_reading(stream)
                with anyio.CancelScope() as scope:
                    scope.cancel()
                    await stream.aclose()
                assert scope.cancelled_caught
            # The consumer released the connection even though aclose was cancelled.
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_timeout_expiring_inside_aclose(sse_server: Server) -> None:
    import asyncio

    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0):
                    await stream.aclose()
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


async def test_consumer_cancelled_and_closed_at_once(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume_forever, stream)
                await wait_until_reading(stream)
                tg.cancel_scope.cancel()
                await stream.aclose()
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


# -- timeouts -----------------------------------------------------------------------------


async def test_idle_timeout_is_not_reset_by_keepalives(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0&ping=0.05") as response:
            stream = EventStreamAsync(response, loads, idle_timeout=0.4)
            assert await stream.__anext__() == {"i": 0}
            start = time.monotonic()
            with pytest.raises(StreamTimeout, match="idle_timeout") as info:
                await stream.__anext__()
            assert 0.3 < time.monotonic() - start < 3
            assert info.value.events_delivered == 1
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


async def test_first_event_timeout(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&first_delay=30") as response:
            stream = EventStreamAsync(response, loads, first_event_timeout=0.2)
            with pytest.raises(StreamTimeout, match="first_event_timeout"):
                await stream.__anext__()
        assert_dropped(sse_server, client)


async def test_timeouts_do_not_fire_while_events_flow(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=4&delay=0.05") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]", idle_timeout=0.2)
            items = []
            async for item in stream:
                items.append(item)
                await anyio.sleep(0.3)  # the consumer's own time does not count
            assert len(items) == 4
        assert_pooled(sse_server, client)


async def test_httpx_read_timeout_becomes_api_timeout_error(sse_server: Server) -> None:
    async with async_client(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0", timeout=0.3) as response:
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            with pytest.raises(APITimeoutError) as info:
                await stream.__anext__()
            assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
            assert stream.closed
        assert_dropped(sse_server, client)


async def test_connection_lost_mid_body_becomes_incomplete_stream_error() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    url, thread = serve_raw_once(head + b"9\r\ndata: 1\n\n\r\n")
    async with httpx2.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        stream = EventStreamAsync(response, loads, sentinel="[DONE]")
        assert await stream.__anext__() == 1
        with pytest.raises(IncompleteStreamError) as info:
            await stream.__anext__()
        assert isinstance(info.value.__cause__, httpx2.RemoteProtocolError)
        assert info.value.events_delivered == 1
        assert stream.closed
        assert pool_connections(client) == []
    thread.join(5)


# -- transports without a socket of their own --------------------------------------------


class OneEventThenSilence(httpx2.AsyncByteStream):
    """A body that sends one event and then never ends, from an in-process transport."""

    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        await anyio.sleep_forever()

    async def aclose(self) -> None:
        self.closed = True


def silent_client(body: OneEventThenSilence) -> httpx2.AsyncClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=body, headers={"content-type": "text/event-stream"})

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler), base_url="http://test")


async def test_aclose_wakes_a_read_without_a_socket() -> None:
    body = OneEventThenSilence()
    async with silent_client(body) as client, client.stream("GET", "/") as response:
        stream = EventStreamAsync(response, loads)
        assert not stream._socket_wakes  # the cancel scope path
        assert await stream.__anext__() == 1
        outcome: list[BaseException] = []

        async def consume() -> None:
            try:
                await stream.__anext__()
            except StreamClosed as exc:
                outcome.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await wait_until_reading(stream)
                await stream.aclose()
        assert [type(exc) for exc in outcome] == [StreamClosed]
        assert stream.closed and body.closed


async def test_idle_timeout_without_a_socket() -> None:
    body = OneEventThenSilence()
    async with silent_client(body) as client, client.stream("GET", "/") as response:
        stream = EventStreamAsync(response, loads, idle_timeout=0.2)
        assert await stream.__anext__() == 1
        with anyio.fail_after(5), pytest.raises(StreamTimeout):
            await stream.__anext__()
        assert stream.closed and body.closed
