"""The entry point: parse the arguments, run one command, turn every way out into an exit code.

Rules this module keeps:

- It imports nothing heavy at module level, so the console script reaches :func:`main`
  in milliseconds, and :func:`main` takes over Ctrl-C before anything slow is imported:
  a Ctrl-C at any moment after that (an import, a request, cleanup) exits 130 quietly.
- An expected failure is one ``levante: ...`` line on stderr; a traceback means a bug.
- Output never fails on encoding (unencodable characters are replaced), and a closed
  stdout (``levante ... | head``) ends the command quietly with exit 0.
"""

from __future__ import annotations

import functools
import os
import signal
import sys

from ._signals import Interrupted, take_over_ctrl_c

TYPE_CHECKING = False  # not typing's: that import alone would slow the start by ~10 ms
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _quietly(action: Callable[[], object]) -> None:
    try:  # noqa: SIM105  (contextlib would be one more import before main)
        action()
    except (OSError, ValueError):  # a closed or detached stream: leave it
        pass


def _tolerant_stdio() -> None:
    # PYTHONIOENCODING=latin-1 or a C locale must not turn a reply into a traceback.
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            _quietly(functools.partial(stream.reconfigure, errors="replace"))


def _dispatch(command: str) -> Callable[[argparse.Namespace], int]:
    # One module per command, imported only when that command runs.
    if command == "chat":
        from . import chat

        return chat.run
    if command == "serve":
        from . import serve

        return serve.run
    if command == "models":
        from . import models

        return models.run
    from . import bench

    return bench.run


def _run(argv: Sequence[str] | None) -> int:
    from ._args import UsageError, build_parser

    args, extra = build_parser().parse_known_args(argv)
    if extra:  # reported here, where the command is known, rather than by the top parser
        raise UsageError(
            f"unrecognized arguments: {' '.join(extra)} (see 'levante {args.command} --help')"
        )
    return _dispatch(args.command)(args)


def _exit_code(exc: BaseException) -> int:
    """The exit code for ``exc``, after saying what went wrong; re-raises a bug."""
    if isinstance(exc, SystemExit):  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if Interrupted.seen or isinstance(exc, KeyboardInterrupt):
        if sys.stderr.isatty():
            print(file=sys.stderr)  # the shell's prompt starts on its own line, after "^C"
        return EXIT_INTERRUPTED
    from ..errors import MistralError
    from ._args import UsageError
    from ._common import Fail, describe, say, silence_stdout

    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return EXIT_OK
    if isinstance(exc, UsageError):
        say(str(exc))
        return EXIT_USAGE
    if isinstance(exc, Fail):
        say(str(exc))
        return exc.code
    if isinstance(exc, MistralError):
        message, code = describe(exc)
        say(message)
        return code
    raise exc


def _guarded(argv: Sequence[str] | None) -> int:
    try:
        _tolerant_stdio()
        return _run(argv)
    except BaseException as exc:  # every way out gets an exit code; a bug is re-raised
        return _exit_code(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``levante`` command line with ``argv``; returns the exit code.

    For calling in-process (tests, scripts): the SIGINT handler is restored on return.
    """
    restore = take_over_ctrl_c()
    try:
        return _guarded(argv)
    finally:
        restore()


def run() -> None:
    """The ``levante`` console script: run the command line, then exit with its code."""
    try:
        take_over_ctrl_c()
        code = _guarded(None)
        # From here on a Ctrl-C (say, while the interpreter shuts down) ends the process
        # silently instead of printing a traceback from wherever it lands.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    except BaseException as exc:  # a Ctrl-C inside the handlers of _guarded itself
        if not (Interrupted.seen or isinstance(exc, KeyboardInterrupt)):
            raise
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:
        # Everything was closed on the way out. Leave now: a KeyboardInterrupt that crossed
        # native code (pydantic-core's import runs Python through PyRun_String) makes
        # CPython's normal exit kill the process with SIGINT instead of returning 130.
        for stream in (sys.stdout, sys.stderr):
            _quietly(stream.flush)
        os._exit(EXIT_INTERRUPTED)
    sys.exit(code)
