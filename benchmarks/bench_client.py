"""Client CPU per streamed chat chunk: levante vs the official mistralai SDK vs openai's SDK.

A raw asyncio HTTP/1.1 server in a separate process streams Mistral-style chat chunks
(~230 bytes of JSON each) either one event per write or 64 events per write. Each client
streams the same response and touches ``chunk.choices[0].delta.content`` of every chunk,
fully typed (levante's ``CompletionEvent``, mistralai's ``CompletionEvent``, openai's
``ChatCompletionChunk``). We report the client's CPU time (``time.process_time``) per
chunk: the median over several runs, interleaved so that machine noise hits all clients
alike, and the ratios measured in the same run.

Two more streams, one event per write, typed CPU per event against the official SDK
(bar <= 1/10): a transcription stream (``audio.transcriptions.stream``) and a Responses
stream (``responses.create(stream=True)``), each client end to end (``_stream_clients``),
then the decode path alone (bytes -> SSE -> typed event, each SDK's own code, see
``_stream_kinds.py``) to show where the time goes.

    python benchmarks/bench_client.py            # 5,000 chunks, median of 5 runs
    python benchmarks/bench_client.py --quick    # fewer runs, for a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from _stream_clients import CLEANUPS, SCENARIOS
from _stream_kinds import levante_decoder, official_decoder, responses_events, transcription_events

MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "Tell me a long story."}]


def make_chunk(i: int) -> bytes:
    data = {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion.chunk",
        "created": 1702256327,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "delta": {"content": f" token{i % 1000:03d}"},
                "finish_reason": None,
                "logprobs": None,
            }
        ],
    }
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


def make_last() -> bytes:
    data = {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion.chunk",
        "created": 1702256327,
        "model": MODEL,
        "choices": [
            {"index": 0, "delta": {"content": ""}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 5000, "total_tokens": 5009},
    }
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\ndata: [DONE]\n\n"


# -- the server (runs in its own process) ----------------------------------------------


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
            # the mode is in the path: /w<events per write>/n<chunks>/v1/<endpoint>
            parts = target.split("/")
            per_write = int(parts[1][1:])
            count = int(parts[2][1:])
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            if target.endswith("/v1/audio/transcriptions"):
                events = transcription_events(count)
            elif target.endswith("/v1/responses"):
                events = responses_events(count)
            else:
                events = [make_chunk(i) for i in range(count)]
                events.append(make_last())
            for start in range(0, len(events), per_write):
                payload = b"".join(events[start : start + per_write])
                writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
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


# -- the clients -------------------------------------------------------------------------


def levante_sync(url: str) -> Callable[[], int]:
    from levante.client import Mistral

    client = Mistral(api_key="k", server_url=url, retries=0)

    def run() -> int:
        n = 0
        with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
            for event in stream:
                _content = event.data.choices[0].delta.content
                n += 1
        return n

    return run


def levante_async(url: str) -> Callable[[], int]:
    from levante.client import Mistral

    client = Mistral(api_key="k", server_url=url, retries=0)
    loop = asyncio.new_event_loop()

    def close() -> None:
        # on its own loop, at the end (the aiohttp session would complain at exit otherwise)
        loop.run_until_complete(client.aclose())
        loop.close()

    CLEANUPS.append(close)

    async def consume() -> int:
        n = 0
        async with await client.chat.stream_async(model=MODEL, messages=MESSAGES) as stream:
            async for event in stream:
                _content = event.data.choices[0].delta.content
                n += 1
        return n

    return lambda: loop.run_until_complete(consume())


def mistralai_sync(url: str) -> Callable[[], int]:
    from mistralai.client import Mistral as OfficialMistral

    client = OfficialMistral(api_key="k", server_url=url)

    def run() -> int:
        n = 0
        with client.chat.stream(model=MODEL, messages=MESSAGES) as stream:
            for event in stream:
                _content = event.data.choices[0].delta.content
                n += 1
        return n

    return run


def openai_sync(url: str) -> Callable[[], int]:
    from openai import OpenAI

    client = OpenAI(api_key="k", base_url=url + "/v1", max_retries=0)

    def run() -> int:
        n = 0
        for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):  # type: ignore[arg-type]
            _content = chunk.choices[0].delta.content
            n += 1
        return n

    return run


CLIENTS: dict[str, Callable[[str], Callable[[], int]]] = {
    "levante": levante_sync,
    "levante async": levante_async,
    "mistralai": mistralai_sync,
    "openai": openai_sync,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("benchmark server did not start")


def medians(runners: dict[str, Callable[[], int]], runs: int, events: int) -> dict[str, float]:
    """Client CPU µs per event, median over interleaved runs (after one warm-up each)."""
    for run in runners.values():  # warm up: imports, connection, caches
        run()
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(runs):
        for name, run in runners.items():
            started = time.process_time()
            n = run()
            elapsed = time.process_time() - started
            assert n == events, (name, n)
            samples[name].append(elapsed / n * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def chat_section(port: int, chunks: int, runs: int) -> None:
    print(f"{chunks} chunks per response, median of {runs} runs, client CPU per chunk")
    for per_write in (1, 64):
        url = f"http://127.0.0.1:{port}/w{per_write}/n{chunks}"
        runners = {name: factory(url) for name, factory in CLIENTS.items()}
        figures = medians(runners, runs, chunks + 1)
        print(f"\n{per_write} event(s) per write:")
        for name, value in figures.items():
            print(f"  {name:<14} {value:8.2f} µs/chunk")
        ours = figures["levante"]
        print(
            f"  levante / mistralai = {ours / figures['mistralai']:.3f}  (bar <= 0.100)\n"
            f"  levante / openai    = {ours / figures['openai']:.3f}  (bar <= 0.333)"
        )


def streams_section(port: int, chunks: int, runs: int) -> None:
    print(f"\n{chunks} text deltas per stream, 1 event per write, median of {runs} runs")
    url = f"http://127.0.0.1:{port}/w1/n{chunks}"
    counts = {"transcription": len(transcription_events(chunks))}
    counts["responses"] = len(responses_events(chunks))
    for title, factories in SCENARIOS:
        events = counts[title.split(",")[0]]
        figures = medians({name: make(url) for name, make in factories.items()}, runs, events)
        print(f"{title}:")
        for name, value in figures.items():
            print(f"  {name:<14} {value:8.2f} µs/event")
        ratio = figures["levante"] / figures["mistralai"]
        print(f"  levante / mistralai = {ratio:.3f}  (bar <= 0.100)")
    # where the time goes: the decode path alone (bytes -> SSE -> typed event)
    for kind, build in (("transcription", transcription_events), ("responses", responses_events)):
        body = build(chunks)  # one event per chunk, as when one event arrives per write
        decoders = {"levante": levante_decoder(kind), "mistralai": official_decoder(kind)}
        runners = {name: functools.partial(decode, body) for name, decode in decoders.items()}
        figures = medians(runners, runs, len(body))
        print(f"{kind}, decode path only:")
        for name, value in figures.items():
            print(f"  {name:<14} {value:8.2f} µs/event")
        ratio = figures["levante"] / figures["mistralai"]
        print(f"  levante / mistralai = {ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--only", choices=["chat", "streams"], default=None)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    runs = args.runs or (3 if args.quick else 5)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        wait_for(port)
        if args.only != "streams":
            chat_section(port, args.chunks, runs)
        if args.only != "chat":
            streams_section(port, args.chunks, runs)
        for cleanup in CLEANUPS:
            cleanup()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
