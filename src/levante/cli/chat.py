"""``levante chat``: stream one reply, or chat interactively (see :mod:`.repl`)."""

from __future__ import annotations

import argparse

from ._common import EXIT_INTERRUPTED, EXIT_OK, target
from ._reply import interrupted_reply, reply_and_report
from .repl import repl

#: The embedded server's pace for ``chat``: visible streaming, a demo of a few seconds.
EMBEDDED_TOKENS_PER_SECOND = 50.0
EMBEDDED_TTFT = 0.2


def run(args: argparse.Namespace) -> int:
    """Run ``levante chat``."""
    embedded = {"tokens_per_second": EMBEDDED_TOKENS_PER_SECOND, "ttft": EMBEDDED_TTFT}
    with target(args, **embedded) as where, where.client(args.retries) as client:
        system = [{"role": "system", "content": args.system}] if args.system else []
        if args.prompt is not None:
            messages = [*system, {"role": "user", "content": args.prompt}]
            try:
                reply_and_report(client, args, messages)
            except KeyboardInterrupt:
                interrupted_reply()
                return EXIT_INTERRUPTED
            return EXIT_OK
        return repl(client, args, system)
