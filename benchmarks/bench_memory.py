"""What streams cost in memory: per open stream, over a 1 GB stream, and to accumulate.

Each measurement runs in a fresh client process against a raw asyncio server process:

- RSS growth per open stream: C streams opened at once, each given one event and then
  held open by the server; the client's RSS once all are open, minus before, over C
  (levante's default ``Mistral()``, levante on httpx2's pool, raw aiohttp, on asyncio);
- a 1 GB stream read to its end (8 KiB of content per event, sent as fast as the socket
  takes it) through ``EventStream`` (sync, httpx2), ``EventStreamAsync`` (asyncio,
  aiohttp transport) and a chat stream with ``accumulate=False``: the peak RSS growth
  while reading, sampled every 10 ms by a thread;
- the same chat stream with accumulation on, over 200 MB: RSS growth over the content
  kept (the accumulator keeps the reply for ``final_response()``).

    python benchmarks/bench_memory.py            # C=2,000, 1 GB
    python benchmarks/bench_memory.py --quick    # C=500, 200 MB
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "Tell me a long story."}]
_PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


# -- the server (its own process) ----------------------------------------------------------


def _event(text: str, last: bool = False) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": "stop" if last else None}
    data = {"id": "c", "object": "chat.completion.chunk", "model": MODEL, "choices": [choice]}
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length" and int(value):
                    await reader.readexactly(int(value))
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            # /hang/...: one event, then nothing; /big/<bytes>/...: that much content
            parts = target.split("/")
            if parts[1] == "hang":
                first = _event("hello")
                writer.write(b"%x\r\n%s\r\n" % (len(first), first))
                await writer.drain()
                await reader.read()  # until the client hangs up
                return
            total = int(parts[2])
            words = "levante blows from the east over Málaga, 风从东方吹来 "
            text = (words * (8192 // len(words) + 1))[:8192]
            event = _event(text)
            frame = b"%x\r\n%s\r\n" % (len(event), event)
            sent = 0
            while sent < total:
                writer.write(frame)
                sent += len(text.encode())
                await writer.drain()
            tail = _event("", last=True) + b"data: [DONE]\n\n"
            writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve() -> None:
    async def main() -> None:
        server = await asyncio.start_server(_handle, "127.0.0.1", 0, backlog=4096)
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- measurements (each in its own client process) ------------------------------------------


class PeakRSS:
    """The highest RSS seen by a thread sampling every 10 ms."""

    def __init__(self) -> None:
        self.base = rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss())

    def growth(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss()) - self.base


async def open_streams(client_name: str, url: str, count: int) -> dict[str, Any]:
    """RSS growth per stream with ``count`` streams open at once."""
    import aiohttp
    import httpx2

    from levante import Mistral

    opened: list[Any] = []
    closers: list[Callable[[], Any]] = []
    if client_name == "aiohttp":
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        closers.append(session.close)

        async def one(path: str) -> Any:
            response = await session.post(url + path, data=b"{}")
            assert (await response.content.readany()).startswith(b"data:")
            return response
    else:
        http = None
        if client_name == "levante/httpx2":
            http = httpx2.AsyncClient(limits=httpx2.Limits(max_connections=None))
            closers.append(http.aclose)
        client = Mistral(api_key="k", server_url=url, async_client=http)
        closers.insert(0, client.aclose)

        async def one(path: str) -> Any:
            stream = await client.chat.stream_async(
                model=MODEL, messages=MESSAGES, server_url=url + path
            )
            await stream.__anext__()
            return stream

    first = await one("/hang")  # warm up: imports, session, first connection
    opened.append(first)
    before = rss()
    opened += await asyncio.gather(*(one("/hang") for _ in range(count)))
    growth = rss() - before
    for item in opened:
        if client_name == "aiohttp":
            item.close()
        else:
            await item.aclose()
    for close in closers:
        await close()
    return {"per_stream": growth / count}


def read_big(kind: str, url: str, size: int) -> dict[str, Any]:
    """Peak RSS growth while reading ``size`` bytes of content through ``kind``."""
    import httpx2

    from levante import EventStream, EventStreamAsync, Mistral

    path = f"/big/{size}"
    warm = f"/big/{64 * 1024}"
    started = time.monotonic()
    if kind == "EventStream (sync)":
        with httpx2.Client(base_url=url, timeout=60) as http:
            for target, peak in ((warm, None), (path, True)):
                meter = PeakRSS() if peak else None
                with (
                    http.stream("POST", target) as response,
                    EventStream(response, lambda e: e.data, sentinel="[DONE]") as stream,
                ):
                    events = sum(1 for _ in stream)
        assert meter is not None
        return {"growth": meter.growth(), "events": events, "wall": time.monotonic() - started}

    async def run() -> dict[str, Any]:
        meter = None
        events = growth = 0
        async with Mistral(api_key="k", server_url=url) as client:
            for target, peak in ((warm, False), (path, True)):
                meter = PeakRSS() if peak else None
                if kind == "EventStreamAsync (aiohttp)":
                    http = client._sender.async_client()  # the default client, over aiohttp
                    async with http.stream("POST", url + target) as response:
                        stream = EventStreamAsync(response, lambda e: e.data, sentinel="[DONE]")
                        async with stream:
                            events = sum([1 async for _ in stream])
                    continue
                accumulate = kind.endswith("accumulate=True")
                chat = client.chat.stream_async(
                    model=MODEL, messages=MESSAGES, server_url=url + target, accumulate=accumulate
                )
                async with chat as stream:
                    events = sum([1 async for _ in stream])
                    if meter is not None:
                        # what streaming kept, before final_response() builds its reply
                        growth = meter.growth()
                    if accumulate and peak:
                        reply = await stream.final_response()
                        kept = reply.choices[0].message.content.encode()  # type: ignore[union-attr]
                        assert len(kept) >= size
        if kind.startswith("EventStreamAsync"):
            assert meter is not None
            growth = meter.growth()
        return {"growth": growth, "events": events, "wall": time.monotonic() - started}

    return asyncio.run(run())


# -- the driver ---------------------------------------------------------------------------


def in_process(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", *args], capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="C=500 and 200 MB")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.measure:
        what, kind, url, amount = args.measure
        if what == "open":
            result = asyncio.run(open_streams(kind, url, int(amount)))
        else:
            result = read_big(kind, url, int(amount))
        print(json.dumps(result))
        return
    count = 500 if args.quick else 2000
    size = 200 * MB if args.quick else 1024 * MB
    server = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        print(f"RSS growth per open stream, {count:,} streams open at once (bar <= 40 KB):")
        for kind in ("levante", "levante/httpx2", "aiohttp"):
            r = in_process(["open", kind, url, str(count)])
            shown = r.get("error") or f"{r['per_stream'] / 1024:.1f} KB"
            print(f"  {kind:<16} {shown}")
        print(f"\nPeak RSS growth over a {size // MB:,} MB stream (bar < 20 MB):")
        for kind in (
            "EventStream (sync)",
            "EventStreamAsync (aiohttp)",
            "chat stream, accumulate=False",
        ):
            r = in_process(["big", kind, url, str(size)])
            if "error" in r:
                print(f"  {kind:<30} {r['error']}")
                continue
            print(
                f"  {kind:<30} {r['growth'] / MB:7.1f} MB  "
                f"({r['events']:,} events, {r['wall']:.1f} s)"
            )
        kept = min(size, 200 * MB)
        r = in_process(["big", "chat stream, accumulate=True", url, str(kept)])
        print(f"\nAccumulating a {kept // MB} MB reply (bar <= 1.2x the content kept):")
        if "error" in r:
            print(f"  {r['error']}")
        else:
            print(f"  RSS growth {r['growth'] / MB:.1f} MB = {r['growth'] / kept:.2f}x the content")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
