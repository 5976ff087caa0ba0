"""``levante``: stream chat replies from the Mistral API, or from levante's dev server.

Commands::

    levante chat [PROMPT]   stream one reply to stdout; without PROMPT, an interactive chat
                            (Ctrl-C stops a reply, Ctrl-C at the prompt, Ctrl-D or /exit quit)
    levante serve           run the Mistral-compatible dev server until Ctrl-C (exit 130)
    levante models          list the model ids the server offers
    levante bench           time to first token and tokens/s percentiles under concurrency

Where requests go: ``--server-url`` (or ``MISTRAL_SERVER_URL``) when given; else the
Mistral API when an API key is set (``--api-key`` or ``MISTRAL_API_KEY``); else an embedded
dev server started in this process on a free loopback port (announced by one line on
stderr), whose ``levante-chat`` model (alias ``mistral-small-latest``, the default model)
answers in canned, deterministic text, paced at 50 tokens/s so the streaming shows: asked
about the levante wind (``make demo``) it streams a paragraph about that wind.

After each reply ``chat`` prints a stats line on stderr: time to the first token, tokens
per second after it, the server's usage and the finish reason (``--quiet`` drops it).

Exit codes:
    0    success
    1    API or stream error (bad key, unknown model, an error inside the stream)
    2    usage error (bad arguments)
    3    connection error (server unreachable, timeout)
    130  interrupted (Ctrl-C)

Expected failures print one line, ``levante: ...``, on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    HTTPValidationError,
    InternalServerError,
    MistralError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
)

if TYPE_CHECKING:
    from .client import Mistral
    from .models import CompletionEvent

__all__ = ["main"]

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_INTERRUPTED = 130

DEFAULT_MODEL = "mistral-small-latest"
DEFAULT_BENCH_MODEL_EMBEDDED = "levante-long"
#: The embedded server's pace for ``chat``: visible streaming, a demo of a few seconds.
EMBEDDED_TOKENS_PER_SECOND = 50.0
EMBEDDED_TTFT = 0.2


class _Fail(Exception):
    """An expected failure: print ``message`` and exit with ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _say(message: str) -> None:
    print(f"levante: {message}", file=sys.stderr, flush=True)


_KIND = (
    (AuthenticationError, "authentication failed"),
    (PermissionDeniedError, "permission denied"),
    (NotFoundError, "not found"),
    (HTTPValidationError, "invalid request"),
    (RateLimitError, "rate limited"),
    (BadRequestError, "bad request"),
    (InternalServerError, "server error"),
)


def _describe(exc: MistralError) -> tuple[str, int]:
    """The one-line message and exit code for an error raised by the client."""
    if isinstance(exc, APIConnectionError):
        return f"connection failed: {exc}", EXIT_CONNECTION
    if isinstance(exc, APIError):
        kind = next((label for cls, label in _KIND if isinstance(exc, cls)), "API error")
        if "invalid_model" in exc.body or (
            isinstance(exc, NotFoundError) and "model" in exc.message.lower()
        ):
            kind = "unknown model"
        return f"{kind} ({exc.status_code}): {exc.message}", EXIT_API_ERROR
    if isinstance(exc, StreamError):
        return f"stream failed ({type(exc).__name__}): {exc}", EXIT_API_ERROR
    return f"{type(exc).__name__}: {exc}", EXIT_API_ERROR


# ---------------------------------------------------------------- where requests go


@dataclass
class _Target:
    server_url: str | None
    api_key: str | None
    embedded: Any = None  # an EmbeddedServer when we started one

    def client(self, retries: int) -> Mistral:
        from .client import Mistral

        return Mistral(api_key=self.api_key, server_url=self.server_url, retries=retries)


