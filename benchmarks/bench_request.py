"""Where the time goes from ``chat.stream_async(...)`` to the first event, step by step.

A paced-stream server process (``_conc_server.py``) answers every request with one chat
chunk at once; this process opens N streams one after another over a kept-alive
connection and times the CPU (``time.process_time``) of each step of every call:

1. ``prepare``: validate the arguments and build the JSON body;
2. ``build``: the ``httpx2.Request`` (URL, headers, timeout);
3. ``send``: write the request, read the response head (the HTTP client);
4. ``wrap``: check the answer, wrap the response in the chat stream;
5. ``first event``: read, SSE-decode, JSON-parse and accumulate the first chunk.

The steps are the ones ``Sender._open_stream_async`` runs, called one at a time (the
stream's end and release are not counted). Medians over the calls, for the client
``Mistral()`` creates (aiohttp) and for httpx2's own transport, on asyncio; for
reference, what raw aiohttp takes to send the same request and read its head (the floor
of step 3 over aiohttp):

    python benchmarks/bench_request.py            # 3,000 calls per client
    python benchmarks/bench_request.py --quick    # 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

from levante import Mistral
from levante._endpoint import prepare
from levante.resources.chat import CHAT_STREAM

HERE = Path(__file__).resolve().parent
PARAMS = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Tell me a long story."}],
}
STEPS = ("prepare", "build", "send", "wrap", "first event")


async def measure(client: Mistral, calls: int) -> dict[str, float]:
    """Median CPU seconds of each step over ``calls`` sequential calls."""
    sender = client.chat._sender
    http = sender.async_client()
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    clock = time.process_time
    for i in range(calls + 50):  # the first 50 warm the connection and the caches
        t0 = clock()
        req = prepare(CHAT_STREAM, PARAMS, "stream_async")
        t1 = clock()
        request = sender.build(http, req)
        t2 = clock()
        response = await http.send(request, stream=True)
        t3 = clock()
        stream: Any = sender._wrap(response, req, CHAT_STREAM, CHAT_STREAM.stream_async, {})
        t4 = clock()
        first = await stream.__anext__()
        t5 = clock()
        assert first.data.choices[0].delta.content is not None
        async for _ in stream:
            pass
        if i >= 50:
            for step, took in zip(
                STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True
            ):
                times[step].append(took)
    return {step: statistics.median(values) for step, values in times.items()}


async def raw_send(url: str, calls: int) -> float:
    """Median CPU seconds of ``session.post`` up to the response head, raw aiohttp."""
    import json

    import aiohttp

    body = json.dumps({**PARAMS, "stream": True}).encode()
    headers = {"content-type": "application/json", "accept": "text/event-stream"}
    took: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(calls + 50):
            t0 = time.process_time()
            response = await session.post(url + "/v1/chat/completions", data=body, headers=headers)
            t1 = time.process_time()
            await response.read()
            response.release()
            if i >= 50:
                took.append(t1 - t0)
    return statistics.median(took)


async def run(url: str, calls: int) -> dict[str, dict[str, float]]:
    results = {}
    default = Mistral(api_key="k", server_url=url)
    results["default (aiohttp)"] = await measure(default, calls)
    await default.aclose()
    async with httpx2.AsyncClient(timeout=60.0) as http:
        own = Mistral(api_key="k", server_url=url, async_client=http)
        results["httpx2's own transport"] = await measure(own, calls)
    results["raw aiohttp (send only)"] = {"send": await raw_send(url, calls)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 calls per client")
    parser.add_argument("--calls", type=int, help="calls per client (default 3,000)")
    args = parser.parse_args()
    calls = args.calls or (500 if args.quick else 3000)
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_conc_server.py"), "1", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        results = asyncio.run(run(url, calls))
    finally:
        server.terminate()
        server.wait(10)
    names = list(results)
    print(f"bench_request: median CPU per step over {calls:,} sequential calls (asyncio)\n")
    print(f"  {'step':<14}" + "".join(f"{name:>28}" for name in names))
    totals = {name: sum(results[name].values()) for name in names}
    for step in STEPS:
        cells = "".join(
            f"{results[n][step] * 1e3:>18.3f} ms ({results[n][step] / totals[n]:4.0%})"
            if step in results[n]
            else f"{'':>28}"
            for n in names
        )
        print(f"  {step:<14}{cells}")
    print(f"  {'total':<14}" + "".join(f"{totals[n] * 1e3:>18.3f} ms       " for n in names))


if __name__ == "__main__":
    main()
