"""Workflow streams of the official SDK: execution events, execution logs, deployment logs.

Each stream yields, per SSE event, its ``event`` type, ``id`` (the last event id, for
resuming with ``last_event_id``), ``retry`` and typed ``data`` (``None`` for an event
without data lines), as the official SDK does:

- :func:`decode_workflow_event` for ``workflows.executions.stream`` and
  ``workflows.events.get_stream_events``: ``data`` is a :class:`StreamEventSsePayload`
  (an execution event typed by its ``event_type``, see
  :mod:`levante.models.workflow_events`) or a :class:`WorkflowStreamError`;
- :func:`decode_workflow_log_event` for ``executions.stream_workflow_execution_logs`` and
  :func:`decode_deployment_log_event` for ``deployments.stream_deployment_logs``: ``data``
  is a log record, or a :class:`WorkflowStreamError` on ``event: error``.

One JSON parse per event; data levante cannot type is kept in
:class:`UnknownWorkflowStreamData` instead of failing the stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from ._base import MistralModel, Nullable
from ._events import UnknownEventData, decode_open_union, wrap_event
from .workflow_events import WorkflowEvent

__all__ = [
    "DeploymentLogRecord",
    "DeploymentLogsStreamEvent",
    "ExecutionLogRecord",
    "GetStreamEventsV1WorkflowsEventsStreamGetResponseBody",
    "StreamDeploymentLogsResponseBody",
    "StreamEventSsePayload",
    "StreamEventWorkflowContext",
    "StreamV1WorkflowsExecutionsExecutionIDStreamGetResponseBody",
    "StreamWorkflowExecutionLogsResponseBody",
    "UnknownWorkflowStreamData",
    "WorkflowEventsStreamEvent",
    "WorkflowLogsStreamEvent",
    "WorkflowStreamError",
    "decode_deployment_log_event",
    "decode_workflow_event",
    "decode_workflow_log_event",
]


class WorkflowStreamError(MistralModel):
    """The ``data`` of an ``event: error``: what went wrong and why."""

    error: str
    reason: str


class StreamEventWorkflowContext(MistralModel):
    """Which workflow execution an event belongs to."""

    namespace: str
    workflow_name: str
    workflow_exec_id: str
    parent_workflow_exec_id: Nullable[str] = None
    root_workflow_exec_id: Nullable[str] = None


class StreamEventSsePayload(MistralModel):
    """One workflow event as streamed: the execution event in ``data``, its context and
    its position in the stream (``broker_sequence``)."""

    stream: str
    data: WorkflowEvent
    workflow_context: StreamEventWorkflowContext
    broker_sequence: int
    timestamp: datetime | None = None
    metadata: dict[str, Any] | None = None


class ExecutionLogRecord(MistralModel):
    """One log line of a workflow execution."""

    timestamp: datetime
    trace_id: str
    span_id: str
    severity_text: str
    body: str
    log_attributes: dict[str, str]


class DeploymentLogRecord(ExecutionLogRecord):
    """One log line of a deployment's workers (same fields as an execution's)."""


class UnknownWorkflowStreamData(UnknownEventData):
    """Workflow stream data levante cannot type; everything is kept (see
    :class:`~levante.models.UnknownEventData`)."""


class WorkflowEventsStreamEvent(MistralModel):
    """One event of ``executions.stream`` or ``events.get_stream_events``."""

    event: str | None = None
    data: StreamEventSsePayload | WorkflowStreamError | UnknownWorkflowStreamData | None = None
    id: str | None = None
    retry: int | None = None


class WorkflowLogsStreamEvent(MistralModel):
    """One event of ``executions.stream_workflow_execution_logs`` (``event`` is ``"log"``
    or ``"error"``)."""

    event: str | None = None
    id: str | None = None
    data: ExecutionLogRecord | WorkflowStreamError | UnknownWorkflowStreamData | None = None


class DeploymentLogsStreamEvent(MistralModel):
    """One event of ``deployments.stream_deployment_logs`` (``event`` is ``"log"`` or
    ``"error"``)."""

    event: str | None = None
    id: str | None = None
    data: DeploymentLogRecord | WorkflowStreamError | UnknownWorkflowStreamData | None = None


# The official SDK's names for the same stream items.
StreamV1WorkflowsExecutionsExecutionIDStreamGetResponseBody = WorkflowEventsStreamEvent
GetStreamEventsV1WorkflowsEventsStreamGetResponseBody = WorkflowEventsStreamEvent
StreamWorkflowExecutionLogsResponseBody = WorkflowLogsStreamEvent
StreamDeploymentLogsResponseBody = DeploymentLogsStreamEvent

_EVENTS: TypeAdapter[Any] = TypeAdapter(StreamEventSsePayload | WorkflowStreamError)
_LOGS: TypeAdapter[Any] = TypeAdapter(ExecutionLogRecord | WorkflowStreamError)
_DEPLOYMENT_LOGS: TypeAdapter[Any] = TypeAdapter(DeploymentLogRecord | WorkflowStreamError)


def _data(adapter: TypeAdapter[Any], data: str | bytes) -> Any:
    # an event without data lines has data None, as in the official SDK
    return decode_open_union(adapter, UnknownWorkflowStreamData, data) if data else None


def decode_workflow_event(
    event_type: str, data: str | bytes, event_id: str = "", retry: int | None = None
) -> WorkflowEventsStreamEvent:
    """Decode one SSE event of a workflow event stream (one JSON parse; never raises).

    Pass the SSE event's ``event``, ``data``, ``id`` (``""``: none yet, read as
    ``None``) and ``retry``.
    """
    fields = {
        "event": event_type,
        "data": _data(_EVENTS, data),
        "id": event_id or None,
        "retry": retry,
    }
    return wrap_event(WorkflowEventsStreamEvent, fields)


def decode_workflow_log_event(
    event_type: str, data: str | bytes, event_id: str = ""
) -> WorkflowLogsStreamEvent:
    """Decode one SSE event of an execution's log stream (one JSON parse; never raises)."""
    fields = {"event": event_type, "id": event_id or None, "data": _data(_LOGS, data)}
    return wrap_event(WorkflowLogsStreamEvent, fields)


def decode_deployment_log_event(
    event_type: str, data: str | bytes, event_id: str = ""
) -> DeploymentLogsStreamEvent:
    """Decode one SSE event of a deployment's log stream (one JSON parse; never raises)."""
    fields = {"event": event_type, "id": event_id or None, "data": _data(_DEPLOYMENT_LOGS, data)}
    return wrap_event(DeploymentLogsStreamEvent, fields)
