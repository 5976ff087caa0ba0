"""Client CPU per 10,000 streamed events: levante's EventStream against the raw floor.

A raw asyncio HTTP/1.1 server in a separate process streams a pre-built body of
Mistral-style chat chunks (~230 bytes of JSON each, then ``data: [DONE]``), either one
event per write or 64 events per write. In this process each reader streams the same
body over loopback and we measure its CPU time (``time.process_time``, so the server's
work is not counted):

- ``raw httpx2``: ``iter_bytes`` / ``aiter_bytes`` and nothing else, the floor;
- ``httpx-sse + json.loads``: httpx-sse's ``EventSource`` over the httpx2 response;
- ``bare decoder + json.loads``: levante's sans-IO ``SSEDecoder`` fed from ``iter_bytes``
  in a plain loop, with no stream around it: what decoding and parsing cost by themselves;
- ``levante json.loads``: ``EventStream(response, json.loads of data, sentinel="[DONE]")``;
- ``levante generic reader``: the same, forced onto the byte iterator every transport but
  httpx2's own HTTP/1.1 one gets (levante/_streaming/_body.py), to show what the direct reader buys;
- ``levante typed``: the same with a typed pydantic decode (``CompletionEvent``);
- ``levante reconnect=True``: ``levante json.loads`` as a reconnecting stream (what
  ``connect_sse(..., reconnect=True)`` returns) on this undisturbed stream: reconnection
  must add no per-event cost, so its ratio to ``levante json.loads`` should be ~1.00.

Sync and async (asyncio). Runs are interleaved so machine noise hits every reader alike;
we report the median over the runs and the ratios measured in this same run.

    python benchmarks/bench_stream.py            # 20,000 events, median of 7 runs
    python benchmarks/bench_stream.py --quick    # 20,000 events, median of 5 runs, sync only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx2

import levante._streaming._body
from levante import Reconnect
from levante._connect import ReconnectingEventStream, ReconnectingEventStreamAsync
from levante._streaming import EventStream, EventStreamAsync
from levante.sse import ServerSentEvent, SSEDecoder

# -- the body -----------------------------------------------------------------------------


def chunk_event(i: int) -> bytes:
    """One ``data:`` event shaped like a Mistral chat completion chunk (~230 bytes)."""
    chunk = {
        "id": "0d3e9c6f1a2b4c5d8e7f9a0b1c2d3e4f",
        "object": "chat.completion.chunk",
        "created": 1764028800,
        "model": "mistral-small-latest",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": f" word{i % 997}"},
                "finish_reason": None,
            }
        ],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def build_body(events: int, per_write: int) -> list[bytes]:
    """The HTTP/1.1 chunked body, one transfer chunk (and one write) per group of events."""
    payloads = [chunk_event(i) for i in range(events)]
    payloads.append(b"data: [DONE]\n\n")
    writes = []
    for start in range(0, len(payloads), per_write):
        data = b"".join(payloads[start : start + per_write])
        writes.append(b"%x\r\n%s\r\n" % (len(data), data))
    writes.append(b"0\r\n\r\n")
    return writes


# -- the server (its own process) ---------------------------------------------------------


def serve(port: int, events: int) -> None:
    bodies = {per_write: build_body(events, per_write) for per_write in (1, 64)}
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                # GET /<events per write> HTTP/1.1
                per_write = int(request.split(b" ", 2)[1][1:])
                writer.write(head)
                for part in bodies[per_write]:
                    writer.write(part)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the readers --------------------------------------------------------------------------


def json_data(event: ServerSentEvent) -> Any:
    return json.loads(event.data)


def typed_decoder() -> tuple[str, Callable[[ServerSentEvent], Any]]:
    """levante's own model if it exists, else an equivalent small pydantic model."""
    try:
        from levante.models import CompletionEvent

        if hasattr(CompletionEvent, "from_sse_data"):
            from_data = CompletionEvent.from_sse_data
            return "levante.models.CompletionEvent", lambda event: from_data(event.data)
        return "levante.models.CompletionEvent", lambda event: CompletionEvent(
            data=json.loads(event.data)
        )
    except ImportError:
        from pydantic import BaseModel

        class Delta(BaseModel):
            role: str | None = None
            content: str | None = None

        class Choice(BaseModel):
            index: int
            delta: Delta
            finish_reason: str | None = None

        class Chunk(BaseModel):
            id: str
            object: str
            created: int
            model: str
            choices: list[Choice]

        validate = Chunk.model_validate_json
        return "a local pydantic model", lambda event: validate(event.data)


def httpx_sse_module() -> Any:
    # httpx-sse imports httpx, the predecessor of httpx2, only for type annotations and
    # duck-types the response; httpx is not installed here, so let httpx2 stand in.
    sys.modules.setdefault("httpx", httpx2)
    import httpx_sse

    return httpx_sse


