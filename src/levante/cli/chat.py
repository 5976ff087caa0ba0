"""``levante chat``: stream one reply, or chat interactively (see :mod:`.repl`).

The message is PROMPT when given; else, when stdin is piped, all of stdin (one message,
however many lines); else the interactive chat.
"""

from __future__ import annotations

import argparse
import sys

from ._common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Fail, say, target
from ._render import choose_renderer
from ._reply import Turn, chat_params, report, stream_reply
from .repl import repl

#: The embedded server's pace for ``chat``: visible streaming, a demo of a few seconds.
EMBEDDED_TOKENS_PER_SECOND = 50.0
EMBEDDED_TTFT = 0.2


def _message(args: argparse.Namespace) -> str | None:
    if args.prompt is not None:
        return str(args.prompt)
    if sys.stdin.isatty():
        return None
    text = sys.stdin.read()
    if not text.strip():
        raise Fail("nothing to send: no PROMPT, and stdin is empty", EXIT_USAGE)
    return text


def run(args: argparse.Namespace) -> int:
    """Run ``levante chat``."""
    message = _message(args)
    embedded = {"tokens_per_second": EMBEDDED_TOKENS_PER_SECOND, "ttft": EMBEDDED_TTFT}
    with target(args, **embedded) as where, where.client(args.retries) as client:
        if message is None:
            return repl(client, args)
        system = [{"role": "system", "content": args.system}] if args.system else []
        params = chat_params(args, args.model, [*system, {"role": "user", "content": message}])
        turn = Turn()
        try:
            stream_reply(client, params, turn, choose_renderer(args.plain), json_lines=args.json)
        except KeyboardInterrupt:
            say("reply interrupted")
            return EXIT_INTERRUPTED
        report(turn, args)
        return EXIT_OK