@contextlib.contextmanager
def _target(args: argparse.Namespace, **embedded_options: Any) -> Iterator[_Target]:
    api_key = args.api_key or os.environ.get("MISTRAL_API_KEY") or None
    server_url = args.server_url or os.environ.get("MISTRAL_SERVER_URL") or None
    if server_url or api_key:
        yield _Target(server_url, api_key)
        return
    try:
        from .devserver import EmbeddedServer
    except ImportError as exc:
        raise _Fail(
            f"no MISTRAL_API_KEY and no --server-url, and the embedded dev server needs the "
            f"server extra (pip install 'levante[server]'): {exc}",
            EXIT_USAGE,
        ) from None
    with EmbeddedServer(**embedded_options) as server:
        if not getattr(args, "quiet", False):
            _say(f"no MISTRAL_API_KEY: using the built-in dev server at {server.url}")
        yield _Target(server.url, None, server)


# ---------------------------------------------------------------- chat


@dataclass
class _Turn:
    """What one streamed reply produced, for the stats line and the history."""

    text: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None
    last_token: float | None = None
    tokens: int = 0
    usage: Any = None
    finish_reason: str | None = None

    def stats_line(self) -> str:
        parts = []
        if self.first_token is not None:
            parts.append(f"first token {self.first_token - self.started:.2f} s")
            span = (self.last_token or self.first_token) - self.first_token
            if self.tokens > 1 and span > 0:
                parts.append(f"{(self.tokens - 1) / span:.1f} tokens/s")
        else:
            parts.append("no text")
        if self.usage is not None:
            parts.append(
                f"usage {self.usage.prompt_tokens} prompt + {self.usage.completion_tokens} "
                f"completion = {self.usage.total_tokens} tokens"
            )
        if self.finish_reason:
            parts.append(f"finish {self.finish_reason}")
        return ", ".join(parts)


def _chat_params(args: argparse.Namespace, messages: list[dict[str, Any]]) -> dict[str, Any]:
    params: dict[str, Any] = {"model": args.model, "messages": messages}
    if args.temperature is not None:
        params["temperature"] = args.temperature
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    return params


def _event_json(event: CompletionEvent) -> str:
    return event.data.model_dump_json(by_alias=True, exclude_unset=True)


def _stream_reply(
    client: Mistral, args: argparse.Namespace, messages: list[dict[str, Any]]
) -> _Turn:
    """Stream one reply to stdout; the stream is closed however this returns or raises."""
    turn = _Turn()
    try:
        with client.chat.stream(**_chat_params(args, messages)) as stream:
            _print_events(stream, args, turn)
    finally:
        # Whatever ended the reply, the next output (prompt, error) starts on a fresh line.
        if not args.json and turn.text and not turn.text[-1].endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
    return turn


def _print_events(stream: Iterable[CompletionEvent], args: argparse.Namespace, turn: _Turn) -> None:
    out = sys.stdout
    for event in stream:
        chunk = event.data
        if chunk.usage is not None:
            turn.usage = chunk.usage
        text = ""
        if chunk.choices:
            choice = chunk.choices[0]
            if choice.finish_reason is not None:
                turn.finish_reason = str(choice.finish_reason)
            content = choice.delta.content
            if isinstance(content, str):
                text = content
            elif content:  # content chunks (e.g. a reasoning model): keep the text parts
                text = "".join(getattr(part, "text", "") or "" for part in content)
        if text:
            turn.last_token = time.monotonic()
            if turn.first_token is None:
                turn.first_token = turn.last_token
            turn.tokens += 1
            turn.text.append(text)
        if args.json:
            out.write(_event_json(event) + "\n")
        elif text:
            out.write(text)
        else:
            continue
        out.flush()  # each token shows as soon as it arrives


def _reply_and_report(
    client: Mistral, args: argparse.Namespace, messages: list[dict[str, Any]]
) -> _Turn:
    turn = _stream_reply(client, args, messages)
    if not args.quiet:
        _say(turn.stats_line())
    return turn


def _interrupted_reply() -> None:
    # The `with` block has closed the stream, and _stream_reply ended the line.
    _say("reply interrupted")


