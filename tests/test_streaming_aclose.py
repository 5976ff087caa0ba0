"""levante._streaming._aclose: cleanup that a cancellation cannot cut, aborting a body, and
closing a response from a finalizer, on asyncio and trio."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator

import anyio
import anyio.lowlevel
import httpx2
import pytest

from levante._streaming._aclose import abort_body, schedule_aclose, uncancellable

pytestmark = pytest.mark.anyio


# Task.cancel() is asyncio's own; trio has only cancel scopes (the next test).
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_cleanup_outlives_a_task_cancel_on_asyncio() -> None:
    steps: list[str] = []
    release = asyncio.Event()

    async def cleanup() -> None:
        steps.append("start")
        await release.wait()  # a cancellation landing here must not cut the cleanup
        steps.append("end")

    task = asyncio.ensure_future(uncancellable(cleanup()))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    assert steps == ["start"] and not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["start", "end"]  # finished, then the cancellation was re-raised


async def test_cleanup_in_a_shield_outlives_a_cancelled_scope() -> None:
    steps: list[str] = []

    async def cleanup() -> None:
        await anyio.sleep(0.02)
        steps.append("done")

    with anyio.CancelScope() as scope:
        scope.cancel()
        with anyio.CancelScope(shield=True):
            await uncancellable(cleanup())
        steps.append("not reached")  # the outer cancellation lands at the next checkpoint
        await anyio.lowlevel.checkpoint()
    assert steps == ["done", "not reached"]


async def test_abort_body_unwinds_a_body_blocked_on_its_next_read() -> None:
    unwound: list[str] = []

    async def body() -> AsyncGenerator[bytes]:
        try:
            for chunk in (b"a", b"b", b"c"):  # already buffered
                yield chunk
            await anyio.sleep(3600)  # the next real read
            yield b"never"
        finally:
            unwound.append("closed")

    chunks = body()
    assert await chunks.__anext__() == b"a"
    with anyio.fail_after(5):
        await abort_body(chunks)
    assert unwound == ["closed"]
    with pytest.raises(StopAsyncIteration):
        await chunks.__anext__()


async def test_abort_body_of_a_finished_body() -> None:
    async def body() -> AsyncGenerator[bytes]:
        yield b"only"

    chunks = body()
    assert [chunk async for chunk in chunks] == [b"only"]
    await abort_body(chunks)  # nothing left: nothing to do


class Recorded(httpx2.AsyncByteStream):
    def __init__(self) -> None:
        self.closed = anyio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b""

    async def aclose(self) -> None:
        self.closed.set()


async def test_a_finalizer_schedules_the_close_on_the_event_loop() -> None:
    stream = Recorded()
    response = httpx2.Response(200, stream=stream)
    token = anyio.lowlevel.current_token().native_token
    # Finalizers run on whatever thread collects: this one is not the loop's.
    finalizer = threading.Thread(target=schedule_aclose, args=(token, None, response))
    finalizer.start()
    finalizer.join(5)
    with anyio.fail_after(5):
        await stream.closed.wait()
    assert response.is_closed


def test_a_finalizer_without_a_loop_does_nothing() -> None:
    response = httpx2.Response(200, stream=Recorded())
    schedule_aclose(None, None, response)  # no loop known: the pool goes with its loop
    schedule_aclose(object(), None, response)
    assert not response.is_closed
