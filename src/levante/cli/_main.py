"""The entry point: parse the arguments, run one command, turn failures into exit codes."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from ..errors import MistralError
from ._common import EXIT_API_ERROR, EXIT_INTERRUPTED, Fail, describe, say


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``levante`` command line; returns the exit code."""
    from ._args import build_parser

    args = build_parser().parse_args(argv)
    if getattr(args, "tokens_per_second", None) == 0:
        args.tokens_per_second = None  # 0 reads as "no pacing"
    try:
        command = _dispatch(args.command)
        return command(args)
    except Fail as exc:
        say(str(exc))
        return exc.code
    except MistralError as exc:
        message, code = describe(exc)
        say(message)
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


def run() -> None:
    """The ``levante`` console script: :func:`main`, then exit with its code."""
    sys.exit(main())
