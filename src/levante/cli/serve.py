"""``levante serve``: the Mistral-compatible dev server in the foreground."""

from __future__ import annotations

import argparse

from ._common import EXIT_OK, EXIT_USAGE, Fail, say


def run(args: argparse.Namespace) -> int:
    """Run ``levante serve`` until Ctrl-C."""
    try:
        from ..devserver import MODELS, FaultError, parse_faults, serve
    except ImportError as exc:
        raise Fail(
            f"levante serve needs the server extra (pip install 'levante[server]'): {exc}",
            EXIT_USAGE,
        ) from None
    try:
        parse_faults(args.fault)
    except FaultError as exc:
        raise Fail(f"--fault: {exc}", EXIT_USAGE) from None
    names = ", ".join(model.id for model in MODELS)
    say(f"dev server models: {names} (and aliases); faults: X-Levante-Fault header")
    serve(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        tokens_per_second=args.tokens_per_second,
        ttft=args.ttft,
        faults=args.fault,
    )
    return EXIT_OK