@contextlib.contextmanager
def generic_reader() -> Iterator[None]:
    """While active, streams take the generic body reader (see levante/_streaming/_body.py)."""
    saved = levante._streaming._body._CHAINS
    levante._streaming._body._CHAINS = None
    try:
        yield
    finally:
        levante._streaming._body._CHAINS = saved


def never_reopened(last_event_id: str) -> httpx2.Response:
    raise RuntimeError("the benchmark stream is undisturbed: nothing reconnects")


async def never_reopened_async(last_event_id: str) -> httpx2.Response:
    raise RuntimeError("the benchmark stream is undisturbed: nothing reconnects")


SyncReader = Callable[[httpx2.Response], int]
AsyncReader = Callable[[httpx2.Response], Awaitable[int]]


def sync_readers(typed: Callable[[ServerSentEvent], Any]) -> dict[str, SyncReader]:
    httpx_sse = httpx_sse_module()

    def raw(response: httpx2.Response) -> int:
        size = 0
        for data in response.iter_bytes():
            size += len(data)
        return size

    def peer(response: httpx2.Response) -> int:
        n = 0
        for sse in httpx_sse.EventSource(response).iter_sse():
            if sse.data == "[DONE]":
                break
            json.loads(sse.data)
            n += 1
        return n

    def bare(response: httpx2.Response) -> int:
        n = 0
        feed = SSEDecoder().feed
        for data in response.iter_bytes():
            for event in feed(data):
                if event.data == "[DONE]":
                    return n
                json.loads(event.data)
                n += 1
        return n

    def levante_json(response: httpx2.Response) -> int:
        n = 0
        with EventStream(response, json_data, sentinel="[DONE]") as stream:
            for _ in stream:
                n += 1
        return n

    def levante_generic(response: httpx2.Response) -> int:
        n = 0
        with generic_reader():
            stream = EventStream(response, json_data, sentinel="[DONE]")
        with stream:
            for _ in stream:
                n += 1
        return n

    def levante_typed(response: httpx2.Response) -> int:
        n = 0
        with EventStream(response, typed, sentinel="[DONE]") as stream:
            for _ in stream:
                n += 1
        return n

    def levante_reconnect(response: httpx2.Response) -> int:
        n = 0
        with ReconnectingEventStream(
            response, json_data, sentinel="[DONE]", reconnect=Reconnect(), reopen=never_reopened
        ) as stream:
            for _ in stream:
                n += 1
        return n

    return {
        "raw httpx2": raw,
        "httpx-sse + json.loads": peer,
        "bare decoder + json.loads": bare,
        "levante json.loads": levante_json,
        "levante generic reader": levante_generic,
        "levante typed": levante_typed,
        "levante reconnect=True": levante_reconnect,
    }


def async_readers(typed: Callable[[ServerSentEvent], Any]) -> dict[str, AsyncReader]:
    httpx_sse = httpx_sse_module()

    async def raw(response: httpx2.Response) -> int:
        size = 0
        async for data in response.aiter_bytes():
            size += len(data)
        return size

    async def peer(response: httpx2.Response) -> int:
        n = 0
        async for sse in httpx_sse.EventSource(response).aiter_sse():
            if sse.data == "[DONE]":
                break
            json.loads(sse.data)
            n += 1
        return n

    async def bare(response: httpx2.Response) -> int:
        n = 0
        feed = SSEDecoder().feed
        async for data in response.aiter_bytes():
            for event in feed(data):
                if event.data == "[DONE]":
                    return n
                json.loads(event.data)
                n += 1
        return n

    async def levante_json(response: httpx2.Response) -> int:
        n = 0
        async with EventStreamAsync(response, json_data, sentinel="[DONE]") as stream:
            async for _ in stream:
                n += 1
        return n

    async def levante_generic(response: httpx2.Response) -> int:
        n = 0
        with generic_reader():
            stream = EventStreamAsync(response, json_data, sentinel="[DONE]")
        async with stream:
            async for _ in stream:
                n += 1
        return n

    async def levante_typed(response: httpx2.Response) -> int:
        n = 0
        async with EventStreamAsync(response, typed, sentinel="[DONE]") as stream:
            async for _ in stream:
                n += 1
        return n

    async def levante_reconnect(response: httpx2.Response) -> int:
        n = 0
        async with ReconnectingEventStreamAsync(
            response,
            json_data,
            sentinel="[DONE]",
            reconnect=Reconnect(),
            reopen=never_reopened_async,
        ) as stream:
            async for _ in stream:
                n += 1
        return n

    return {
        "raw httpx2": raw,
        "httpx-sse + json.loads": peer,
        "bare decoder + json.loads": bare,
        "levante json.loads": levante_json,
        "levante generic reader": levante_generic,
        "levante typed": levante_typed,
        "levante reconnect=True": levante_reconnect,
    }


# -- measuring ----------------------------------------------------------------------------


