"""The ``levante`` argument parser (argparse only: building it imports nothing heavy)."""

from __future__ import annotations

import argparse
import math

DEFAULT_MODEL = "mistral-small-latest"


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
