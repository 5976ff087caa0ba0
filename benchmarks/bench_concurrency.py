"""Thousands of concurrent streams in one process: levante against its peers.

Each measurement starts a fresh server process (``_conc_server.py``: paced chat chunks,
raw asyncio on uvloop) and a fresh client process (``_conc_client.py``), which opens C
streams at once and reads them to their end on the default asyncio loop or on uvloop.
Reported per client, all from the same run:

- wall time against the ideal (the server's pacing: events x interval);
- client CPU (user + system) per stream and per event;
- levante's own CPU per event: levante minus raw aiohttp, same loop, same run; at the
  token-rate loads the pair is measured ``--pairs`` times, interleaved, and the median of
  the per-pair differences is reported with its range (the machine drifts by more than
  the figure between runs minutes apart);
- of that CPU, the cyclic garbage collector's time per event, and its longest pause;
- event-loop lag p50 / p99 / max, from a task asking to wake every 10 ms;
- RSS growth per open stream (peak while streaming, minus before);
- streams completed / failed / unfinished at the deadline.

    python benchmarks/bench_concurrency.py             # C=100, 1,000 token-rate, 5,000 slow
    python benchmarks/bench_concurrency.py --quick     # short streams, asyncio only
    python benchmarks/bench_concurrency.py --load 1000:200@20 --clients levante,aiohttp

A load is ``C:EVENTS@RATE`` (RATE events per second per stream). On a machine with two
cores or more the server runs on the first and the client on the second
(``sched_setaffinity``), so that neither measures the other's cache traffic. The full run
takes about half an hour and keeps both cores busy: other benchmarks on the machine suffer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CLIENTS = [
    "levante",
    "levante/httpx2",
    "aiohttp",
    "httpx2",
    "openai",
    "openai/aiohttp",
    "mistralai",
]
FULL_LOADS = ["100:200@20", "1000:200@20", "5000:20@1"]
QUICK_LOADS = ["100:40@20", "1000:40@20", "2000:4@1"]


def parse_load(text: str) -> tuple[int, int, float]:
    concurrency, _, rest = text.partition(":")
    events, _, rate = rest.partition("@")
    return int(concurrency), int(events), float(rate)


def _pinned_to(index: int) -> Any:
    """A ``preexec_fn`` keeping a child on one CPU (the ``index``-th this process may use),
    or None when there are fewer than two to share out."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(allowed) < 2:
        return None
    cpu = allowed[index]
    return lambda: os.sched_setaffinity(0, {cpu})


def run_one(client: str, loop: str, load: str, deadline_factor: float) -> dict[str, Any]:
    """One measurement: a fresh server, a fresh client process; the client's report."""
    concurrency, events, rate = parse_load(load)
    interval = 1.0 / rate
    ideal = events * interval
    deadline = max(ideal * deadline_factor, ideal + 30.0)
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_conc_server.py"), str(events), str(interval)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_pinned_to(0),
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        args = [client, loop, url, str(concurrency), str(events), str(interval), str(deadline)]
        proc = subprocess.run(
            [sys.executable, str(HERE / "_conc_client.py"), *args],
            capture_output=True,
            text=True,
            timeout=deadline + 120,
            preexec_fn=_pinned_to(1),
        )
    finally:
        server.terminate()
        server.wait(10)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"client": client, "error": tail[0], "ideal": ideal, "concurrency": concurrency}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(ideal=ideal, concurrency=concurrency, expected_events=events)
    return result


