"""The fault soak: over a thousand streams against the dev server, every fault, every exit.

Sync threads, asyncio tasks (over httpx2's transport and levante's aiohttp one) and trio
tasks run at the same time against one dev server in its own process. Each stream gets a
random fault from the server (``X-Levante-Fault``: disconnects, in-stream errors,
malformed events, stalls against ``first_event_timeout`` / ``idle_timeout``, no end
marker, byte-per-write bodies, error statuses with and without retries) and leaves by a
random exit (to the end, break, an exception, close from another thread or task,
cancellation, or dropped unclosed). Every outcome must be one the fault or the exit
documents (``soak.allowed``); at the end the server holds no open stream and no client
holds a connection checked out. The seed is fixed, so a failure replays.
"""

from __future__ import annotations

import gc
import random
import threading
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx2
import pytest
from devproc import dev_server_process, wait_for_open_streams
from soak import ASYNC_EXITS, SYNC_EXITS, Boom, Plan, Tally, make_plans, outcome_of

from levante import Mistral
from levante._transport import AiohttpTransport
from liveserver import pool_connections
from reliability_report import report

SEED = 20251202
SYNC_WORKERS, SYNC_EACH = 4, 110
ASYNC_TASKS, ASYNC_EACH = 8, 25  # per client: two clients on asyncio, one on trio


class Leaks:
    """Streams that were not released: kept by weak reference, counted at the end."""

    def __init__(self) -> None:
        self.refs: list[weakref.ref[Any]] = []
        self.lock = threading.Lock()

    def watch(self, stream: Any) -> None:
        with self.lock:
            self.refs.append(weakref.ref(stream))

    def count(self) -> int:
        gc.collect()
        return sum(1 for ref in self.refs if (s := ref()) is not None and not s.closed)


# -- sync ---------------------------------------------------------------------------------


def run_sync(client: Mistral, plan: Plan, leaks: Leaks) -> BaseException | None:
    stream = None
    try:
        stream = client.chat.stream(**plan.kwargs())
        leaks.watch(stream)
        if plan.exit == "drop":
            for _ in stream:
                break
            return None
        closer = threading.Timer(plan.delay, stream.close) if plan.exit == "close" else None
        if closer is not None:
            closer.start()
        try:
            with stream:
                for _ in stream:
                    if plan.exit == "break":
                        break
                    if plan.exit == "exception":
                        raise Boom
        finally:
            if closer is not None:
                closer.join(10)
        return None
    except Exception as exc:
        return exc
    finally:
        del stream  # a dropped stream is released here, by reference counting


def sync_group(url: str, rng: random.Random, tally: Tally, leaks: Leaks) -> list[str]:
    http = httpx2.Client(timeout=10)
    problems: list[str] = []
    plans = [make_plans(rng, SYNC_EACH, SYNC_EXITS, i * SYNC_EACH) for i in range(SYNC_WORKERS)]

    def worker(mine: list[Plan]) -> None:
        for plan in mine:
            exc = run_sync(client, plan, leaks)
            tally.record(plan, outcome_of(exc), exc)

    with Mistral(server_url=url, client=http) as client:
        threads = [threading.Thread(target=worker, args=(mine,)) for mine in plans]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        busy = [c for c in pool_connections(http) if not c.is_idle()]
        if busy:
            problems.append(f"sync: {len(busy)} connections checked out")
    http.close()
    return problems


# -- async --------------------------------------------------------------------------------


async def run_async(client: Mistral, plan: Plan, leaks: Leaks) -> str:
    caught: list[BaseException] = []
    stream = None
    with anyio.CancelScope() as scope:
        if plan.exit == "cancel":
            scope.deadline = anyio.current_time() + plan.delay
        try:
            stream = await client.chat.stream_async(**plan.kwargs())
        except Exception as exc:
            return outcome_of(exc)
        leaks.watch(stream)
        async with anyio.create_task_group() as tg:
            # the task group sees no exception (it would wrap it in a group): consume
            # keeps what it caught
            tg.start_soon(_consume, stream, plan, caught)
            if plan.exit == "close":
                tg.start_soon(_close_later, stream, plan.delay)
        del stream  # a dropped stream is released here (its finalizer schedules aclose)
    if scope.cancelled_caught and not caught:
        return "cancelled"
    return outcome_of(caught[0] if caught else None)


