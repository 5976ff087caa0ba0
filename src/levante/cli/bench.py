"""``levante bench``: a load generator for Mistral- and OpenAI-compatible chat servers.

Streamed chats are sent through levante's async client, either as fast as
``--concurrency`` allows (a closed loop) or at ``--rate`` requests per second with
Poisson arrivals (an open loop, still capped by ``--concurrency``), until ``--requests``
are done or ``--duration`` has passed. ``--warmup`` requests go first and are not
counted. The figures and their definitions: :mod:`._bench_stats`.

A wrong key, a refused connection or a warm-up that fails stops the run at once (exit 3
for the first two, 1 otherwise); Ctrl-C stops it too, and the summary covers what was
done by then (exit 130). Without a server the built-in dev server is benchmarked, paced
like a real model (``--dev-ttft``, ``--dev-tokens-per-second``), and the run says so.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    MistralError,
    PermissionDeniedError,
)
from ._bench_stats import Record, Report, percentile, render
from ._common import (
    EXIT_API_ERROR,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Fail,
    Target,
    describe,
    say,
    target,
)
from ._signals import take_over_ctrl_c

if TYPE_CHECKING:
    from ..client import Mistral

DEFAULT_MODEL = "mistral-small-latest"
EMBEDDED_MODEL = "levante-long"
_WORDS = (
    "wind",
    "sea",
    "coast",
    "strait",
    "harbour",
    "cloud",
    "rock",
    "wave",
    "sail",
    "current",
    "morning",
    "evening",
    "summer",
    "light",
    "salt",
    "dune",
    "pine",
    "cape",
    "ferry",
    "gust",
    "calm",
    "swell",
    "horizon",
    "tide",
    "island",
    "channel",
    "lantern",
    "village",
)


def arrivals(rate: float, seed: int) -> Callable[[], float]:
    """Gaps between Poisson arrivals at ``rate`` per second (exponential, seeded)."""
    rng = random.Random(seed)
    return lambda: rng.expovariate(rate)


def prompt_maker(args: argparse.Namespace) -> tuple[Callable[[int], str], str]:
    """The prompt of request ``i``, and how the report describes the prompts."""
    if args.prompt_file is not None:
        try:
            text = pathlib.Path(args.prompt_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise Fail(
                f"--prompt-file: cannot read {args.prompt_file}: {exc}", EXIT_USAGE
            ) from None
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise Fail(f"--prompt-file: {args.prompt_file} has no prompt", EXIT_USAGE)
        return (lambda i: lines[i % len(lines)]), f"{len(lines)} prompts from {args.prompt_file}"

    def synthetic(i: int) -> str:
        # a different text per request, so that no server can answer from a prefix cache
        rng = random.Random(args.seed * 1_000_003 + i)
        return " ".join(rng.choice(_WORDS) for _ in range(args.prompt_tokens))

    return synthetic, f"synthetic, {args.prompt_tokens} words"


def _label(exc: MistralError) -> str:
    if isinstance(exc, APIError):
        return f"{type(exc).__name__} ({exc.status_code})"
    return type(exc).__name__


def _fatal(exc: MistralError) -> bool:
    """Errors that every further request would meet too: stop at once."""
    if isinstance(exc, APIConnectionError):
        return not isinstance(exc, APITimeoutError)
    return isinstance(exc, (AuthenticationError, PermissionDeniedError))


class Load:
    """One run: warm-up, then the measured requests, with progress and early stops."""

    def __init__(self, client: Mistral, args: argparse.Namespace, params: Callable[[int], Any]):
        self.client = client
        self.args = args
        self.params = params
        self.records: list[Record] = []
        self.inflight = 0
        self.cancelled = 0
        self.issued = 0
        self.started = 0.0
        self.stopped: tuple[str, int] | None = None  # (message, exit code)
        self.interrupted = False
        self._scope: Any = None

    def _stop(self, message: str, code: int) -> None:
        if self.stopped is None:
            self.stopped = (message, code)
        if self._scope is not None:
            self._scope.cancel()

    async def _one(self, index: int, measured: bool = True) -> None:
        import anyio

        record = Record(started=time.perf_counter())
        self.inflight += 1
        try:
            await self._stream(index, record)
        except MistralError as exc:
            record.error = _label(exc)
            if _fatal(exc) or not measured:  # a failed warm-up: the run cannot be right
                message, code = describe(exc)
                self._stop(message, EXIT_CONNECTION if _fatal(exc) else code)
        except anyio.get_cancelled_exc_class():
            self.cancelled += measured
            raise
        finally:
            self.inflight -= 1
        if measured:
            self.records.append(record)

    async def _stream(self, index: int, record: Record) -> None:
        last: float | None = None
        async with self.client.chat.stream_async(**self.params(index)) as stream:
            async for event in stream:
                now = time.perf_counter()
                chunk = event.data
                if chunk.usage is not None:
                    record.prompt_tokens = chunk.usage.prompt_tokens
                    record.completion_tokens = chunk.usage.completion_tokens
                if chunk.choices and chunk.choices[0].delta.content:
                    if last is None:
                        record.ttft = now - record.started
                    else:
                        record.itl.append(now - last)
                    last = now
                    record.chunks += 1
        record.e2e = time.perf_counter() - record.started
        if last is None:
            record.error = "EmptyReply"

    def _take(self) -> int | None:
        """The index of the next measured request, or None when the run is over."""
        args = self.args
        if args.requests is not None and self.issued >= args.requests:
            return None
        if args.duration is not None and time.perf_counter() - self.started >= args.duration:
            return None
        self.issued += 1
        return int(args.warmup) + self.issued - 1

    async def _closed_loop(self) -> None:
        import anyio

        async def worker() -> None:
            while (index := self._take()) is not None:
                await self._one(index)

        async with anyio.create_task_group() as group:
            for _ in range(self.args.concurrency):
                group.start_soon(worker)

    async def _open_loop(self) -> None:
        import anyio

        gap = arrivals(self.args.rate, self.args.seed)
        slots = anyio.Semaphore(self.args.concurrency)
        due = time.perf_counter()

        async def send(index: int) -> None:
            async with slots:
                await self._one(index)

        async with anyio.create_task_group() as group:
            while True:
                due += gap()
                await anyio.sleep(max(0.0, due - time.perf_counter()))
                if (index := self._take()) is None:
                    break
                group.start_soon(send, index)

    async def _progress(self) -> None:
        import anyio

        args = self.args
        total = f"/{args.requests}" if args.requests is not None else ""
        while True:
            await anyio.sleep(0.25)
            ok = [r.ttft for r in self.records if r.ttft is not None and r.error is None]
            failed = sum(r.error is not None for r in self.records)
            elapsed = time.perf_counter() - self.started if self.started else 0.0
            rate = len(ok) / elapsed if elapsed > 0 else 0.0
            line = (
                f"{len(self.records)}{total} done, {self.inflight} in flight, {failed} failed, "
                f"{elapsed:.1f} s, {rate:.1f} req/s, TTFT p50 {percentile(ok, 50) * 1000:.0f} ms"
            )
            sys.stderr.write(f"\r\x1b[K{line}")
            sys.stderr.flush()

    async def _watch(self, signals: Any) -> None:
        async for _ in signals:
            self.interrupted = True
            if self._scope is not None:
                self._scope.cancel()

    async def run(self) -> float:
        """Warm up, then measure; returns the measured duration in seconds."""
        import anyio

        args = self.args
        show = sys.stderr.isatty() and not args.quiet
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async with anyio.create_task_group() as outer:
                outer.start_soon(self._watch, signals)
                with anyio.CancelScope() as self._scope:
                    async with anyio.create_task_group() as warm:
                        for index in range(args.warmup):
                            warm.start_soon(self._one, index, False)
                    self.started = time.perf_counter()
                    if show:
                        outer.start_soon(self._progress)
                    await (self._open_loop() if args.rate else self._closed_loop())
                finished = time.perf_counter()
                outer.cancel_scope.cancel()
        if show:
            sys.stderr.write("\r\x1b[K")
        return finished - self.started if self.started else 0.0


def _client(where: Target, args: argparse.Namespace) -> Mistral:
    import httpx2

    # levante's own async client: no cap on its pool (--concurrency is the cap), and the
    # fastest transport it has for the event loop.
    timeout = httpx2.Timeout(args.timeout, connect=min(args.timeout, 10.0))
    return where.client(args.retries, timeout=timeout)


def _about(args: argparse.Namespace, url: str, model: str, prompts: str) -> dict[str, Any]:
    loop = f"{args.rate:g}/s Poisson arrivals" if args.rate else "closed loop"
    until = [f"{args.requests} requests"] if args.requests is not None else []
    until += [f"{args.duration:g} s"] if args.duration is not None else []
    load = f"{' or '.join(until)}, concurrency {args.concurrency}, {loop}"
    return {
        "server": url,
        "model": model,
        "load": load,
        "prompts": prompts,
        "max_tokens": args.max_tokens,
        "warmup": args.warmup,
    }


def run(args: argparse.Namespace) -> int:
    """Run ``levante bench``."""
    import anyio

    if args.requests is None and args.duration is None:
        args.requests = 64
    prompt, prompts = prompt_maker(args)
    pace = args.dev_tokens_per_second or None
    with target(args, tokens_per_second=pace, ttft=args.dev_ttft) as where:
        model = args.model or (EMBEDDED_MODEL if where.embedded is not None else DEFAULT_MODEL)
        if where.embedded is not None and not args.quiet:
            speed = f"{pace:g} tokens/s per stream" if pace else "unpaced"
            say(
                f"benchmarking the dev server, paced like a model: {args.dev_ttft:g} s to the "
                f"first token, {speed} (--dev-ttft, --dev-tokens-per-second); the figures "
                "measure levante, not a model"
            )
        client = _client(where, args)

        def params(index: int) -> dict[str, Any]:
            message = {"role": "user", "content": prompt(index)}
            return {"model": model, "messages": [message], "max_tokens": args.max_tokens}

        load = Load(client, args, params)

        async def main() -> float:
            try:
                return await load.run()
            finally:
                await client.aclose()

        duration = anyio.run(main)
        url = where.server_url or client.server_url
    take_over_ctrl_c()  # the signal receiver handed SIGINT back to Python's handler
    report = Report(
        load.records, duration, load.cancelled, load.interrupted,
        load.stopped[0] if load.stopped else None, _about(args, url, model, prompts),
    )  # fmt: skip
    data = report.as_dict()
    print(json.dumps(data, indent=2) if args.json else render(data), flush=True)
    if load.stopped is not None:
        say(f"bench stopped: {load.stopped[0]}")
        return load.stopped[1]
    if load.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_API_ERROR if data["failed"] else EXIT_OK