def _cmd_chat(args: argparse.Namespace) -> int:
    embedded = {"tokens_per_second": EMBEDDED_TOKENS_PER_SECOND, "ttft": EMBEDDED_TTFT}
    with _target(args, **embedded) as target, target.client(args.retries) as client:
        system = [{"role": "system", "content": args.system}] if args.system else []
        if args.prompt is not None:
            messages = [*system, {"role": "user", "content": args.prompt}]
            try:
                _reply_and_report(client, args, messages)
            except KeyboardInterrupt:
                _interrupted_reply()
                return EXIT_INTERRUPTED
            return EXIT_OK
        return _repl(client, args, system)


def _repl(client: Mistral, args: argparse.Namespace, history: list[dict[str, Any]]) -> int:
    interactive = sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        if not args.quiet:
            _say(f"chatting with {args.model}; Ctrl-C stops a reply, Ctrl-D or /exit quits")
    prompt = "> " if interactive else ""
    status = EXIT_OK
    while True:
        try:
            line = input(prompt)
        except EOFError:
            if interactive:
                print()
            return status
        except KeyboardInterrupt:
            print()
            return EXIT_INTERRUPTED
        text = line.strip()
        if text in ("/exit", "/quit"):
            return status
        if not text:
            continue
        history.append({"role": "user", "content": line})
        try:
            turn = _reply_and_report(client, args, history)
        except KeyboardInterrupt:
            # An unfinished turn is forgotten, so the next prompt starts from a clean history.
            history.pop()
            _interrupted_reply()
            continue
        except MistralError as exc:
            history.pop()
            message, status = _describe(exc)
            _say(message)
            continue
        history.append({"role": "assistant", "content": "".join(turn.text)})


# ---------------------------------------------------------------- models, serve


def _cmd_models(args: argparse.Namespace) -> int:
    with _target(args) as target, target.client(args.retries) as client:
        listing = client.models.list()
    if args.json:
        print(listing.model_dump_json(by_alias=True, exclude_unset=True))
    else:
        for card in listing.data or []:
            print(card.id)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .devserver import FaultError, parse_faults, serve
    except ImportError as exc:
        raise _Fail(
            f"levante serve needs the server extra (pip install 'levante[server]'): {exc}",
            EXIT_USAGE,
        ) from None
    try:
        parse_faults(args.fault)
    except FaultError as exc:
        raise _Fail(f"--fault: {exc}", EXIT_USAGE) from None
    from .devserver import MODELS

    names = ", ".join(model.id for model in MODELS)
    _say(f"dev server models: {names} (and aliases); faults: X-Levante-Fault header")
    serve(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        tokens_per_second=args.tokens_per_second,
        ttft=args.ttft,
        faults=args.fault,
    )
    return EXIT_OK


# ---------------------------------------------------------------- bench


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class BenchResult:
    """What ``levante bench`` measured: one entry per successful request."""

    ttft: list[float] = field(default_factory=list)
    tokens_per_second: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


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
        result.errors.append(_describe(exc)[0])
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


def _bench_report(result: BenchResult, requests: int) -> str:
    rows = [f"{'':14}{'p50':>10}{'p90':>10}{'p99':>10}"]
    for label, values, scale in (
        ("ttft (ms)", result.ttft, 1000.0),
        ("tokens/s", result.tokens_per_second, 1.0),
    ):
        cells = "".join(f"{percentile(values, q) * scale:>10.1f}" for q in (50, 90, 99))
        rows.append(f"{label:14}{cells}")
    done = requests - len(result.errors)
    rate = result.tokens / result.elapsed if result.elapsed > 0 else 0.0
    rows.append(
        f"requests {done}/{requests} ok, errors {len(result.errors)}, "
        f"{result.elapsed:.2f} s, {rate:.0f} tokens/s overall"
    )
    return "\n".join(rows)


