"""The client side of bench_concurrency: one client library, C concurrent streams, measured.

Run as its own process by bench_concurrency.py (a fresh interpreter per measurement):

    python benchmarks/_conc_client.py CLIENT LOOP URL CONCURRENCY EVENTS INTERVAL DEADLINE

Every SDK runs with its defaults (retries included: levante and openai retry a failed
connection, as they would for a user). It builds the client, warms it up with one short
stream, then opens CONCURRENCY streams at once and reads each to its end, touching every
chunk's content as an application would.
It prints one JSON object: wall time, process CPU time, completed / failed / unfinished
streams (failures by exception type), event-loop lag (a 10 ms ticker) and the RSS growth
while the streams were open.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "Tell me a long story."}]
BODY = json.dumps({"model": MODEL, "messages": MESSAGES, "stream": True}).encode()
#: The server answers a request with this header with two chunks at once.
WARM = {"x-bench-warm": "1"}

#: Opens one stream with the given extra headers, reads it to the end, returns its chunks.
StreamOne = Callable[[dict[str, str] | None], Awaitable[int]]
Client = tuple[StreamOne, Callable[[], Awaitable[None]]]


# -- the clients ---------------------------------------------------------------------------


async def levante_default(url: str) -> Client:
    from levante import Mistral

    return _levante_runner(Mistral(api_key="k", server_url=url))


def _levante_runner(client: Any) -> Client:
    async def one(headers: dict[str, str] | None) -> int:
        n = 0
        stream = client.chat.stream_async(model=MODEL, messages=MESSAGES, http_headers=headers)
        async with stream as events:
            async for event in events:
                _content = event.data.choices[0].delta.content
                n += 1
        return n

    return one, client.aclose


def _count_events(chunk: bytes, previous_newline: bool) -> int:
    # Events end in a blank line; one may straddle two reads.
    return chunk.count(b"\n\n") + (previous_newline and chunk[:1] == b"\n")


async def raw_aiohttp(url: str) -> Client:
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300),
    )
    target = url + "/v1/chat/completions"
    base = {"content-type": "application/json", "accept": "text/event-stream"}

    async def one(headers: dict[str, str] | None) -> int:
        n = 0
        newline = False
        async with session.post(target, data=BODY, headers={**base, **(headers or {})}) as resp:
            readany = resp.content.readany
            while chunk := await readany():
                n += _count_events(chunk, newline)
                newline = chunk[-1:] == b"\n"
        return n - 1  # the [DONE] event

    return one, session.close


async def raw_httpx2(url: str) -> Client:
    import httpx2

    client = httpx2.AsyncClient(
        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=100),
        timeout=httpx2.Timeout(300.0, connect=10.0),
    )
    target = url + "/v1/chat/completions"
    base = {"content-type": "application/json", "accept": "text/event-stream"}

    async def one(headers: dict[str, str] | None) -> int:
        n = 0
        newline = False
        hdrs = {**base, **(headers or {})}
        async with client.stream("POST", target, content=BODY, headers=hdrs) as resp:
            async for chunk in resp.aiter_raw():
                n += _count_events(chunk, newline)
                newline = chunk[-1:] == b"\n"
        return n - 1

    return one, client.aclose


def _openai(url: str, http_client: Any) -> Client:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key="k", base_url=url + "/v1", http_client=http_client)

    async def one(headers: dict[str, str] | None) -> int:
        n = 0
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            extra_headers=headers,
        )
        async with stream:
            async for chunk in stream:
                _content = chunk.choices[0].delta.content
                n += 1
        return n

    return one, client.close


async def openai_default(url: str) -> Client:
    return _openai(url, None)


async def openai_aiohttp(url: str) -> Client:
    from openai import DefaultAioHttpClient

    return _openai(url, DefaultAioHttpClient())


async def mistralai(url: str) -> Client:
    from mistralai.client import Mistral as OfficialMistral

    client = OfficialMistral(api_key="k", server_url=url)

    async def one(headers: dict[str, str] | None) -> int:
        n = 0
        stream = await client.chat.stream_async(
            model=MODEL,
            messages=MESSAGES,  # type: ignore[arg-type]
            http_headers=headers,
        )
        async with stream as events:
            async for event in events:
                _content = event.data.choices[0].delta.content
                n += 1
        return n

    async def aclose() -> None:
        await client.__aexit__(None, None, None)

    return one, aclose


async def levante_on_httpx2(url: str) -> Client:
    import httpx2

    from levante import Mistral

    http = httpx2.AsyncClient(
        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=100),
        timeout=httpx2.Timeout(300.0, connect=10.0),
    )
    one, close = _levante_runner(Mistral(api_key="k", server_url=url, async_client=http))

    async def aclose() -> None:
        await close()
        await http.aclose()

    return one, aclose


#: Client name -> factory (called on the running loop).
CLIENTS: dict[str, Callable[[str], Awaitable[Client]]] = {
    "levante": levante_default,
    "levante/httpx2": levante_on_httpx2,
    "aiohttp": raw_aiohttp,
    "httpx2": raw_httpx2,
    "openai": openai_default,
    "openai/aiohttp": openai_aiohttp,
    "mistralai": mistralai,
}


# -- the measurement -----------------------------------------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """This process's resident set size now, in bytes."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


