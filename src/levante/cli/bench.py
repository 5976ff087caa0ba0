"""``levante bench``: streamed chats under concurrency, timed."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from ..errors import MistralError
from ._bench_stats import BenchResult, report
from ._common import EXIT_API_ERROR, EXIT_OK, describe, say, target

if TYPE_CHECKING:
    from ..client import Mistral

DEFAULT_MODEL = "mistral-small-latest"
DEFAULT_BENCH_MODEL_EMBEDDED = "levante-long"


async def _bench_one(client: Mistral, params: dict[str, Any], result: BenchResult) -> None:
    started = time.monotonic()
    first: float | None = None
    last = started
    count = 0
    try:
        stream = await client.chat.stream_async(**params)
        async with stream:
            async for event in stream:
                choices = event.data.choices
                if choices and choices[0].delta.content:
                    last = time.monotonic()
                    if first is None:
                        first = last
                    count += 1
    except MistralError as exc:
        result.errors.append(describe(exc)[0])
        return
    if first is None:
        result.errors.append("a reply without text")
        return
    result.ttft.append(first - started)
    result.tokens += count
    if count > 1 and last > first:
        result.tokens_per_second.append((count - 1) / (last - first))


async def run_bench(
    client: Mistral, params: dict[str, Any], *, concurrency: int, requests: int
) -> BenchResult:
    """Send ``requests`` streamed chats, ``concurrency`` at a time, and time them."""
    import anyio

    result = BenchResult()
    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:  # shared iterator: each request is taken exactly once
            await _bench_one(client, params, result)

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(min(concurrency, requests)):
            tg.start_soon(worker)
    result.elapsed = time.monotonic() - started
    return result


def run(args: argparse.Namespace) -> int:
    import anyio

    with target(args) as where, where.client(args.retries) as client:
        model = args.model or (
            DEFAULT_BENCH_MODEL_EMBEDDED if where.embedded is not None else DEFAULT_MODEL
        )
        params: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": "Tell me about the levante wind"}],
            "max_tokens": args.max_tokens,
        }
        url = where.server_url or client.server_url
        if not args.quiet:
            say(
                f"bench: {args.requests} requests, {args.concurrency} concurrent, "
                f"model {model}, max_tokens {args.max_tokens}, {url}"
            )

        async def main() -> BenchResult:
            try:
                return await run_bench(
                    client, params, concurrency=args.concurrency, requests=args.requests
                )
            finally:
                await client.aclose()

        result = anyio.run(main)
    print(report(result, args.requests), flush=True)
    if result.errors:
        say(f"first error: {result.errors[0]}")
        return EXIT_API_ERROR
    return EXIT_OK
