"""``client.workflows``: the workflow streams (execution events, execution and deployment
logs), as the official SDK sends them.

Each is a ``GET`` event stream that ends with its body; ``event: error`` raises
:class:`~levante.errors.StreamDisconnectedError` (the official SDK's name). Every event
carries an SSE id, and the official ``last_event_id`` argument resumes after one. With
``reconnect=True`` (or a :class:`~levante.Reconnect`) a lost connection is resumed that
way by itself: the stream is sent again with ``last_event_id`` set to the last id seen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from typing_extensions import Required, Unpack

from .._connect import ReconnectingEventStream, ReconnectingEventStreamAsync
from .._reconnect import ReconnectPolicy
from .._send import Sender
from .._streaming import AsyncStreamContext, EventStream, EventStreamAsync
from ..errors import StreamDisconnectedError
from ..models import (
    DeploymentLogsStreamEvent,
    RequestModel,
    WorkflowEventsStreamEvent,
    WorkflowLogsStreamEvent,
    decode_deployment_log_event,
    decode_workflow_event,
    decode_workflow_log_event,
)
from ..sse import ServerSentEvent
from ._base import EndRule, Resource, StreamCall, StreamParams

__all__ = [
    "DeploymentLogsParams",
    "Deployments",
    "ExecutionLogsParams",
    "ExecutionStreamParams",
    "Executions",
    "StreamEventsParams",
    "Workflows",
    "WorkflowsEvents",
]

#: The workflow streams end with their body; ``event: error`` is raised by the decoders
#: below, as its own error type, rather than by the stream's generic error detection.
WORKFLOW_END = EndRule.at_body_end(errors=(), error_payloads=False)
_REASONS = frozenset({"read_error", "stream_error", "internal_error"})


def disconnected(event: ServerSentEvent) -> StreamDisconnectedError:
    """The error an ``event: error`` block reports: ``error`` and ``reason`` read from its
    JSON data as the official SDK reads them (an unknown reason is ``stream_error``)."""
    text = event.data.strip()
    try:
        # strict=False: data spread over several data: lines holds raw newlines
        payload: Any = json.loads(text, strict=False)
    except ValueError:
        payload = text
    fields = payload if isinstance(payload, dict) else {}
    error = str(fields.get("error", text))
    reason = fields.get("reason")
    if reason not in _REASONS:
        reason = "stream_error"
    return StreamDisconnectedError(
        f"the server ended the workflow stream ({reason}): {error}",
        payload=payload,
        event=event,
        error=error,
        reason=reason,
    )


def decode_events(event: ServerSentEvent) -> WorkflowEventsStreamEvent:
    """One event of an execution's event stream."""
    if event.event == "error":
        raise disconnected(event)
    return decode_workflow_event(event.event, event.data, event.id, event.retry)


def decode_logs(event: ServerSentEvent) -> WorkflowLogsStreamEvent:
    """One event of an execution's log stream."""
    if event.event == "error":
        raise disconnected(event)
    return decode_workflow_log_event(event.event, event.data, event.id)


def decode_deployment_logs(event: ServerSentEvent) -> DeploymentLogsStreamEvent:
    """One event of a deployment's log stream."""
    if event.event == "error":
        raise disconnected(event)
    return decode_deployment_log_event(event.event, event.data, event.id)


# -- keyword arguments (the official SDK's) -------------------------------------------------


class WorkflowStreamParams(StreamParams, total=False):
    """What every workflow stream takes besides its own filters.

    - ``last_event_id``: resume after this event id (a previous event's ``id``).
    - ``reconnect``: ``True`` or a :class:`~levante.Reconnect` to resume by itself after
      a lost connection (off by default).
    """

    last_event_id: str | None
    reconnect: ReconnectPolicy


class ExecutionStreamParams(WorkflowStreamParams, total=False):
    """``workflows.executions.stream``: ``execution_id`` and an optional ``event_source``."""

    execution_id: Required[str]
    event_source: Literal["DATABASE", "LIVE", "HYBRID"] | None


