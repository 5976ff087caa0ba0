"""``levante serve``: the Mistral-compatible dev server in the foreground."""

from __future__ import annotations

import argparse
import socket

from ._common import EXIT_OK, EXIT_USAGE, Fail, say


def _check_address(host: str, port: int) -> None:
    """Fail in one line, before uvicorn logs a bind error, if ``host:port`` is unusable."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise Fail(f"cannot listen on {host}:{port}: {reason}", EXIT_USAGE) from None


def run(args: argparse.Namespace) -> int:
    """Run ``levante serve`` until Ctrl-C."""
    _check_address(args.host, args.port)  # first: it needs no import
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
        strict_models=args.strict_models,
    )
    return EXIT_OK
