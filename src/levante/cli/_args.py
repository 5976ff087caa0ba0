"""The ``levante`` argument parser, and the checks of URLs and keys it shares.

Building the parser imports argparse and nothing of levante's client: ``levante --help``
and ``levante --version`` start in tens of milliseconds.  A bad argument is a one-line
usage error (exit 2), never argparse's multi-line usage dump and never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os

from .. import __version__

TYPE_CHECKING = False  # not typing's: importing typing would slow --help by ~10 ms

if TYPE_CHECKING:
    from typing import NoReturn

DEFAULT_MODEL = "mistral-small-latest"
EXIT_CODES = (
    "exit codes: 0 ok (also when stdout closes early), 1 API or stream error, "
    "2 usage error, 3 connection error, 130 interrupted (Ctrl-C)"
)


class UsageError(Exception):
    """A bad argument; the message is one line, shown as ``levante: ...`` (exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line naming the command's ``--help``."""

    def error(self, message: str) -> NoReturn:
        message = message.replace("the following arguments are required: ", "missing ")
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _Formatter(argparse.HelpFormatter):
    """Append ``(default: ...)`` to every option that has a default worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default:" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


# ---------------------------------------------------------------- values


def check_server_url(text: str) -> str:
    """``text`` as a base URL, or :class:`ValueError` with a one-line reason.

    A trailing ``/v1`` (how OpenAI-style servers are often written) is dropped, since
    levante adds ``/v1/...`` to the base URL itself.
    """
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(f"{text!r} is not a URL (it contains spaces or control characters)")
    from urllib.parse import urlsplit  # here, not at the top: --help need not pay for it

    if "://" not in text:
        raise ValueError(f"{text!r} has no scheme; did you mean 'http://{text}'?")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"unsupported scheme {parts.scheme!r} in {text!r}: use http:// or https://"
        )
    try:
        parts.port  # noqa: B018  (parsing the port is the check)
    except ValueError:
        raise ValueError(f"{text!r} has a bad port") from None
    if not parts.hostname:
        raise ValueError(f"{text!r} has no host")
    if parts.query or parts.fragment:
        raise ValueError(f"{text!r}: a base URL takes no query or fragment")
    url = text.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def check_api_key(text: str) -> str:
    """``text`` as an API key (it travels in an HTTP header), or :class:`ValueError`."""
    if not text:
        raise ValueError("is empty")
    bad = next((ch for ch in text if not (ch.isascii() and ch.isprintable()) or ch == " "), None)
    if bad is not None:
        raise ValueError(f"an API key is printable ASCII without spaces, and this one has {bad!r}")
    return text


def _server_url(text: str) -> str:
    try:
        return check_server_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _api_key(text: str) -> str:
    try:
        return check_api_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str, kind: type[int] | type[float], low: float, strict: bool) -> float:
    try:
        value = float(kind(text))
    except ValueError:
        value = math.nan
    ok = math.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(
            f"must be {what} {'>' if strict else '>='} {low:g}, got {text!r}"
        )
    return value


def positive_int(text: str) -> int:
    """An argparse type: an int > 0."""
    return int(_number(text, int, 0, strict=True))


def non_negative_int(text: str) -> int:
    """An argparse type: an int >= 0."""
    return int(_number(text, int, 0, strict=False))


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    return _number(text, float, 0, strict=True)


def non_negative_float(text: str) -> float:
    """An argparse type: a finite float >= 0."""
    return _number(text, float, 0, strict=False)


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text!r}")
    return value


# ---------------------------------------------------------------- the parser


def default_history() -> str:
    """``$XDG_STATE_HOME/levante/chat_history`` (``~/.local/state`` when unset)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join("~", ".local", "state")
    return os.path.join(state, "levante", "chat_history")


def connection_options(parser: argparse.ArgumentParser, *, retries: int = 2) -> None:
    """``--server-url``, ``--api-key``, ``--retries`` and ``--quiet``."""
    parser.add_argument(
        "--server-url",
        type=_server_url,
        metavar="URL",
        help="base URL of a Mistral-compatible server; a trailing /v1 is accepted "
        "(default: $MISTRAL_SERVER_URL, else the Mistral API when a key is set, "
        "else a built-in dev server)",
    )
    parser.add_argument(
        "--api-key", type=_api_key, metavar="KEY", help="API key (default: $MISTRAL_API_KEY)"
    )
    parser.add_argument(
        "--retries",
        type=non_negative_int,
        default=retries,
        metavar="N",
        help="retries on connection errors and 429/5xx responses",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no notices or stats on stderr")


def _chat_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    chat = commands.add_parser(
        "chat",
        help="stream a reply (no PROMPT: an interactive chat)",
        description="Stream a chat reply to stdout. Without PROMPT: an interactive chat, "
        "or, when stdin is piped, stdin is the prompt.",
        formatter_class=_Formatter,
        epilog=EXIT_CODES,
    )
    chat.add_argument("prompt", nargs="?", help="the message; omit it for an interactive chat")
    chat.add_argument("--model", "-m", default=DEFAULT_MODEL, help="model id")
    chat.add_argument("--system", "-s", metavar="TEXT", help="a system message (default: none)")
    chat.add_argument(
        "--temperature",
        "-t",
        type=non_negative_float,
        help="sampling temperature (default: the server's)",
    )
    chat.add_argument(
        "--max-tokens", type=positive_int, metavar="N", help="reply length cap (default: none)"
    )
    chat.add_argument("--json", action="store_true", help="print raw chunks as JSON lines")
    chat.add_argument(
        "--plain",
        action="store_true",
        help="write replies as they arrive: no Markdown, colour or wrapping "
        "(default when stdout is not a terminal or NO_COLOR is set)",
    )
    chat.add_argument(
        "--history",
        metavar="FILE",
        default=default_history(),
        help="where the interactive chat keeps what you typed, across sessions ('' for nowhere)",
    )
    connection_options(chat)


def _serve_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the Mistral-compatible dev server",
        description="Run levante's Mistral-compatible dev server until Ctrl-C.",
        formatter_class=_Formatter,
        epilog=EXIT_CODES,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=port, default=8000, help="port to listen on")
    serve.add_argument(
        "--api-key",
        type=_api_key,
        metavar="KEY",
        help="require this key (Authorization: Bearer KEY) (default: any key or none)",
    )
    serve.add_argument(
        "--tokens-per-second",
        type=non_negative_float,
        metavar="RATE",
        help="pace of streamed tokens per stream (default: unpaced, as fast as possible)",
    )
    serve.add_argument(
        "--ttft",
        type=non_negative_float,
        default=0.0,
        metavar="SECONDS",
        help="delay before the first token",
    )
    serve.add_argument(
        "--fault",
        metavar="SPEC",
        help="an X-Levante-Fault value for requests that send no such header (default: none)",
    )
    serve.add_argument(
        "--strict-models",
        action="store_true",
        help="refuse unknown model names with the API's 400 invalid_model "
        "(default: any name is served by levante-chat)",
    )


def _models_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    models = commands.add_parser(
        "models",
        help="list model ids",
        description="List the model ids a server offers.",
        formatter_class=_Formatter,
        epilog=EXIT_CODES,
    )
    models.add_argument("--json", action="store_true", help="print the whole model list as JSON")
    connection_options(models)


def _bench_load_options(load: argparse._ArgumentGroup) -> None:
    load.add_argument(
        "--concurrency",
        "-c",
        type=positive_int,
        default=8,
        metavar="N",
        help="requests in flight at most",
    )
    load.add_argument(
        "--requests", "-n", type=positive_int, metavar="N",
        help="requests to send (default: 64, or no limit with --duration)",
    )  # fmt: skip
    load.add_argument(
        "--duration", type=positive_float, metavar="SECONDS",
        help="stop sending after this long; requests in flight finish (default: no limit)",
    )  # fmt: skip
    load.add_argument(
        "--rate", type=positive_float, metavar="PER_SECOND",
        help="requests per second, Poisson arrivals (default: as fast as --concurrency "
        "allows)",
    )  # fmt: skip
    load.add_argument(
        "--warmup", type=non_negative_int, default=1, metavar="N",
        help="requests sent first and not counted",
    )  # fmt: skip
    load.add_argument("--seed", type=int, default=0, help="seed of prompts and arrivals")
    load.add_argument(
        "--timeout", type=positive_float, default=60.0, metavar="SECONDS",
        help="per-request timeout (reads and connects)",
    )  # fmt: skip


def _bench_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    bench = commands.add_parser(
        "bench",
        help="load-test a server: latency percentiles and throughput",
        description="Send streamed chats to a Mistral- or OpenAI-compatible server and "
        "report TTFT, ITL, TPOT and end-to-end latency (mean, p50, p90, p95, p99, max), "
        "requests/s and tokens/s. Without a server: the built-in dev server, paced like a "
        "model.",
        formatter_class=_Formatter,
        epilog=EXIT_CODES + "; bench exits 3 also when the key is refused",
    )
    bench.add_argument(
        "--model", "-m", help="model id (default: levante-long on the dev server, else "
        f"{DEFAULT_MODEL})",
    )  # fmt: skip
    _bench_load_options(bench.add_argument_group("load"))
    prompts = bench.add_argument_group("prompts").add_mutually_exclusive_group()
    prompts.add_argument(
        "--prompt-file", metavar="FILE", help="prompts, one per line, used in turn "
        "(default: synthetic prompts)",
    )  # fmt: skip
    prompts.add_argument(
        "--prompt-tokens", type=positive_int, default=64, metavar="N",
        help="words in each synthetic prompt (the server's usage gives the tokens)",
    )  # fmt: skip
    bench.add_argument(
        "--max-tokens", type=positive_int, default=128, metavar="N", help="reply length cap"
    )
    bench.add_argument("--json", action="store_true", help="print the report as JSON")
    dev = bench.add_argument_group("built-in dev server (when no server is given)")
    dev.add_argument(
        "--dev-ttft", type=non_negative_float, default=0.2, metavar="SECONDS",
        help="its delay before the first token",
    )  # fmt: skip
    dev.add_argument(
        "--dev-tokens-per-second", type=non_negative_float, default=50.0, metavar="RATE",
        help="its pace per stream (0: unpaced)",
    )  # fmt: skip
    connection_options(bench, retries=0)


def build_parser() -> argparse.ArgumentParser:
    """The ``levante`` argument parser."""
    parser = _Parser(
        prog="levante",
        description="Stream chat completions from the Mistral API or any server speaking "
        "its wire format; run a dev server; load-test a server.",
        formatter_class=_Formatter,
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"levante {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    _chat_parser(commands)
    _serve_parser(commands)
    _models_parser(commands)
    _bench_parser(commands)
    return parser
