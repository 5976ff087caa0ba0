"""Benchmark levante's SSE decoder against the SSE decoders in use today.

``python benchmarks/bench_sse.py`` (``--quick`` for a short run).

Every decoder gets the same bytes in the same run, and the runs are interleaved (one run of
each decoder, then the next round) so that noise from other processes hits all of them
alike; times are CPU time of this process. Printed per scenario: events/s per decoder
(median of the rounds), levante's ratio to each peer and to the fastest peer, and the bars
from issue 2. Absolute numbers depend on the machine; only the ratios mean something.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers import PEERS, Runner, prepare

_TEXT = (
    "The levante is a warm easterly wind that blows through the Strait of Gibraltar,"
    " raising fog and swell over the western Mediterranean; sailors know it well."
)
_WORDS = _TEXT.split()

#: Budget for one peer on the 1 MiB scenario; slower peers are skipped, not waited for.
_BIG_EVENT_BUDGET = 20.0


def chat_stream(n_events: int, seed: int = 0) -> tuple[bytes, int]:
    """A Mistral-style chat stream: ``n_events`` chunk events then ``data: [DONE]``.

    Returns the bytes and the number of events in them.
    """
    rng = random.Random(seed)
    out = []
    for i in range(n_events):
        chunk = {
            "id": "5d4a1c0e2b7f4e0c9a1b3c5d7e9f1a2b",
            "object": "chat.completion.chunk",
            "created": 1732546800 + i // 50,
            "model": "mistral-small-latest",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": " " + rng.choice(_WORDS)},
                    "finish_reason": None,
                    "logprobs": None,
                }
            ],
        }
        line = json.dumps(chunk, separators=(",", ":"))
        out.append(b"data: " + line.encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return b"".join(out), n_events + 1


def split_every(data: bytes, size: int) -> list[bytes]:
    """Cut ``data`` into chunks of ``size`` bytes (the last may be shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def split_events(data: bytes) -> list[bytes]:
    """One chunk per event, each ending with its blank line."""
    return [block + b"\n\n" for block in data.split(b"\n\n")[:-1]]


def big_event(size: int) -> bytes:
    """One event whose data line carries ``size`` bytes of JSON-ish payload."""
    payload = (b'{"content":"' + b"levante " * (size // 9 + 1))[:size]
    return b"data: " + payload + b"\n\n"


def _time_once(run: Runner) -> tuple[float, int]:
    gc.collect()
    # CPU time of this process: every decoder is pure CPU work, and on a machine shared
    # with other jobs wall time would mostly measure the scheduler.
    start = time.process_time()
    n = run()
    return time.process_time() - start, n


def measure(chunks: list[bytes], names: list[str], rounds: int) -> dict[str, tuple[float, int]]:
    """Median seconds and event count per decoder over ``rounds`` interleaved rounds."""
    runners = {name: prepare(name, chunks) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    counts: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in runners.items():
            seconds, n = _time_once(run)
            times[name].append(seconds)
            counts[name] = n
    return {name: (statistics.median(times[name]), counts[name]) for name in names}


def report_stream(
    title: str, chunks: list[bytes], expected: int, rounds: int, bar: float
) -> tuple[float, bool]:
    """Run one chat-stream scenario, print its table, return levante's ratio to the best."""
    names = list(PEERS)
    result = measure(chunks, names, rounds)
    print(f"\n== {title}: {len(chunks)} chunks, {expected} events, median of {rounds} ==")
    rate = {name: result[name][1] / result[name][0] for name in names}
    ours = rate["levante"]
    for name in names:
        ratio = "" if name == "levante" else f"  levante is {ours / rate[name]:5.2f}x"
        print(f"  {name:<13} {rate[name]:>12,.0f} events/s{ratio}")
    peers = [name for name in names if name != "levante"]
    fastest = max(peers, key=lambda name: rate[name])
    best = ours / rate[fastest]
    verdict = "met" if best >= bar else "MISSED"
    print(f"  levante / fastest peer ({fastest}): {best:.2f}x  (bar {bar}x: {verdict})")
    counts = {name: result[name][1] for name in names}
    same = len(set(counts.values())) == 1 and counts["levante"] == expected
    print(f"  sanity: every decoder produced {expected} events: {'yes' if same else counts}")
    return best, same


def report_big_event(size: int, rounds: int) -> tuple[float, bool]:
    """The large-event scenario: 1 KiB chunks against fed whole, levante then peers."""
    data = big_event(size)
    chunked = split_every(data, 1024)
    print(f"\n== one {size // 1024} KiB event: 1 KiB chunks vs fed whole, median of {rounds} ==")
    ratio = 0.0
    ok = True
    for name in PEERS:
        # A slow peer is probed on a 1/8 event first; quadratic ones are then extrapolated
        # pessimistically so a hopeless run is skipped instead of stalling the benchmark.
        probe_chunks = split_every(big_event(size // 8), 1024)
        probe, _ = _time_once(prepare(name, probe_chunks))
        estimate = probe * 64
        if estimate * 2 > _BIG_EVENT_BUDGET and name != "levante":
            print(f"  {name:<13} skipped: about {estimate:.0f} s or more per run (cap 20 s)")
            continue
        n_rounds = rounds if name == "levante" or estimate < 1 else 1
        whole = measure([data], [name], n_rounds)[name]
        parts = measure(chunked, [name], n_rounds)[name]
        ok = ok and whole[1] == parts[1] == 1
        line = (
            f"  {name:<13} whole {whole[0] * 1000:9.2f} ms   1 KiB chunks {parts[0] * 1000:9.2f} ms"
            f"   chunked/whole {parts[0] / whole[0]:6.2f}x   events {whole[1]}/{parts[1]}"
        )
        if n_rounds == 1 and name != "levante":
            line += "  (1 run)"
        print(line)
        if name == "levante":
            ratio = parts[0] / whole[0]
    verdict = "met" if ratio <= 3.0 else "MISSED"
    print(f"  levante chunked/whole: {ratio:.2f}x  (bar: within 3x: {verdict})")
    return ratio, ok


def check_exact(data: bytes, chunkings: list[list[bytes]]) -> bool:
    """Outside the timings: levante's events carry exactly the payloads that were sent."""
    from levante.sse import SSEDecoder

    sent = [block[6:].decode() for block in data.split(b"\n\n")[:-1]]
    for chunks in chunkings:
        decoder = SSEDecoder()
        got = [event.data for chunk in chunks for event in decoder.feed(chunk)]
        if got != sent or decoder.end() != [] or decoder.truncated:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run every scenario and print the tables; exit status 1 if a sanity check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer events and rounds")
    parser.add_argument("--events", type=int, help="chat chunk events (default 20000)")
    parser.add_argument("--rounds", type=int, help="timed rounds per decoder (default 7)")
    args = parser.parse_args(argv)
    n_events = args.events or (3000 if args.quick else 20000)
    rounds = args.rounds or (3 if args.quick else 7)
    big = 256 * 1024 if args.quick else 1024 * 1024

    data, expected = chat_stream(n_events)
    print(
        f"levante SSE benchmark: {expected} events, {len(data) / expected:.0f} bytes/event, "
        f"{len(data) / 1e6:.1f} MB, python {sys.version.split()[0]}"
    )
    scenarios = [
        ("16 KiB chunks", split_every(data, 16 * 1024), 2.0),
        ("one event per chunk", split_events(data), 1.5),
        ("64-byte chunks", split_every(data, 64), 1.5),
    ]
    exact = check_exact(data, [chunks for _, chunks, _ in scenarios])
    print(f"levante decodes every payload exactly in every chunking: {'yes' if exact else 'NO'}")
    sane = exact
    bars = []
    for title, chunks, bar in scenarios:
        best, same = report_stream(title, chunks, expected, rounds, bar)
        bars.append((title, best, bar))
        sane = sane and same
    ratio, ok = report_big_event(big, rounds)
    sane = sane and ok

    print("\n== summary (levante / fastest peer, events/s) ==")
    for title, best, bar in bars:
        print(f"  {title:<20} {best:5.2f}x  bar {bar}x  {'met' if best >= bar else 'MISSED'}")
    print(f"  {'big event':<20} chunked/whole {ratio:.2f}x  bar <= 3x")
    print(f"  sanity (same event counts everywhere): {'ok' if sane else 'FAILED'}")
    return 0 if sane else 1


if __name__ == "__main__":
    sys.exit(main())
