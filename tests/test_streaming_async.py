"""EventStreamAsync on asyncio and trio against a real uvicorn server.

Lifecycle first: every way a consumer can stop (end, break, error, aclose from another
task, each kind of cancellation, cancellation during aclose, garbage collection) must
leave no connection behind, checked on the server (open streams, connections) and in the
client's pool. Then the guards, timeouts, drain and fairness.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest

import liveserver
from conftest import Server, assert_dropped, assert_pooled, loads, raw
from levante._streaming import DRAIN_MAX_BYTES, DRAIN_TIMEOUT, EventStreamAsync
from levante.errors import (
    APITimeoutError,
    IncompleteStreamError,
    StreamAPIError,
    StreamClosed,
    StreamDecodeError,
    StreamEventTooLarge,
    StreamTimeout,
)
from levante.sse import ServerSentEvent
from liveserver import pool_connections, serve_raw_once

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("body_reader")]


@asynccontextmanager
async def connect(sse_server: Server, **kwargs: Any) -> AsyncIterator[httpx2.AsyncClient]:
    # Every test starts from a quiet server, so counts below are this test's own.
    assert sse_server[1].wait_for_connections(0) == 0
    transport = liveserver.async_transport()
    async with httpx2.AsyncClient(
        base_url=sse_server[1].url, timeout=10, transport=transport, **kwargs
    ) as client:
        yield client


async def wait_until_reading(stream: EventStreamAsync[Any]) -> None:
    with anyio.fail_after(5):
        while not stream._reading:  # noqa: ASYNC110 - polling private state on purpose
            await anyio.sleep(0.005)


# -- the normal path ----------------------------------------------------------------------


async def test_the_stream_owns_the_body_once_it_reads(sse_server: Server) -> None:
    # levante reads the transport's stream directly; a second reader must still be refused
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=3") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert await stream.__anext__() == {"i": 0}
            with pytest.raises(httpx2.StreamConsumed):
                await response.aiter_bytes().__anext__()
            assert [item["i"] async for item in stream] == [1, 2]
        assert_pooled(sse_server, client)


@pytest.mark.parametrize("per_write", [1, 64])
async def test_yields_decoded_events_then_returns_the_connection(
    sse_server: Server, per_write: int
) -> None:
    async with connect(sse_server) as client:
        seen = []
        for _ in range(2):
            async with client.stream("GET", f"/sse?n=100&per_write={per_write}") as response:
                stream = EventStreamAsync(response, loads, sentinel="[DONE]")
                assert [item["i"] async for item in stream] == list(range(100))
                assert stream.closed
                assert stream.stats.events == 100
                with pytest.raises(StopAsyncIteration):
                    await stream.__anext__()
                seen.append(sse_server[1].connection_ids())
        assert_pooled(sse_server, client)
        assert seen[0] == seen[1]  # one connection served both


async def test_terminal_event_ends_the_stream_and_keeps_the_connection(sse_server: Server) -> None:
    path = raw(sse_server[0], b"event: a\ndata: 1\n\nevent: done\ndata: 2\n\nevent: a\ndata: 3\n\n")
    async with connect(sse_server) as client:
        async with client.stream("GET", path) as response:
            stream = EventStreamAsync(response, loads, terminal_events=["done"])
            assert [item async for item in stream] == [1, 2]
        assert_pooled(sse_server, client)


async def test_an_already_read_response_is_replayed(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        response = await client.get("/sse?n=3")
        stream = EventStreamAsync(response, loads, sentinel="[DONE]")
        assert [item["i"] async for item in stream] == [0, 1, 2]
        assert stream.closed
        assert_pooled(sse_server, client)


async def test_subclass_can_add_helpers(sse_server: Server) -> None:
    class Numbers(EventStreamAsync[dict[str, int]]):
        async def total(self) -> int:
            return sum([item["i"] async for item in self])

    async with connect(sse_server) as client:
        async with (
            client.stream("GET", "/sse?n=5") as response,
            Numbers(response, loads, sentinel="[DONE]") as numbers,
        ):
            assert await numbers.total() == 10
        assert_pooled(sse_server, client)


async def test_sync_response_is_rejected(sse_server: Server) -> None:
    with (
        httpx2.Client(base_url=sse_server[1].url) as client,
        client.stream("GET", "/sse") as response,
        pytest.raises(TypeError, match="EventStream for a sync"),
    ):
        EventStreamAsync(response, loads)


# -- guards release the connection --------------------------------------------------------


async def test_missing_sentinel_raises_incomplete(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=2&done=0") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            with pytest.raises(IncompleteStreamError) as info:
                async for _ in stream:
                    pass
            assert info.value.events_delivered == 2
        assert_pooled(sse_server, client)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'data: 1\n\nevent: error\ndata: {"message": "x"}\n\ndata: 2\n\n', StreamAPIError),
        (b'data: 1\n\ndata: {"object": "error", "message": "x"}\n\n', StreamAPIError),
        (b"data: 1\n\ndata: nope\n\n", StreamDecodeError),
        (b"data: 1\n\ndata: " + b"9" * 300 + b"\n\n", StreamEventTooLarge),
    ],
)
async def test_errors_release_the_connection(
    sse_server: Server, body: bytes, error: type[Exception]
) -> None:
    # The body stays open after the bad event: only the stream can end it.
    path = raw(sse_server[0], body, b": more\n\n", *[b": wait\n\n"] * 3)
    async with connect(sse_server) as client, client.stream("GET", path) as response:
        stream = EventStreamAsync(response, loads, max_event_size=200)
        assert await stream.__anext__() == 1
        with pytest.raises(error) as info:
            await stream.__anext__()
        assert info.value.events_delivered == 1  # type: ignore[attr-defined]
        assert stream.closed
        # Whatever of the body was already buffered may be skipped to its end, so the
        # connection is either back in the pool, idle, or closed: never still busy.
        assert all(conn.is_idle() for conn in pool_connections(client))
        assert sse_server[0].wait_for_streams(0) == 0
        assert sse_server[1].wait_for_connections(len(pool_connections(client))) == len(
            pool_connections(client)
        )


# -- aclose and the async context manager -------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.parametrize("exit_by", ["break", "exception", "normal-unfinished"])
async def test_async_with_exit_releases_the_connection(sse_server: Server, exit_by: str) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            try:
                async with EventStreamAsync(response, loads, sentinel="[DONE]") as stream:
                    async for _item in stream:
                        if exit_by == "exception":
                            raise Boom
                        break
            except Boom:
                pass
            assert stream.closed
            assert pool_connections(client) == []
        assert_dropped(sse_server, client)


async def test_aclose_before_iterating_and_twice(sse_server: Server) -> None:
    async with connect(sse_server) as client, client.stream("GET", "/sse?hang=1") as response:
        stream = EventStreamAsync(response, loads)
        await stream.aclose()
        await stream.aclose()
        assert stream.closed
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        assert_dropped(sse_server, client)


async def test_aclose_from_another_task_wakes_the_consumer(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert await stream.__anext__() == {"i": 0}
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
                    # aclose waited for the consumer: nothing is held any more.
                    assert pool_connections(client) == []
                    assert stream.closed
            assert [type(exc) for exc in outcome] == [StreamClosed]
            assert outcome[0].events_delivered == 1  # type: ignore[attr-defined]
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
        assert_dropped(sse_server, client)


async def test_aclose_while_the_consumer_yields_for_fairness(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=2000&per_write=2000&hang=1") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            got: list[Any] = []

            async def consume() -> None:
                with pytest.raises(StreamClosed):
                    async for item in stream:
                        got.append(item)  # noqa: PERF401 - the other task watches got

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                    while not got:
                        await anyio.lowlevel.checkpoint()
                    await stream.aclose()
            assert 0 < len(got) < 2000
        assert_dropped(sse_server, client)


# -- cancellation -------------------------------------------------------------------------


async def consume_forever(stream: EventStreamAsync[Any]) -> None:
    async for _ in stream:
        pass


@pytest.mark.parametrize("how", ["task-group", "move_on_after", "fail_after"])
async def test_cancelling_the_consumer_releases_the_connection(
    sse_server: Server, how: str
) -> None:
    async with connect(sse_server) as client:
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
    async with connect(sse_server) as client:
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

    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            with trio.move_on_after(0.2) as scope:
                await consume_forever(stream)
            assert scope.cancelled_caught
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


async def test_cancellation_landing_during_aclose(sse_server: Server) -> None:
    async with connect(sse_server) as client:
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
    async with connect(sse_server) as client:
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

    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0):
                    await stream.aclose()
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


async def test_consumer_cancelled_and_closed_at_once(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume_forever, stream)
                await wait_until_reading(stream)
                tg.cancel_scope.cancel()
                await stream.aclose()
            assert stream.closed and pool_connections(client) == []
        assert_dropped(sse_server, client)


# -- garbage collection -------------------------------------------------------------------


async def test_dropped_stream_warns_and_releases_on_its_event_loop(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=2&hang=1&done=0") as response:
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            with pytest.warns(ResourceWarning, match="unclosed <EventStreamAsync"):
                del stream
                gc.collect()
            with anyio.fail_after(5):
                while not response.is_closed or pool_connections(client):  # noqa: ASYNC110
                    await anyio.sleep(0.01)
        assert_dropped(sse_server, client)


async def test_exhausted_stream_does_not_warn_when_dropped(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=2") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert len([item async for item in stream]) == 2
            del stream
            gc.collect()
        assert_pooled(sse_server, client)


# -- timeouts -----------------------------------------------------------------------------


async def test_idle_timeout_is_not_reset_by_keepalives(sse_server: Server) -> None:
    async with connect(sse_server) as client:
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
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=1&first_delay=30") as response:
            stream = EventStreamAsync(response, loads, first_event_timeout=0.2)
            with pytest.raises(StreamTimeout, match="first_event_timeout"):
                await stream.__anext__()
        assert_dropped(sse_server, client)


async def test_timeouts_do_not_fire_while_events_flow(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=4&delay=0.05") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]", idle_timeout=0.2)
            items = []
            async for item in stream:
                items.append(item)
                await anyio.sleep(0.3)  # the consumer's own time does not count
            assert len(items) == 4
        assert_pooled(sse_server, client)


async def test_httpx_read_timeout_becomes_api_timeout_error(sse_server: Server) -> None:
    async with connect(sse_server) as client:
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


# -- drain after the sentinel -------------------------------------------------------------


async def test_small_tail_is_drained_and_the_connection_reused(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=2&tail=4000") as response:
            assert (
                len([item async for item in EventStreamAsync(response, loads, sentinel="[DONE]")])
                == 2
            )
        assert_pooled(sse_server, client)


async def test_large_tail_drops_the_connection(sse_server: Server, body_reader: str) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", f"/sse?n=2&tail={DRAIN_MAX_BYTES * 3}") as response:
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert len([item async for item in stream]) == 2
            assert stream.stats.bytes < DRAIN_MAX_BYTES * 3
        if body_reader != "aiohttp":
            assert_dropped(sse_server, client)
            return
        # aiohttp buffers ahead of the reader: when the whole tail had arrived, the
        # connection is clean and goes back to the pool; else it is dropped. Never busy.
        assert all(conn.is_idle() for conn in pool_connections(client))
        assert sse_server[0].wait_for_streams(0) == 0
        pooled = len(pool_connections(client))
        assert sse_server[1].wait_for_connections(pooled) == pooled


async def test_body_left_open_after_sentinel_is_dropped_in_time(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=2&hang=1") as response:
            start = time.monotonic()
            stream = EventStreamAsync(response, loads, sentinel="[DONE]")
            assert len([item async for item in stream]) == 2
            assert time.monotonic() - start < DRAIN_TIMEOUT + 1
        assert_dropped(sse_server, client)


# -- fairness -----------------------------------------------------------------------------


def slow_decode(event: ServerSentEvent) -> str:
    # A fixed wall-clock cost per event, like a heavy model validation: 4,000 events
    # take 0.2 s, far above the bound below unless the stream yields in between.
    end = time.perf_counter() + 50e-6
    while time.perf_counter() < end:
        pass
    return event.data


async def test_a_large_backlog_does_not_starve_other_tasks(sse_server: Server) -> None:
    async with connect(sse_server) as client:
        async with client.stream("GET", "/sse?n=4000&per_write=4000") as response:
            # Let the whole body land in the socket buffer: reads now return thousands
            # of events at once.
            await anyio.sleep(0.3)
            stream = EventStreamAsync(response, slow_decode, sentinel="[DONE]")
            worst = 0.0
            ticks = 0
            done = False

            async def ticker() -> None:
                nonlocal worst, ticks
                last = time.perf_counter()
                while not done:
                    await anyio.lowlevel.checkpoint()
                    now = time.perf_counter()
                    worst = max(worst, now - last)
                    ticks += 1
                    last = now

            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(ticker)
                    count = 0
                    async for _ in stream:
                        count += 1
                    done = True
            assert count == 4000
            assert ticks >= 4000 // 32
            assert worst < 0.05, f"the ticker waited {worst * 1000:.1f} ms"
        assert_pooled(sse_server, client)


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