def measure_sync(
    url: str, readers: dict[str, SyncReader], per_write: int, events: int, runs: int
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in readers}
    with httpx2.Client(base_url=url, timeout=60) as client:
        for run in range(runs + 1):  # the first round warms up caches and the connection
            for name, read in readers.items():
                with client.stream("GET", f"/{per_write}") as response:
                    start = time.process_time()
                    count = read(response)
                    cpu = time.process_time() - start
                if name != "raw httpx2" and count != events:
                    raise RuntimeError(f"{name} read {count} events, expected {events}")
                if run:
                    results[name].append(cpu)
    return results


def measure_async(
    url: str, readers: dict[str, AsyncReader], per_write: int, events: int, runs: int
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in readers}

    async def main() -> None:
        async with httpx2.AsyncClient(base_url=url, timeout=60) as client:
            for run in range(runs + 1):
                for name, read in readers.items():
                    async with client.stream("GET", f"/{per_write}") as response:
                        start = time.process_time()
                        count = await read(response)
                        cpu = time.process_time() - start
                    if name != "raw httpx2" and count != events:
                        raise RuntimeError(f"{name} read {count} events, expected {events}")
                    if run:
                        results[name].append(cpu)

    asyncio.run(main())
    return results


def report(title: str, per_10k: dict[int, dict[str, float]], bars: list[tuple[str, bool]]) -> None:
    names = list(per_10k[1])
    print(f"\n{title}: client CPU seconds per 10,000 events (median)")
    print(f"  {'reader':<26}{'1 event/write':>16}{'64 events/write':>18}")
    for name in names:
        print(f"  {name:<26}{per_10k[1][name]:>16.4f}{per_10k[64][name]:>18.4f}")
    floor_ratio = per_10k[1]["levante json.loads"] / per_10k[1]["raw httpx2"]
    peer_ratio = per_10k[64]["levante json.loads"] / per_10k[64]["httpx-sse + json.loads"]
    ok_floor = floor_ratio <= 1.5
    ok_peer = peer_ratio <= 1.0
    print(
        f"  levante json.loads / raw httpx2, 1 event/write:           {floor_ratio:5.2f}x"
        f"  (bar <= 1.50x: {'met' if ok_floor else 'MISSED'})"
    )
    print(
        f"  levante json.loads / httpx-sse + json.loads, 64/write:    {peer_ratio:5.2f}x"
        f"  (bar <= 1.00x: {'met' if ok_peer else 'MISSED'})"
    )
    bare_ratio = per_10k[1]["bare decoder + json.loads"] / per_10k[1]["raw httpx2"]
    print(f"  bare decoder + json.loads / raw httpx2, 1 event/write:    {bare_ratio:5.2f}x")
    generic_ratio = per_10k[1]["levante generic reader"] / per_10k[1]["raw httpx2"]
    print(f"  levante generic reader / raw httpx2, 1 event/write:       {generic_ratio:5.2f}x")
    typed_ratio = per_10k[1]["levante typed"] / per_10k[1]["raw httpx2"]
    print(f"  levante typed / raw httpx2, 1 event/write:                {typed_ratio:5.2f}x")
    for per_write in (1, 64):
        row = per_10k[per_write]
        cost = row["levante reconnect=True"] / row["levante json.loads"]
        print(f"  levante reconnect=True / levante json.loads, {per_write:>2}/write:  {cost:5.2f}x")
    bars.extend([(f"{title} floor", ok_floor), (f"{title} peer", ok_peer)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the benchmark server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 runs, sync only")
    parser.add_argument("--events", type=int, default=20_000, help="events per stream")
    parser.add_argument("--runs", type=int, default=None, help="measured runs per reader")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.events)
        return 0
    runs = args.runs or (5 if args.quick else 7)

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--events", str(args.events)]
    )
    try:
        wait_for(port)
        url = f"http://127.0.0.1:{port}"
        typed_name, typed = typed_decoder()
        print(
            f"{args.events:,} events of ~{len(chunk_event(0))} bytes per stream, "
            f"median of {runs} runs; typed decode: {typed_name}"
        )
        bars: list[tuple[str, bool]] = []
        modes: list[tuple[str, Callable[..., dict[str, list[float]]], Any]] = [
            ("sync", measure_sync, sync_readers(typed))
        ]
        if not args.quick:
            modes.append(("async (asyncio)", measure_async, async_readers(typed)))
        for title, measure, readers in modes:
            per_10k: dict[int, dict[str, float]] = {}
            for per_write in (1, 64):
                samples = measure(url, readers, per_write, args.events, runs)
                per_10k[per_write] = {
                    name: statistics.median(cpu) * 10_000 / args.events
                    for name, cpu in samples.items()
                }
            report(title, per_10k, bars)
    finally:
        server.terminate()
        server.wait(10)
    missed = [name for name, ok in bars if not ok]
    print("\nall bars met" if not missed else f"\nbars missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