class ExecutionLogsParams(WorkflowStreamParams, total=False):
    """``workflows.executions.stream_workflow_execution_logs``: ``execution_id``; filters
    ``run_id`` and ``activity_id``; ``after`` starts a fresh stream at a time."""

    execution_id: Required[str]
    run_id: str | None
    activity_id: str | None
    after: datetime | None


class DeploymentLogsParams(WorkflowStreamParams, total=False):
    """``workflows.deployments.stream_deployment_logs``: the deployment ``name``; filters
    ``worker_name`` and ``workflow_name``; ``after`` starts a fresh stream at a time."""

    name: Required[str]
    worker_name: str | None
    workflow_name: str | None
    after: datetime | None


class StreamEventsParams(WorkflowStreamParams, total=False):
    """``workflows.events.get_stream_events``: one of ``workflow_exec_id``,
    ``root_workflow_exec_id`` or ``parent_workflow_exec_id`` names the execution; the
    rest filter (``"*"``: any), ``start_seq`` skips earlier events."""

    scope: Literal["activity", "workflow", "*"]
    activity_name: str
    activity_id: str
    workflow_name: str
    workflow_exec_id: str
    root_workflow_exec_id: str
    parent_workflow_exec_id: str
    stream: str
    start_seq: int
    metadata_filters: Mapping[str, Any] | None
    workflow_event_types: Sequence[str] | None


class StreamEventsQuery(RequestModel):
    """The query of ``GET /v1/workflows/events/stream``: the official SDK sends every
    default, in this order."""

    scope: Literal["activity", "workflow", "*"] = "*"
    activity_name: str = "*"
    activity_id: str = "*"
    workflow_name: str = "*"
    workflow_exec_id: str = "*"
    root_workflow_exec_id: str = "*"
    parent_workflow_exec_id: str = "*"
    stream: str = "*"
    start_seq: int = 0
    metadata_filters: dict[str, Any] | None = None
    workflow_event_types: list[str] | None = None


# -- the declarations ------------------------------------------------------------------------


EXECUTION_STREAM: StreamCall[
    EventStream[WorkflowEventsStreamEvent], EventStreamAsync[WorkflowEventsStreamEvent]
] = StreamCall(
    name="workflows.executions.stream",
    method="GET",
    path="/v1/workflows/executions/{execution_id}/stream",
    query=("event_source", "last_event_id"),
    stream=ReconnectingEventStream[WorkflowEventsStreamEvent],
    stream_async=ReconnectingEventStreamAsync[WorkflowEventsStreamEvent],
    decode=decode_events,
    end=WORKFLOW_END,
    resume="last_event_id",
)
EXECUTION_LOGS: StreamCall[
    EventStream[WorkflowLogsStreamEvent], EventStreamAsync[WorkflowLogsStreamEvent]
] = StreamCall(
    name="workflows.executions.stream_workflow_execution_logs",
    method="GET",
    path="/v1/workflows/executions/{execution_id}/logs/stream",
    query=("run_id", "activity_id", "after", "last_event_id"),
    stream=ReconnectingEventStream[WorkflowLogsStreamEvent],
    stream_async=ReconnectingEventStreamAsync[WorkflowLogsStreamEvent],
    decode=decode_logs,
    end=WORKFLOW_END,
    resume="last_event_id",
)
DEPLOYMENT_LOGS: StreamCall[
    EventStream[DeploymentLogsStreamEvent], EventStreamAsync[DeploymentLogsStreamEvent]
] = StreamCall(
    name="workflows.deployments.stream_deployment_logs",
    method="GET",
    path="/v1/workflows/deployments/{name}/logs/stream",
    query=("worker_name", "workflow_name", "after", "last_event_id"),
    stream=ReconnectingEventStream[DeploymentLogsStreamEvent],
    stream_async=ReconnectingEventStreamAsync[DeploymentLogsStreamEvent],
    decode=decode_deployment_logs,
    end=WORKFLOW_END,
    resume="last_event_id",
)
STREAM_EVENTS: StreamCall[
    EventStream[WorkflowEventsStreamEvent], EventStreamAsync[WorkflowEventsStreamEvent]
] = StreamCall(
    name="workflows.events.get_stream_events",
    method="GET",
    path="/v1/workflows/events/stream",
    query=StreamEventsQuery,
    headers={"last_event_id": "last-event-id"},  # a header on this one, as officially
    stream=ReconnectingEventStream[WorkflowEventsStreamEvent],
    stream_async=ReconnectingEventStreamAsync[WorkflowEventsStreamEvent],
    decode=decode_events,
    end=WORKFLOW_END,
    resume="last_event_id",
)


