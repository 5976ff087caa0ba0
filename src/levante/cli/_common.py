"""What every command shares: exit codes, one-line messages, and where requests go."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import (
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
from ._args import check_api_key, check_server_url

if TYPE_CHECKING:
    from ..client import Mistral

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_INTERRUPTED = 130


class Fail(Exception):
    """An expected failure: print ``message`` and exit with ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def colour_allowed(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal and ``NO_COLOR`` (https://no-color.org) is unset."""
    return bool(stream.isatty() and not os.environ.get("NO_COLOR"))


def say(message: str, *, dim: bool = False) -> None:
    """One ``levante: ...`` line on stderr, dimmed if asked and stderr takes colour
    (lost quietly if stderr is gone)."""
    line = f"levante: {message}"
    if sys.stderr.isatty():  # break at spaces, not wherever the terminal's edge falls
        import shutil
        import textwrap

        line = textwrap.fill(line, shutil.get_terminal_size().columns, break_on_hyphens=False)
    if dim and colour_allowed(sys.stderr):
        line = f"\x1b[2m{line}\x1b[0m"
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that a closed pipe is not flushed again at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


_KIND = (
    (AuthenticationError, "authentication failed"),
    (PermissionDeniedError, "permission denied"),
    (NotFoundError, "not found"),
    (HTTPValidationError, "invalid request"),
    (RateLimitError, "rate limited"),
    (BadRequestError, "bad request"),
    (InternalServerError, "server error"),
)


def describe(exc: MistralError) -> tuple[str, int]:
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


@dataclass
class Target:
    """Where requests go: a server URL and key, and the embedded server when we started one."""

    server_url: str | None
    api_key: str | None
    embedded: Any = None

    def client(self, retries: int, **options: Any) -> Mistral:
        """A client for this target (``options`` go to :class:`~levante.Mistral`)."""
        from ..client import Mistral

        try:
            return Mistral(
                api_key=self.api_key, server_url=self.server_url, retries=retries, **options
            )
        except (TypeError, ValueError) as exc:  # the client's own checks of the same values
            raise Fail(str(exc), EXIT_USAGE) from None


def _from_env(name: str, check: Callable[[str], str]) -> str | None:
    value = os.environ.get(name) or None
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise Fail(f"{name}: {exc}", EXIT_USAGE) from None


@contextlib.contextmanager
def target(args: argparse.Namespace, **embedded_options: Any) -> Iterator[Target]:
    """The target of ``args``; an embedded dev server (``embedded_options``) when none."""
    api_key = args.api_key or _from_env("MISTRAL_API_KEY", check_api_key)
    server_url = args.server_url or _from_env("MISTRAL_SERVER_URL", check_server_url)
    if server_url or api_key:
        yield Target(server_url, api_key)
        return
    try:
        from ..devserver import EmbeddedServer
    except ImportError as exc:
        raise Fail(
            f"no MISTRAL_API_KEY and no --server-url, and the embedded dev server needs the "
            f"server extra (pip install 'levante[server]'): {exc}",
            EXIT_USAGE,
        ) from None
    with EmbeddedServer(**embedded_options) as server:
        if not getattr(args, "quiet", False):
            say(f"no MISTRAL_API_KEY: using the built-in dev server at {server.url}")
        yield Target(server.url, None, server)
