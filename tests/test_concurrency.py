"""300 concurrent chat streams from one default ``Mistral()`` against the dev server (and
150 threads streaming at once from its sync client).

A bounded concurrency check, not a benchmark: every stream must complete with its whole
reply, past httpx2's default cap of 100 connections, and afterwards no connection may be
left in use, on the client or on the server. The event-loop lag during the run (a task
asking to wake every 10 ms) is printed for the record (in the summary after the tests),
never asserted on: timings belong to benchmarks/bench_concurrency.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from levante import Mistral
from levante._transport import AiohttpTransport
from reliability_report import report

STREAMS = 300
TOKENS = 20
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def devserver() -> Iterator[str]:
    """The dev server in a process of its own (so its work does not show as our lag)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [sys.executable, "-m", "levante.cli", "serve", "--port", str(port)]
    cmd += ["--tokens-per-second", "40"]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                stats(url)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the dev server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(10)
        if server.stderr is not None:
            server.stderr.close()


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/_levante/stats", timeout=5) as response:
        counts: dict[str, int] = json.loads(response.read())
        return counts


class LagProbe:
    """How late a task asking to wake every 10 ms wakes, while the streams run."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.running = True

    async def run(self) -> None:
        while self.running:
            before = anyio.current_time()
            await anyio.sleep(0.01)
            self.lags.append(anyio.current_time() - before - 0.01)

    def summary(self) -> str:
        ordered = sorted(self.lags) or [0.0]
        p50 = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return f"lag p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {ordered[-1] * 1e3:.1f} ms"


@pytest.mark.anyio
async def test_300_concurrent_streams_all_complete_and_leave_the_pool_empty(
    devserver: str, anyio_backend: str
) -> None:
    before = stats(devserver)
    client = Mistral(api_key="k", server_url=devserver, retries=0)
    replies: list[str] = []
    probe = LagProbe()

    async def one() -> None:
        stream = client.chat.stream_async(
            model="levante-long", messages=[{"role": "user", "content": "hi"}], max_tokens=TOKENS
        )
        async with stream as events:
            parts = [event.data.choices[0].delta.content or "" async for event in events]
            assert (await events.final_response()).choices[0].finish_reason == "length"
        replies.append("".join(parts))

    started = time.monotonic()
    async with anyio.create_task_group() as outer:
        outer.start_soon(probe.run)
        async with anyio.create_task_group() as streams:
            for _ in range(STREAMS):
                streams.start_soon(one)
        probe.running = False
    wall = time.monotonic() - started

    assert len(replies) == STREAMS
    assert len(set(replies)) == 1 and replies[0]  # the same deterministic reply, whole
    http: Any = client._sender.async_client()  # the pool levante made
    assert isinstance(http._transport, AiohttpTransport)  # aiohttp, or httpx2's on trio
    in_use, idle = http._transport.pool_stats()
    assert in_use == 0 and 0 < idle <= STREAMS
    await client.aclose()
    assert wait_for_open(devserver, 0) == 0
    after = stats(devserver)
    assert after["completed"] - before["completed"] == STREAMS
    assert after["aborted"] == before["aborted"]
    # in the summary after the tests (a print here is lost in an xdist worker)
    report("concurrency", f"{STREAMS} streams on {anyio_backend}: {wall:.2f} s, {probe.summary()}")


def test_the_sync_pool_does_not_cap_threads_at_100(devserver: str) -> None:
    # 150 threads each hold a stream open at the same moment; httpx2's default pool of 100
    # connections would leave 50 of them waiting for a connection until the barrier breaks.
    threads_count = 150
    barrier = threading.Barrier(threads_count, timeout=30)
    failures: list[BaseException] = []
    slow = {"x-levante-tokens-per-second": "2"}  # the stream stays open for seconds

    with Mistral(api_key="k", server_url=devserver, retries=0) as client:

        def one() -> None:
            try:
                stream = client.chat.stream(
                    model="levante-long",
                    messages=[{"role": "user", "content": "hi"}],
                    max_tokens=20,
                    http_headers=slow,
                )
                with stream:
                    next(iter(stream))
                    barrier.wait()  # every thread has a stream open now
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=one) for _ in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not failures, failures[:3]
    # the server notices each hang-up at its next write (the streams were still pacing)
    assert wait_for_open(devserver, 0) == 0


def wait_for_open(url: str, expected: int, timeout: float = 20.0) -> int:
    """Poll the dev server until it holds ``expected`` open streams; the last count."""
    deadline = time.monotonic() + timeout
    while True:
        count = stats(url)["open"]
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.05)