# -- the resources -----------------------------------------------------------------------------


class Executions(Resource):
    """``workflows.executions``: an execution's event and log streams."""

    __slots__ = ()

    def stream(
        self, **params: Unpack[ExecutionStreamParams]
    ) -> EventStream[WorkflowEventsStreamEvent]:
        """Stream the events of a workflow execution."""
        return self._sender.stream(EXECUTION_STREAM, params)

    def stream_async(
        self, **params: Unpack[ExecutionStreamParams]
    ) -> AsyncStreamContext[EventStreamAsync[WorkflowEventsStreamEvent]]:
        """Async twin of :meth:`stream`."""
        return self._sender.stream_async(EXECUTION_STREAM, params)

    def stream_workflow_execution_logs(
        self, **params: Unpack[ExecutionLogsParams]
    ) -> EventStream[WorkflowLogsStreamEvent]:
        """Stream the log records of a workflow execution."""
        return self._sender.stream(EXECUTION_LOGS, params)

    def stream_workflow_execution_logs_async(
        self, **params: Unpack[ExecutionLogsParams]
    ) -> AsyncStreamContext[EventStreamAsync[WorkflowLogsStreamEvent]]:
        """Async twin of :meth:`stream_workflow_execution_logs`."""
        return self._sender.stream_async(EXECUTION_LOGS, params)


class Deployments(Resource):
    """``workflows.deployments``: a deployment's log stream."""

    __slots__ = ()

    def stream_deployment_logs(
        self, **params: Unpack[DeploymentLogsParams]
    ) -> EventStream[DeploymentLogsStreamEvent]:
        """Stream the log records of a deployment (all of its workers)."""
        return self._sender.stream(DEPLOYMENT_LOGS, params)

    def stream_deployment_logs_async(
        self, **params: Unpack[DeploymentLogsParams]
    ) -> AsyncStreamContext[EventStreamAsync[DeploymentLogsStreamEvent]]:
        """Async twin of :meth:`stream_deployment_logs`."""
        return self._sender.stream_async(DEPLOYMENT_LOGS, params)


class WorkflowsEvents(Resource):
    """``workflows.events`` (also ``client.events``): the workflow event stream."""

    __slots__ = ()

    def get_stream_events(
        self, **params: Unpack[StreamEventsParams]
    ) -> EventStream[WorkflowEventsStreamEvent]:
        """Stream workflow events; one of the ``*_exec_id`` arguments is required."""
        return self._sender.stream(STREAM_EVENTS, params)

    def get_stream_events_async(
        self, **params: Unpack[StreamEventsParams]
    ) -> AsyncStreamContext[EventStreamAsync[WorkflowEventsStreamEvent]]:
        """Async twin of :meth:`get_stream_events`."""
        return self._sender.stream_async(STREAM_EVENTS, params)


class Workflows(Resource):
    """``client.workflows``: groups the workflow resources as the official SDK does."""

    __slots__ = ("deployments", "events", "executions")

    def __init__(self, sender: Sender) -> None:
        super().__init__(sender)
        self.executions = Executions(sender)
        self.deployments = Deployments(sender)
        self.events = WorkflowsEvents(sender)
