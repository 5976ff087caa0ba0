"""A generic, resumable event stream for reconnection tests: ``GET /_levante/events``.

Query: ``n`` events in all (default 10), ``retry`` the reconnection delay announced in
milliseconds (default 100), ``after`` to start after an id without claiming a resume.
Each event is ``id: K`` / ``event: tick`` / ``data: {"seq": K, "text": ...}`` with ``K``
from 1 to ``n``; the first event of every response also carries ``retry: <ms>``.  The
body ends after event ``n`` (no end marker: the end of the body is the end).

A request carrying ``Last-Event-ID`` (or, as the workflow streams accept it, a
``last_event_id`` query parameter; the header wins) resumes after that id; one resuming
at or past the end gets ``204 No Content``, which tells a client to stop reconnecting.
Every request's cursor is recorded (``GET /_levante/resumes``).  ``X-Levante-Fault``
applies: ``disconnect-after=K`` cuts each connection after ``K`` events, so a client that
reconnects with ``Last-Event-ID`` gets the whole sequence over several connections.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response

from .. import wire
from ..context import Context, Reject, begin
from ..streaming import EventStream

__all__ = ["events", "query_int", "resume_after"]

_WORDS = ("levante", "poniente", "mistral", "tramontana", "sirocco", "bora", "gregale")


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """The whole-number query parameter ``name`` within ``[low, high]`` (else 422)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        detail = [{"type": "value_error", "loc": ["query", name], "msg": f"{low}..{high}"}]
        message = f"{name}: expected a whole number from {low} to {high}, got {raw!r}"
        raise Reject(422, message, "invalid_request_error", detail=detail)
    return int(raw)


def resume_after(ctx: Context, request: Request, *, header: bool = True) -> str | None:
    """The resume cursor of a stream request (``Last-Event-ID`` header, else the
    ``last_event_id`` query parameter), recorded in the app state either way."""
    cursor = request.headers.get("last-event-id") if header else None
    if cursor is None:
        cursor = request.query_params.get("last_event_id")
    ctx.state.resumes.append({"path": request.url.path, "last_event_id": cursor})
    return cursor


def _ticks(first: int, last: int, retry: int) -> Iterator[bytes]:
    for seq in range(first, last + 1):
        data = json.dumps({"seq": seq, "text": _WORDS[seq % len(_WORDS)]})
        head = f"retry: {retry}\n" if seq == first else ""
        yield f"{head}id: {seq}\nevent: tick\ndata: {data}\n\n".encode()


def _error_block() -> bytes:
    error = wire.error_body("Internal server error (injected)", "internal_server_error", "3000")
    return b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"


async def events(request: Request) -> Response:
    """``GET /_levante/events``."""
    ctx = await begin(request, needs_body=False)
    count = query_int(request, "n", 10, 0, 1_000_000)
    retry = query_int(request, "retry", 100, 0, 3_600_000)
    start = query_int(request, "after", 0, 0, 1_000_000)
    cursor = resume_after(ctx, request)
    if cursor is not None and cursor.isdigit():
        start = max(start, int(cursor))
    if cursor is not None and start >= count:
        return Response(status_code=204)
    return EventStream(ctx, _ticks(start + 1, count, retry), None, _error_block)
