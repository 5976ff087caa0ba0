"""Closing an async response: shielded cleanup, aborting a body, closing from a finalizer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Coroutine
from typing import Any

import anyio
import anyio.lowlevel
import httpx2

__all__ = ["abort_body", "schedule_aclose", "uncancellable"]

#: Chunks already buffered that closing an async body may skip before giving up on them.
#: One 64 KiB read of a chunked body can hold thousands of tiny chunks; skipping one costs
#: microseconds, and the loop stops at the first real read, which the cancellation ends.
_ABORT_MAX_CHUNKS = 8192


async def uncancellable(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run ``cleanup`` to completion even if the caller is cancelled, then re-raise that.

    An anyio shield holds off anyio and trio cancel scopes, but on asyncio a plain
    ``Task.cancel()`` (``asyncio.timeout``, ``wait_for``) still lands on the next await and
    would cut the release of the connection in half. So on asyncio the cleanup runs as its
    own task, which a cancellation of this one cannot interrupt.
    """
    if anyio.get_cancelled_exc_class() is not asyncio.CancelledError:
        await cleanup
        return
    task = asyncio.ensure_future(cleanup)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:  # noqa: PERF203 - a few turns at most
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    task.result()


async def abort_body(chunks: AsyncGenerator[bytes]) -> None:
    """Finish an unexhausted ``aiter_raw()`` / ``aiter_bytes()`` by cancelling its next read.

    ``aclose()`` alone throws GeneratorExit in at the outer ``yield``; httpx2's transport
    stream then abandons the httpcore2 generator it iterates, which trio reports as a
    ``ResourceWarning`` when it is garbage collected. A cancelled read instead unwinds every
    generator of the chain by exception, each running its own cleanup (which closes the
    connection). Chunks already buffered come first: skip a bounded number of them.
    """
    with anyio.CancelScope() as scope:
        scope.cancel()
        try:
            for _ in range(_ABORT_MAX_CHUNKS):
                await chunks.__anext__()
        except StopAsyncIteration:
            pass
        except (httpx2.HTTPError, OSError):
            pass  # the connection is being dropped: errors on the way out are expected
    await chunks.aclose()


async def _aclose_quietly(chunks: AsyncGenerator[bytes] | None, response: httpx2.Response) -> None:
    with anyio.CancelScope(shield=True):
        try:
            if chunks is not None:
                await abort_body(chunks)
            await response.aclose()
        except Exception:
            pass  # best effort from a finalizer: there is nobody left to tell


_FINALIZER_TASKS: set[Any] = set()


def _spawn_asyncio(loop: Any, chunks: AsyncGenerator[bytes] | None, resp: httpx2.Response) -> None:
    task = loop.create_task(_aclose_quietly(chunks, resp))
    # The loop keeps only a weak reference to tasks.
    _FINALIZER_TASKS.add(task)
    task.add_done_callback(_FINALIZER_TASKS.discard)


def _spawn_trio(chunks: AsyncGenerator[bytes] | None, resp: httpx2.Response) -> None:
    import trio

    trio.lowlevel.spawn_system_task(_aclose_quietly, chunks, resp)


def schedule_aclose(
    token: object, chunks: AsyncGenerator[bytes] | None, response: httpx2.Response
) -> None:
    """From a finalizer (any thread, no await): close the response on its event loop."""
    try:
        if hasattr(token, "call_soon_threadsafe"):
            token.call_soon_threadsafe(_spawn_asyncio, token, chunks, response)
        elif hasattr(token, "run_sync_soon"):
            token.run_sync_soon(_spawn_trio, chunks, response)
    except Exception:
        pass  # the loop is gone, and with it the pool
