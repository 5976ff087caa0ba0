"""Workflow streams: GET streams of events and logs that end at the end of the body.

Paths and parameters are the official SDK's; every event has an SSE ``id`` (its sequence
number, from 0) and a stream resumes after the id given as ``Last-Event-ID`` header or
``last_event_id`` query parameter (the header wins; the cursor is recorded, see
``/_levante/resumes``).  Event payloads: :mod:`levante.devserver.workflows`.  An
injected error (``error-after``) is ``event: error`` with ``{"error", "reason"}``.

- ``GET /v1/workflows/executions/{execution_id}/stream`` (``event_source``,
  ``last_event_id``): ``event: workflow.event`` per event of the execution;
- ``GET /v1/workflows/events/stream`` (``workflow_exec_id``, ``root_workflow_exec_id`` or
  ``parent_workflow_exec_id`` names the execution, one is required; ``start_seq``,
  ``workflow_event_types`` filter; ``last-event-id`` header): the same events;
- ``GET /v1/workflows/executions/{execution_id}/logs/stream`` (``run_id``,
  ``activity_id``, ``after``, ``last_event_id``): ``event: log`` per log record;
- ``GET /v1/workflows/deployments/{name}/logs/stream`` (``worker_name``,
  ``workflow_name``, ``after``, ``last_event_id``): ``event: log`` per log record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import Context, Reject, begin
from ..streaming import EventStream
from ..workflows import WORKFLOW_NAME, Execution, execution, log_time
from .events import query_int, resume_after

__all__ = ["deployment_logs", "events_stream", "execution_logs", "execution_stream"]

_SOURCES = ("DATABASE", "LIVE", "HYBRID")


def _invalid_query(name: str, message: str) -> Reject:
    detail = [{"type": "value_error", "loc": ["query", name], "msg": message}]
    return Reject(422, f"{name}: {message}", "invalid_request_error", detail=detail)


def _block(seq: int, event: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, separators=(",", ":"))
    return f"id: {seq}\nevent: {event}\ndata: {payload}\n\n".encode()


def _error_block() -> bytes:
    error = {"error": "Internal server error (injected)", "reason": "internal_error"}
    return b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"


def _first(ctx: Context, request: Request, start: int = 0) -> int:
    """The first sequence number to send: after the resume cursor, else ``start``."""
    cursor = resume_after(ctx, request)
    if cursor is None:
        return start
    if not cursor.isdigit():
        raise _invalid_query("last_event_id", f"not an id this server gave: {cursor!r}")
    return int(cursor) + 1


def _stream(ctx: Context, blocks: Iterator[bytes]) -> Response:
    return EventStream(ctx, blocks, None, _error_block)


def _event_blocks(run: Execution, first: int, keep: Callable[[str], bool]) -> Iterator[bytes]:
    for seq in range(first, run.event_count()):
        payload = run.payload(seq)
        if keep(payload["data"]["event_type"]):
            yield _block(seq, "workflow.event", payload)


async def execution_stream(request: Request) -> Response:
    """``GET /v1/workflows/executions/{execution_id}/stream``."""
    ctx = await begin(request, needs_body=False)
    source = request.query_params.get("event_source")
    if source is not None and source not in _SOURCES:
        raise _invalid_query("event_source", f"expected one of {', '.join(_SOURCES)}")
    run = execution(request.path_params["execution_id"])
    return _stream(ctx, _event_blocks(run, _first(ctx, request), lambda _: True))


async def events_stream(request: Request) -> Response:
    """``GET /v1/workflows/events/stream``."""
    ctx = await begin(request, needs_body=False)
    names = ("workflow_exec_id", "root_workflow_exec_id", "parent_workflow_exec_id")
    given = [request.query_params.get(name, "*") for name in names]
    exec_id = next((value for value in given if value != "*"), None)
    if exec_id is None:
        message = "one of root_workflow_exec_id, parent_workflow_exec_id or workflow_exec_id"
        raise _invalid_query("workflow_exec_id", f"{message} is required")
    types = set(request.query_params.getlist("workflow_event_types"))
    start = query_int(request, "start_seq", 0, 0, 10**9)
    first = _first(ctx, request, start)
    run = execution(exec_id)
    return _stream(ctx, _event_blocks(run, first, lambda kind: not types or kind in types))


def _after(request: Request) -> datetime | None:
    raw = request.query_params.get("after")
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_query("after", f"expected an ISO 8601 time, got {raw!r}") from None


def _log_blocks(
    run: Execution, first: int, after: datetime | None, attributes: dict[str, str], keep: str
) -> Iterator[bytes]:
    for seq in range(first, run.event_count()):
        if after is not None and log_time(seq) <= after:
            continue
        record = run.log(seq, attributes)
        if keep in ("", record["log_attributes"]["activity_id"]):
            yield _block(seq, "log", record)


async def execution_logs(request: Request) -> Response:
    """``GET /v1/workflows/executions/{execution_id}/logs/stream``."""
    ctx = await begin(request, needs_body=False)
    run = execution(request.path_params["execution_id"])
    after = _after(request)
    first = _first(ctx, request)
    run_id = request.query_params.get("run_id")
    if run_id is not None and run_id != run.run_id:
        return _stream(ctx, iter(()))  # no such run: nothing to tail
    activity = request.query_params.get("activity_id", "")
    return _stream(ctx, _log_blocks(run, first, None if first else after, {}, activity))


async def deployment_logs(request: Request) -> Response:
    """``GET /v1/workflows/deployments/{name}/logs/stream``."""
    ctx = await begin(request, needs_body=False)
    name = request.path_params["name"]
    after = _after(request)
    first = _first(ctx, request)
    worker = request.query_params.get("worker_name") or f"{name}-worker-1"
    workflow = request.query_params.get("workflow_name") or WORKFLOW_NAME
    attributes = {"deployment": name, "worker_name": worker, "workflow_name": workflow}
    blocks = _log_blocks(execution("exec-3"), first, None if first else after, attributes, "")
    return _stream(ctx, blocks)