class Probe:
    """Event-loop lag: a task asking to wake every 10 ms records how late it wakes.
    Every 10th tick it also samples the RSS, for the peak while streams are open."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.peak_rss = rss()
        self._running = True

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        tick = 0
        while self._running:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.lags.append(loop.time() - before - 0.01)
            tick += 1
            if tick % 10 == 0:
                self.peak_rss = max(self.peak_rss, rss())

    def stop(self) -> None:
        self._running = False


class GCClock:
    """Time the cyclic garbage collector takes, and how often it runs, while installed.

    At thousands of open streams every collection walks the objects each stream keeps
    alive between two reads (its latest chunk, the coroutines waiting for bytes), so this
    is a large part of a client's CPU per event, and its longest pauses are the loop lag.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self.longest = 0.0
        self._started = 0.0

    def __enter__(self) -> GCClock:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        self.seconds += took
        self.longest = max(self.longest, took)
        self.collections[info["generation"]] += 1


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(name: str, url: str, concurrency: int, events: int, deadline: float) -> dict:
    one, close = await CLIENTS[name](url)
    warm = await one(WARM)
    if warm != 2:
        raise RuntimeError(f"{name}: the warm-up stream gave {warm} chunks, not 2")
    gc.collect()
    rss0 = rss()
    probe = Probe()
    probe_task = asyncio.ensure_future(probe.run())
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    with GCClock() as gc_clock:
        tasks = [asyncio.ensure_future(one(None)) for _ in range(concurrency)]
        done, pending = await asyncio.wait(tasks, timeout=deadline)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    probe.stop()
    peak = max(probe.peak_rss, rss())
    await probe_task
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=30)
    failures: Counter[str] = Counter()
    completed = delivered = 0
    for task in done:
        exc = task.exception()
        if exc is not None:
            failures[type(exc).__name__] += 1
            continue
        count = task.result()
        delivered += count
        if count == events:
            completed += 1
        else:
            failures["short"] += 1
    try:
        await asyncio.wait_for(close(), 30)
    except Exception as exc:  # closing is not measured; say so rather than crash
        failures[f"close:{type(exc).__name__}"] += 1
    lags = probe.lags
    return {
        "client": name,
        "wall": wall,
        "cpu": cpu,
        "completed": completed,
        "failed": sum(failures.values()),
        "unfinished": len(pending),
        "failures": dict(failures),
        "events": delivered,
        "lag_p50": _percentile(lags, 0.50),
        "lag_p99": _percentile(lags, 0.99),
        "lag_max": max(lags, default=0.0),
        "rss_growth": peak - rss0,
        "gc_time": gc_clock.seconds,
        "gc_collections": gc_clock.collections,
        "gc_longest": gc_clock.longest,
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main() -> None:
    name, loop_name, url = sys.argv[1:4]
    concurrency, events = int(sys.argv[4]), int(sys.argv[5])
    deadline = float(sys.argv[7])
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    coro = measure(name, url, concurrency, events, deadline)
    if loop_name == "uvloop":
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    result["loop"] = loop_name
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