def format_row(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"  {r['client']:<15} error: {r['error'][:90]}"
    c = r["concurrency"]
    done = f"{r['completed']}/{r['failed']}/{r['unfinished']}"
    # CPU per event only means something when every stream ran to its end
    complete = r["completed"] == c
    per_event = f"{r['cpu'] / r['events'] * 1e6:8.2f}" if complete else f"{'-':>8}"
    gc_event = f"{r['gc_time'] / r['events'] * 1e6:6.2f}" if complete else f"{'-':>6}"
    return (
        f"  {r['client']:<15} {done:>14} {r['wall']:7.1f} {r['wall'] / r['ideal']:6.2f}x"
        f" {r['cpu'] / c * 1e3:9.2f} {per_event} {gc_event}"
        f" {r['lag_p50'] * 1e3:7.1f} {r['lag_p99'] * 1e3:7.1f} {r['lag_max'] * 1e3:7.1f}"
        f" {r['gc_longest'] * 1e3:7.1f} {r['rss_growth'] / c / 1024:8.1f}"
    )


HEADER = (
    f"  {'client':<15} {'done/fail/unfin':>14} {'wall s':>7} {'/ideal':>7}"
    f" {'CPU ms/st':>9} {'µs/event':>8} {'of GC':>6} {'lag p50':>7} {'p99':>7} {'max':>7}"
    f" {'GC max':>7} {'KB/strm':>8}"
)


def own_cpu_pair(
    ours: dict[str, Any] | None, floor: dict[str, Any] | None
) -> tuple[float, float] | str:
    """``ours``'s CPU and GC time per event minus raw aiohttp's (``floor``), in seconds;
    or why there is no such figure (a run failed or left a stream unfinished)."""
    if not ours or not floor or "error" in ours or "error" in floor:
        return "n/a"
    if ours["completed"] < ours["concurrency"] or floor["completed"] < floor["concurrency"]:
        return "n/a (not every stream completed)"
    per_event = ours["cpu"] / max(ours["events"], 1) - floor["cpu"] / max(floor["events"], 1)
    gc_part = ours["gc_time"] / max(ours["events"], 1) - floor["gc_time"] / max(floor["events"], 1)
    return per_event, gc_part


def own_cpu(rows: dict[str, dict[str, Any]], name: str) -> str:
    """levante's own CPU per event: its CPU minus raw aiohttp's, per event delivered."""
    pair = own_cpu_pair(rows.get(name), rows.get("aiohttp"))
    if isinstance(pair, str):
        return pair
    per_event, gc_part = pair
    return (
        f"{per_event * 1e6:.2f} µs/event"
        f" (of which the garbage collector: {gc_part * 1e6:.2f} µs/event)"
    )


def own_cpu_median(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """The median of levante's own CPU over interleaved (levante, raw aiohttp) runs."""
    figures = [own_cpu_pair(ours, floor) for ours, floor in pairs]
    values = [figure for figure in figures if not isinstance(figure, str)]
    if not values:
        return "n/a"
    cpu = sorted(v[0] * 1e6 for v in values)
    gc_part = sorted(v[1] * 1e6 for v in values)
    levante = sorted(p[0]["cpu"] / max(p[0]["events"], 1) * 1e6 for p in pairs if "cpu" in p[0])
    floor = sorted(p[1]["cpu"] / max(p[1]["events"], 1) * 1e6 for p in pairs if "cpu" in p[1])
    return (
        f"median {statistics.median(cpu):.2f} µs/event over {len(cpu)} pairs"
        f" (range {cpu[0]:.2f} to {cpu[-1]:.2f}; garbage collector"
        f" {statistics.median(gc_part):.2f}); levante {statistics.median(levante):.2f},"
        f" raw aiohttp {statistics.median(floor):.2f} µs/event (medians)"
    )


def report(
    loop: str,
    load: str,
    rows: dict[str, dict[str, Any]],
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    concurrency, events, rate = parse_load(load)
    print(
        f"\n{loop}: C={concurrency:,} streams of {events} events at {rate:g}/s "
        f"(ideal {events / rate:.2f} s)"
    )
    print(HEADER)
    for row in rows.values():
        print(format_row(row))
        if row.get("failures"):
            print(f"  {'':<15} failures: {row['failures']}")
    print(f"  levante's own CPU (levante - raw aiohttp): {own_cpu(rows, 'levante')}")
    if len(pairs) > 1:
        print(f"  levante's own CPU, interleaved pairs: {own_cpu_median(pairs)}")
    print(f"  levante/httpx2 own CPU (minus raw aiohttp): {own_cpu(rows, 'levante/httpx2')}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, loopback"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short streams, asyncio only")
    parser.add_argument("--load", action="append", help="C:EVENTS@RATE (repeatable)")
    parser.add_argument("--clients", help="comma-separated, default: all")
    parser.add_argument("--loops", help="asyncio,uvloop (default: both; --quick: asyncio)")
    parser.add_argument(
        "--deadline", type=float, default=4.0, help="stop a run at this many times the ideal"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        help="(levante, raw aiohttp) runs for the own-CPU median at token-rate loads"
        " (default 3; --quick: 1)",
    )
    parser.add_argument("--json", help="also write every result to this file")
    args = parser.parse_args()
    loads = args.load or (QUICK_LOADS if args.quick else FULL_LOADS)
    clients = args.clients.split(",") if args.clients else CLIENTS
    loops = (args.loops or ("asyncio" if args.quick else "asyncio,uvloop")).split(",")
    pairs_wanted = args.pairs if args.pairs is not None else (1 if args.quick else 3)
    print(f"bench_concurrency on {machine()}")
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    for loop in loops:
        for load in loads:
            rows: dict[str, dict[str, Any]] = {}
            for client in clients:
                rows[client] = run_one(client, loop, load, args.deadline)
                rows[client].setdefault("loop", loop)
                rows[client]["load"] = load
            results.extend(rows.values())
            # The own-CPU bar is a difference of two runs minutes apart: more pairs,
            # interleaved, at the token-rate loads (the slow load's bars are wall times).
            pairs = []
            if "levante" in rows and "aiohttp" in rows:
                pairs.append((rows["levante"], rows["aiohttp"]))
                if parse_load(load)[2] >= 10:
                    for _ in range(pairs_wanted - 1):
                        floor = run_one("aiohttp", loop, load, args.deadline)
                        ours = run_one("levante", loop, load, args.deadline)
                        pairs.append((ours, floor))
            report(loop, load, rows, pairs)
    print(f"\n({time.monotonic() - started:.0f} s in all)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
