"""The interactive ``levante chat``: a prompt, a history, one streamed reply per turn."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING, Any

from ..errors import MistralError
from ._common import EXIT_INTERRUPTED, EXIT_OK, describe, say
from ._reply import interrupted_reply, reply_and_report

if TYPE_CHECKING:
    from ..client import Mistral


def repl(client: Mistral, args: argparse.Namespace, history: list[dict[str, Any]]) -> int:
    """Chat until Ctrl-D, ``/exit`` or Ctrl-C at the prompt; returns the exit code."""
    interactive = sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        if not args.quiet:
            say(f"chatting with {args.model}; Ctrl-C stops a reply, Ctrl-D or /exit quits")
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
            turn = reply_and_report(client, args, history)
        except KeyboardInterrupt:
            # An unfinished turn is forgotten, so the next prompt starts from a clean history.
            history.pop()
            interrupted_reply()
            continue
        except MistralError as exc:
            history.pop()
            message, status = describe(exc)
            say(message)
            continue
        history.append({"role": "assistant", "content": "".join(turn.text)})