async def _consume(stream: Any, plan: Plan, caught: list[BaseException]) -> None:
    try:
        if plan.exit == "drop":
            async for _ in stream:
                break
            return
        async with stream:
            async for _ in stream:
                if plan.exit == "break":
                    break
                if plan.exit == "exception":
                    raise Boom
    except Exception as exc:
        caught.append(exc)


async def _close_later(stream: Any, delay: float) -> None:
    await anyio.sleep(delay)
    await stream.aclose()


async def async_group(
    url: str, rng: random.Random, tally: Tally, leaks: Leaks, transports: list[str]
) -> list[str]:
    problems: list[str] = []
    start = 10_000 * (1 + len(transports))
    for kind in transports:
        transport = AiohttpTransport() if kind == "aiohttp" else None
        http = httpx2.AsyncClient(timeout=10, transport=transport)
        async with Mistral(server_url=url, async_client=http) as client:

            async def worker(mine: list[Plan]) -> None:
                for plan in mine:
                    outcome = await run_async(client, plan, leaks)
                    tally.record(plan, outcome)

            with anyio.fail_after(120):
                async with anyio.create_task_group() as tg:
                    for _ in range(ASYNC_TASKS):
                        tg.start_soon(worker, make_plans(rng, ASYNC_EACH, ASYNC_EXITS, start))
                        start += ASYNC_EACH
                # dropped streams are closed by tasks their finalizers scheduled: let them run
                gc.collect()
                busy = -1
                with anyio.move_on_after(10):
                    while busy := _checked_out(http, transport):  # noqa: ASYNC110
                        await anyio.sleep(0.02)
            if busy:
                problems.append(f"{kind} on {anyio_backend_name()}: {busy} checked out")
        await http.aclose()
    return problems


def _run_async(backend: str, *args: Any) -> list[str]:
    return anyio.run(async_group, *args, backend=backend)  # type: ignore[no-any-return]


def anyio_backend_name() -> str:
    import sniffio

    return sniffio.current_async_library()


def _checked_out(http: httpx2.AsyncClient, transport: AiohttpTransport | None) -> int:
    if transport is not None:
        return transport.pool_stats().in_use
    return sum(1 for conn in pool_connections(http) if not conn.is_idle())


# -- the soak -----------------------------------------------------------------------------


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep what the session allocated before the soak out of its garbage collections.

    A full collection stops every thread. Over the heap of a session that has imported
    the whole suite, with three other busy processes on two cores, they took 0.4-0.5 s
    (a session that has run half the suite holds more); one that long at the wrong moment
    can let a read take the server's data before the watchdog thread fires, and a stall
    looks shorter than the timeout it outlasts. Frozen objects are not scanned; the
    streams the soak creates are collected as before.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.timeout(240)
def test_fault_soak() -> None:
    tally, leaks = Tally(), Leaks()
    problems: list[str] = []
    failures: list[BaseException] = []

    def guarded(target: Any, *args: Any) -> None:
        try:
            problems.extend(target(*args))
        except BaseException as exc:
            failures.append(exc)

    with (
        frozen_heap(),
        dev_server_process() as url,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        groups = [
            (sync_group, url, random.Random(SEED), tally, leaks),
            (_run_async, "asyncio", url, random.Random(SEED + 1), tally, leaks,
             ["httpx2", "aiohttp"]),
            (_run_async, "trio", url, random.Random(SEED + 2), tally, leaks, ["httpx2"]),
        ]  # fmt: skip
        threads = [threading.Thread(target=guarded, args=group) for group in groups]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(200)
        open_streams = wait_for_open_streams(url, 0)
        leaked_streams = leaks.count()
    assert not failures, failures
    leaked = open_streams + leaked_streams + len(problems)
    line = f"streams {tally.streams}, leaked {leaked}, unexpected {len(tally.unexpected)}"
    report("fault soak", line, dict(sorted(tally.outcomes.items())))
    print(line)
    odd = [w for w in caught if not str(w.message).startswith("unclosed <")]
    assert not odd, [str(w.message) for w in odd[:5]]
    assert tally.streams >= 1000
    assert not tally.unexpected, [
        (p.fault, p.exit, o, repr(e)) for p, o, e in tally.unexpected[:10]
    ]
    assert (open_streams, leaked_streams, problems) == (0, 0, [])
