"""A bounded soak: hundreds of streams ended every possible way, then nothing is left open.

Each exit is chosen at random (with a fixed seed, so a failure replays): read to the end,
break, an exception in the loop body, an error event, a timeout, cancellation, close
from another thread or task, and dropping the stream for the garbage collector. Streams
run concurrently on one shared client. Afterwards the server must hold no open response
body, and every connection the client pool still holds must be idle.
"""

from __future__ import annotations

import gc
import random
import threading
import weakref
from typing import Any

import anyio
import httpx2
import pytest

import liveserver
from conftest import Server, loads, raw
from levante._streaming import EventStream, EventStreamAsync
from levante.errors import StreamAPIError, StreamClosed, StreamTimeout
from liveserver import pool_connections

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = pytest.mark.usefixtures("body_reader")

SYNC_EXITS = ["complete", "break", "exception", "error", "timeout", "close-thread", "drop"]
ASYNC_EXITS = ["complete", "break", "exception", "error", "timeout", "cancel", "aclose", "drop"]


class Boom(Exception):
    pass


ERROR_BODY = b'data: {"i": 0}\n\ndata: {"error": {"message": "overloaded"}}\n\n'


def path_for(exit_by: str, rng: random.Random, error_path: str) -> str:
    if exit_by == "complete":
        return f"/sse?n={rng.randint(0, 40)}&per_write={rng.choice([1, 3, 64])}"
    if exit_by == "error":
        return error_path
    return f"/sse?n={rng.randint(1, 5)}&hang=1&done=0"


def assert_nothing_left(sse_server: Server, client: Any) -> None:
    app, srv = sse_server
    assert app.wait_for_streams(0, timeout=10) == 0
    conns = pool_connections(client)
    assert all(conn.is_idle() for conn in conns), conns
    assert srv.wait_for_connections(len(conns), timeout=10) == len(conns)


def run_sync(client: httpx2.Client, exit_by: str, rng: random.Random, error_path: str) -> None:
    path = path_for(exit_by, rng, error_path)
    with client.stream("GET", path) as response:
        if exit_by == "drop":
            stream = EventStream(response, loads)
            next(stream)
            # No reference cycle holds a stream: dropping it releases at once, with no
            # collection (one per drop would cost seconds on the full suite's heap). The
            # captured ResourceWarning keeps the object itself alive, released.
            ref = weakref.ref(stream)
            del stream
            assert getattr(ref(), "closed", True)
            return
        timeout = 0.05 if exit_by == "timeout" else None
        try:
            with EventStream(response, loads, sentinel="[DONE]", idle_timeout=timeout) as stream:
                if exit_by == "close-thread":
                    closer = threading.Timer(rng.uniform(0.001, 0.02), stream.close)
                    closer.start()
                for _ in stream:
                    if exit_by == "break":
                        break
                    if exit_by == "exception":
                        raise Boom
        except (Boom, StreamAPIError, StreamClosed, StreamTimeout) as exc:
            expected = {
                "exception": Boom,
                "error": StreamAPIError,
                "close-thread": StreamClosed,
                "timeout": StreamTimeout,
            }
            assert isinstance(exc, expected[exit_by])
        finally:
            if exit_by == "close-thread":
                closer.join(5)
        assert stream.closed


@pytest.mark.timeout(60)
def test_sync_soak(sse_server: Server) -> None:
    rng = random.Random(20261125)
    error_path = raw(sse_server[0], ERROR_BODY)
    plans = [[rng.choice(SYNC_EXITS) for _ in range(40)] for _ in range(4)]
    errors: list[BaseException] = []

    def worker(plan: list[str], seed: int) -> None:
        local = random.Random(seed)
        try:
            for exit_by in plan:
                run_sync(client, exit_by, local, error_path)
        except BaseException as exc:
            errors.append(exc)

    with httpx2.Client(base_url=sse_server[1].url, timeout=10) as client:
        # Dropped streams warn from whichever thread collects them.
        with pytest.warns(ResourceWarning, match="unclosed <EventStream"):
            threads = [
                threading.Thread(target=worker, args=(plan, seed))
                for seed, plan in enumerate(plans)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(50)
            gc.collect()
        assert not errors, errors
        assert sum(len(plan) for plan in plans) == 160
        assert_nothing_left(sse_server, client)
    assert sse_server[1].wait_for_connections(0) == 0


async def run_async(
    client: httpx2.AsyncClient, exit_by: str, rng: random.Random, error_path: str
) -> None:
    path = path_for(exit_by, rng, error_path)
    async with client.stream("GET", path) as response:
        if exit_by == "drop":
            stream = EventStreamAsync(response, loads)
            await stream.__anext__()
            ref = weakref.ref(stream)  # see run_sync
            del stream
            assert getattr(ref(), "closed", True)
            return
        timeout = 0.05 if exit_by == "timeout" else None
        stream = EventStreamAsync(response, loads, sentinel="[DONE]", idle_timeout=timeout)
        caught: list[BaseException] = []

        async def consume() -> None:
            limit = rng.uniform(0.001, 0.02) if exit_by == "cancel" else 30
            try:
                with anyio.move_on_after(limit):
                    async with stream:
                        async for _ in stream:
                            if exit_by == "break":
                                break
                            if exit_by == "exception":
                                raise Boom
            except (Boom, StreamAPIError, StreamClosed, StreamTimeout) as exc:
                caught.append(exc)

        async def close_soon() -> None:
            await anyio.sleep(rng.uniform(0.001, 0.02))
            await stream.aclose()

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            if exit_by == "aclose":
                tg.start_soon(close_soon)
        expected = {
            "exception": Boom,
            "error": StreamAPIError,
            "aclose": StreamClosed,
            "timeout": StreamTimeout,
        }
        if exit_by in expected:
            assert [type(exc) for exc in caught] == [expected[exit_by]]
        else:
            assert caught == []
        assert stream.closed


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_async_soak(sse_server: Server) -> None:
    rng = random.Random(1125)
    error_path = raw(sse_server[0], ERROR_BODY)
    plans = [[rng.choice(ASYNC_EXITS) for _ in range(20)] for _ in range(8)]

    async def worker(plan: list[str], seed: int) -> None:
        local = random.Random(seed)
        for exit_by in plan:
            await run_async(client, exit_by, local, error_path)

    transport = liveserver.async_transport()
    async with httpx2.AsyncClient(
        base_url=sse_server[1].url, timeout=10, transport=transport
    ) as client:
        with pytest.warns(ResourceWarning, match="unclosed <EventStreamAsync"):
            with anyio.fail_after(50):
                async with anyio.create_task_group() as tg:
                    for seed, plan in enumerate(plans):
                        tg.start_soon(worker, plan, seed)
            gc.collect()
        # Finalizers of dropped streams run on the event loop: give them a moment.
        with anyio.fail_after(10):
            while any(not conn.is_idle() for conn in pool_connections(client)):  # noqa: ASYNC110
                await anyio.sleep(0.01)
        assert sum(len(plan) for plan in plans) == 160
        assert_nothing_left(sse_server, client)
    assert sse_server[1].wait_for_connections(0) == 0