def _cmd_bench(args: argparse.Namespace) -> int:
    import anyio

    with _target(args) as target, target.client(args.retries) as client:
        model = args.model or (
            DEFAULT_BENCH_MODEL_EMBEDDED if target.embedded is not None else DEFAULT_MODEL
        )
        params: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": "Tell me about the levante wind"}],
            "max_tokens": args.max_tokens,
        }
        where = target.server_url or client.server_url
        if not args.quiet:
            _say(
                f"bench: {args.requests} requests, {args.concurrency} concurrent, "
                f"model {model}, max_tokens {args.max_tokens}, {where}"
            )

        async def main() -> BenchResult:
            try:
                return await run_bench(
                    client, params, concurrency=args.concurrency, requests=args.requests
                )
            finally:
                await client.aclose()

        result = anyio.run(main)
    print(_bench_report(result, args.requests), flush=True)
    if result.errors:
        _say(f"first error: {result.errors[0]}")
        return EXIT_API_ERROR
    return EXIT_OK


# ---------------------------------------------------------------- arguments


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server-url", help="base URL of a Mistral-compatible server ($MISTRAL_SERVER_URL)"
    )
    parser.add_argument("--api-key", help="API key (default: $MISTRAL_API_KEY)")
    parser.add_argument(
        "--retries",
        type=_non_negative_int,
        default=2,
        help="retries on connection errors and 429/5xx (2)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no notices or stats on stderr")


def build_parser() -> argparse.ArgumentParser:
    """The ``levante`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="levante",
        description="Stream chat completions from the Mistral API or levante's dev server.",
        epilog="Exit codes: 0 ok, 1 API or stream error, 2 usage error, 3 connection error, "
        "130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = commands.add_parser("chat", help="stream a reply (no PROMPT: interactive chat)")
    chat.add_argument("prompt", nargs="?", help="the message; omit it for an interactive chat")
    chat.add_argument("--model", "-m", default=DEFAULT_MODEL, help=f"model ({DEFAULT_MODEL})")
    chat.add_argument("--system", "-s", help="a system message")
    chat.add_argument("--temperature", "-t", type=_non_negative_float)
    chat.add_argument("--max-tokens", type=_positive_int)
    chat.add_argument("--json", action="store_true", help="print raw chunks as JSON lines")
    _connection_options(chat)

    serve = commands.add_parser("serve", help="run the Mistral-compatible dev server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--api-key", help="require this key (Authorization: Bearer ...)")
    serve.add_argument("--tokens-per-second", type=_non_negative_float, default=None)
    serve.add_argument("--ttft", type=_non_negative_float, default=0.0, help="seconds")
    serve.add_argument(
        "--fault", help="an X-Levante-Fault value for requests that do not send the header"
    )

    models = commands.add_parser("models", help="list model ids")
    models.add_argument("--json", action="store_true", help="print the whole model list as JSON")
    _connection_options(models)

    bench = commands.add_parser("bench", help="TTFT and tokens/s percentiles")
    bench.add_argument("--model", "-m", help="model (embedded: levante-long)")
    bench.add_argument("--concurrency", "-c", type=_positive_int, default=8)
    bench.add_argument("--requests", "-n", type=_positive_int, default=64)
    bench.add_argument("--max-tokens", type=_positive_int, default=128)
    _connection_options(bench)
    return parser


_COMMANDS = {"chat": _cmd_chat, "serve": _cmd_serve, "models": _cmd_models, "bench": _cmd_bench}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``levante`` command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if getattr(args, "tokens_per_second", None) == 0:
        args.tokens_per_second = None  # 0 reads as "no pacing"
    try:
        return _COMMANDS[args.command](args)
    except _Fail as exc:
        _say(str(exc))
        return exc.code
    except MistralError as exc:
        message, code = _describe(exc)
        _say(message)
        return code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (e.g. piped into `head`): stop quietly, and keep Python's
        # final flush of the dead pipe from printing a traceback.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_API_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
