"""What partial structured objects cost on top of a typed chat stream, and how it scales.

A raw asyncio HTTP/1.1 server in a separate process streams a structured answer (the JSON
of a ``Catalog`` of items, as a model answers with ``response_format`` set to its
schema) as chat chunks, one event per write: 20 KB in 500 chunks, and 1 MB in 25,000
chunks. In this process levante's ``chat.stream`` reads it twice, interleaved:

- ``typed``: every event decoded to a typed ``CompletionEvent``, its content read;
- ``typed + partial``: the same, and every content delta fed to a
  ``PartialObjectTracker(Catalog)`` whose ``partial`` (the validated instance, or the
  dict when it does not validate yet) is read after every chunk; ``finish()`` at the end.

We report client CPU time (``time.process_time``: the server's work is not counted),
medians over the runs, and the two bars of issue 10, measured in this same run:

- on the 20 KB answer, partial objects add at most 50% to the stream's typed CPU;
- on the 1 MB answer (50x the bytes, 50x the chunks) they cost at most 60x what they
  cost on the 20 KB one (re-parsing the whole prefix at every chunk would be ~2,500x).

``--naive`` also times that quadratic scheme on the 20 KB answer, for comparison.

    python benchmarks/bench_partial.py            # median of 9 (20 KB) and 3 (1 MB) runs
    python benchmarks/bench_partial.py --quick    # fewer runs, a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import from_json

from bench_client import free_port, wait_for

MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "List the catalog."}]
CASES = {"20KB": (20_000, 500), "1MB": (1_000_000, 25_000)}


class Dimensions(BaseModel):
    width: float
    height: float
    unit: str = "cm"


class Item(BaseModel):
    sku: str
    name: str
    description: str
    tags: list[str]
    price: float
    stock: int
    dimensions: Dimensions
    discontinued: bool = False


class Catalog(BaseModel):
    title: str
    summary: str
    items: list[Item]


def catalog_json(size: int) -> str:
    """A deterministic catalog of about ``size`` bytes, as compact JSON."""
    items: list[dict[str, Any]] = []
    catalog = {"title": "Spring catalog", "summary": "Everything in stock. " * 6, "items": items}
    total = len(json.dumps(catalog, separators=(",", ":")))
    i = 0
    while total < size:
        item = {
            "sku": f"SKU-{i:06d}",
            "name": f"Item number {i}",
            "description": f'A sturdy item, number {i}, with a "quoted" note and an é. ' * 2,
            "tags": ["red", "blue", f"tag{i % 7}"],
            "price": round(3.5 + i * 0.25, 2),
            "stock": i * 3 % 101,
            "dimensions": {"width": 10.5 + i % 5, "height": 2.25, "unit": "cm"},
            "discontinued": i % 11 == 0,
        }
        items.append(item)
        total += len(json.dumps(item, separators=(",", ":"))) + 1
        i += 1
    return json.dumps(catalog, separators=(",", ":"))


# -- the server (runs in its own process) ----------------------------------------------


def sse_body(size: int, chunks: int) -> list[bytes]:
    text = catalog_json(size)
    cuts = [len(text) * i // chunks for i in range(chunks + 1)]
    events = []
    for start, end in itertools.pairwise(cuts):
        data = {
            "id": "cmpl-1",
            "object": "chat.completion.chunk",
            "created": 1702256327,
            "model": MODEL,
            "choices": [{"index": 0, "delta": {"content": text[start:end]}, "finish_reason": None}],
        }
        events.append(b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n")
    last = {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1702256327,
        "model": MODEL,
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": chunks, "total_tokens": chunks + 9},
    }
    events.append(b"data: " + json.dumps(last).encode() + b"\n\ndata: [DONE]\n\n")
    return events


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    bodies: dict[str, list[bytes]] = {}
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _, target, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            # the answer is in the path: /s<bytes>/n<chunks>/v1/chat/completions
            parts = target.split("/")
            key = f"{parts[1]}/{parts[2]}"
            if key not in bodies:
                bodies[key] = sse_body(int(parts[1][1:]), int(parts[2][1:]))
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for event in bodies[key]:  # one event per write
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve(port: int) -> None:
    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the client ------------------------------------------------------------------------


def runner(url: str, mode: str) -> Callable[[], int]:
    from levante.client import Mistral
    from levante.partial import PartialObjectTracker

    client = Mistral(api_key="k", server_url=url, retries=0)

    def typed() -> int:
        n = 0
        with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
            for event in stream:
                _content = event.data.choices[0].delta.content
                n += 1
        return n

    def partial() -> int:
        n = 0
        tracker = PartialObjectTracker(Catalog)
        with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
            for event in stream:
                content = event.data.choices[0].delta.content
                if isinstance(content, str):
                    tracker.feed(content)
                _partial = tracker.partial
                n += 1
        assert isinstance(tracker.finish(), Catalog)
        return n

    def naive() -> int:
        # the quadratic scheme: parse and validate the whole prefix at every chunk
        n = 0
        text = ""
        with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
            for event in stream:
                content = event.data.choices[0].delta.content
                if isinstance(content, str):
                    text += content
                value = from_json(text, allow_partial="trailing-strings") if text else None
                try:
                    _partial: Any = Catalog.model_validate(value)
                except ValueError:
                    _partial = value
                n += 1
        return n

    return {"typed": typed, "typed + partial": partial, "naive reparse": naive}[mode]


def measure(port: int, case: str, modes: list[str], runs: int) -> dict[str, float]:
    size, chunks = CASES[case]
    url = f"http://127.0.0.1:{port}/s{size}/n{chunks}"
    runners = {mode: runner(url, mode) for mode in modes}
    for run in runners.values():  # warm up: imports, connection, the server's body cache
        run()
    samples: dict[str, list[float]] = {mode: [] for mode in modes}
    for _ in range(runs):
        for mode, run in runners.items():
            started = time.process_time()
            n = run()
            samples[mode].append(time.process_time() - started)
            assert n == chunks + 1, (mode, n)
    return {mode: statistics.median(values) for mode, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--naive", action="store_true", help="also time the quadratic scheme")
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    small_runs, big_runs = (5, 3) if args.quick else (9, 3)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        wait_for(port)
        modes = ["typed", "typed + partial"]
        small = measure(
            port, "20KB", [*modes, "naive reparse"] if args.naive else modes, small_runs
        )
        big = measure(port, "1MB", modes, big_runs)
    finally:
        server.terminate()
        server.wait(10)
    print("client CPU per stream, one event per write, medians")
    for case, figures in (("20 KB / 500 chunks", small), ("1 MB / 25,000 chunks", big)):
        print(f"\n{case}:")
        for mode, seconds in figures.items():
            print(f"  {mode:<16} {seconds * 1e3:9.2f} ms")
    added_small = small["typed + partial"] - small["typed"]
    added_big = big["typed + partial"] - big["typed"]
    print(
        f"\npartial objects add {added_small / small['typed']:.1%} to the typed stream "
        f"at 20 KB (bar <= 50%)\n"
        f"partial objects at 1 MB cost {added_big / added_small:.1f}x what they cost at "
        f"20 KB (bar <= 60x; 50x the bytes)"
    )
    if "naive reparse" in small:
        naive = small["naive reparse"] - small["typed"]
        print(f"naive reparse at 20 KB adds {naive / small['typed']:.1%} (for comparison)")


if __name__ == "__main__":
    main()
