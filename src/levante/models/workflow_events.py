"""Workflow execution events: one class per ``event_type``, as in the official SDK.

The ``data`` of the workflow event streams (``executions.stream``,
``events.get_stream_events``) carries one of these in
:class:`~levante.models.StreamEventSsePayload`. :data:`WorkflowEvent` picks the class by
``event_type``; an event type levante does not know is kept in
:class:`UnknownWorkflowEvent` (the official SDK rejects it).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag

from ._base import MistralModel, Nullable, SentAsNull
from ._events import UnknownEventData

__all__ = [
    "ActivityTaskCompletedAttributesResponse",
    "ActivityTaskCompletedResponse",
    "ActivityTaskFailedAttributes",
    "ActivityTaskFailedResponse",
    "ActivityTaskRetryingAttributes",
    "ActivityTaskRetryingResponse",
    "ActivityTaskStartedAttributesResponse",
    "ActivityTaskStartedResponse",
    "CustomTaskCanceledAttributes",
    "CustomTaskCanceledResponse",
    "CustomTaskCompletedAttributesResponse",
    "CustomTaskCompletedResponse",
    "CustomTaskFailedAttributes",
    "CustomTaskFailedResponse",
    "CustomTaskInProgressAttributesResponse",
    "CustomTaskInProgressResponse",
    "CustomTaskStartedAttributesResponse",
    "CustomTaskStartedResponse",
    "CustomTaskTimedOutAttributes",
    "CustomTaskTimedOutResponse",
    "Failure",
    "JSONPatch",
    "JSONPatchPayloadResponse",
    "JSONPayloadResponse",
    "TaskPayload",
    "UnknownTaskPayload",
    "UnknownWorkflowEvent",
    "WorkflowEvent",
    "WorkflowEventResponse",
    "WorkflowExecutionCanceledAttributes",
    "WorkflowExecutionCanceledResponse",
    "WorkflowExecutionCompletedAttributesResponse",
    "WorkflowExecutionCompletedResponse",
    "WorkflowExecutionContinuedAsNewAttributesResponse",
    "WorkflowExecutionContinuedAsNewResponse",
    "WorkflowExecutionFailedAttributes",
    "WorkflowExecutionFailedResponse",
    "WorkflowExecutionStartedAttributesResponse",
    "WorkflowExecutionStartedResponse",
    "WorkflowTaskFailedAttributes",
    "WorkflowTaskFailedResponse",
    "WorkflowTaskTimedOutAttributes",
    "WorkflowTaskTimedOutResponse",
]


# --- payloads ---------------------------------------------------------------------------


class JSONPayloadResponse(MistralModel):
    """A JSON value (a task's input, result or state); ``encoding_options`` says when it
    is ``"offloaded"``, ``"encrypted"``, ``"encrypted-partial"`` or ``"compressed"``."""

    value: SentAsNull[Any] = None
    type: Literal["json"] = "json"
    encoding_options: Nullable[list[str]] = None


class JSONPatch(MistralModel):
    """One JSON Patch operation on a task's state: ``op`` is ``"add"``, ``"append"``,
    ``"remove"`` or ``"replace"`` (any other is kept), at the JSON Pointer ``path``."""

    op: str
    path: str
    value: SentAsNull[Any] = None


class JSONPatchPayloadResponse(MistralModel):
    """An incremental update of a task's state: patches, or an encrypted string."""

    value: list[JSONPatch] | str
    type: Literal["json_patch"] = "json_patch"
    encoding_options: Nullable[list[str]] = None


class UnknownTaskPayload(UnknownEventData):
    """A task payload of a ``type`` levante does not know; every field is kept."""


def _payload_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("json", "json_patch") else "unknown"


TaskPayload = Annotated[
    Annotated[JSONPayloadResponse, Tag("json")]
    | Annotated[JSONPatchPayloadResponse, Tag("json_patch")]
    | Annotated[UnknownTaskPayload, Tag("unknown")],
    Discriminator(_payload_tag),
]
"""The state a ``CUSTOM_TASK_IN_PROGRESS`` event reports, by ``type``."""


class Failure(MistralModel):
    """Why something failed."""

    message: str


# --- events -----------------------------------------------------------------------------


class WorkflowEventResponse(MistralModel):
    """What every workflow execution event has; ``event_timestamp`` is in nanoseconds.

    Each ``event_type`` has its subclass below, with typed ``attributes``.
    """

    event_id: str
    event_timestamp: int
    root_workflow_exec_id: str
    parent_workflow_exec_id: SentAsNull[str] = None
    workflow_exec_id: str
    workflow_run_id: str
    workflow_name: str
    continued_run_id: Nullable[str] = None
    first_execution_run_id: Nullable[str] = None
    chain_run_id: Nullable[str] = None
    schedule_id: Nullable[str] = None


class WorkflowExecutionStartedAttributesResponse(MistralModel):
    """The attributes of ``WORKFLOW_EXECUTION_STARTED``."""

    task_id: str
    workflow_name: str
    input: JSONPayloadResponse
    display_name: Nullable[str] = None
    attempt: int = 1


class WorkflowExecutionStartedResponse(WorkflowEventResponse):
    """``WORKFLOW_EXECUTION_STARTED``: an execution began (its first event)."""

    attributes: WorkflowExecutionStartedAttributesResponse
    event_type: Literal["WORKFLOW_EXECUTION_STARTED"] = "WORKFLOW_EXECUTION_STARTED"


class WorkflowExecutionCompletedAttributesResponse(MistralModel):
    """The attributes of ``WORKFLOW_EXECUTION_COMPLETED``."""

    task_id: str
    result: JSONPayloadResponse
    attempt: int = 1


class WorkflowExecutionCompletedResponse(WorkflowEventResponse):
    """``WORKFLOW_EXECUTION_COMPLETED``: a workflow execution completed, with its result."""

    attributes: WorkflowExecutionCompletedAttributesResponse
    event_type: Literal["WORKFLOW_EXECUTION_COMPLETED"] = "WORKFLOW_EXECUTION_COMPLETED"


class WorkflowExecutionFailedAttributes(MistralModel):
    """The attributes of ``WORKFLOW_EXECUTION_FAILED``."""

    task_id: str
    failure: Failure
    attempt: int = 1


class WorkflowExecutionFailedResponse(WorkflowEventResponse):
    """``WORKFLOW_EXECUTION_FAILED``: a workflow execution failed."""

    attributes: WorkflowExecutionFailedAttributes
    event_type: Literal["WORKFLOW_EXECUTION_FAILED"] = "WORKFLOW_EXECUTION_FAILED"


class WorkflowExecutionCanceledAttributes(MistralModel):
    """The attributes of ``WORKFLOW_EXECUTION_CANCELED``."""

    task_id: str
    reason: Nullable[str] = None
    attempt: int = 1


class WorkflowExecutionCanceledResponse(WorkflowEventResponse):
    """``WORKFLOW_EXECUTION_CANCELED``: a workflow execution was canceled."""

    attributes: WorkflowExecutionCanceledAttributes
    event_type: Literal["WORKFLOW_EXECUTION_CANCELED"] = "WORKFLOW_EXECUTION_CANCELED"


class WorkflowExecutionContinuedAsNewAttributesResponse(MistralModel):
    """The attributes of ``WORKFLOW_EXECUTION_CONTINUED_AS_NEW``."""

    task_id: str
    new_execution_run_id: str
    workflow_name: str
    input: JSONPayloadResponse


class WorkflowExecutionContinuedAsNewResponse(WorkflowEventResponse):
    """``WORKFLOW_EXECUTION_CONTINUED_AS_NEW``: a workflow execution continued as a new run."""

    attributes: WorkflowExecutionContinuedAsNewAttributesResponse
    event_type: Literal["WORKFLOW_EXECUTION_CONTINUED_AS_NEW"] = (
        "WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    )


class WorkflowTaskTimedOutAttributes(MistralModel):
    """The attributes of ``WORKFLOW_TASK_TIMED_OUT``."""

    task_id: str
    timeout_type: Nullable[str] = None


class WorkflowTaskTimedOutResponse(WorkflowEventResponse):
    """``WORKFLOW_TASK_TIMED_OUT``: a workflow task timed out."""

    attributes: WorkflowTaskTimedOutAttributes
    event_type: Literal["WORKFLOW_TASK_TIMED_OUT"] = "WORKFLOW_TASK_TIMED_OUT"


class WorkflowTaskFailedAttributes(MistralModel):
    """The attributes of ``WORKFLOW_TASK_FAILED``."""

    task_id: str
    failure: Failure


class WorkflowTaskFailedResponse(WorkflowEventResponse):
    """``WORKFLOW_TASK_FAILED``: a workflow task failed."""

    attributes: WorkflowTaskFailedAttributes
    event_type: Literal["WORKFLOW_TASK_FAILED"] = "WORKFLOW_TASK_FAILED"


class CustomTaskStartedAttributesResponse(MistralModel):
    """The attributes of ``CUSTOM_TASK_STARTED``."""

    custom_task_id: str
    custom_task_type: str
    payload: JSONPayloadResponse | None = None


class CustomTaskStartedResponse(WorkflowEventResponse):
    """``CUSTOM_TASK_STARTED``: a custom task started."""

    attributes: CustomTaskStartedAttributesResponse
    event_type: Literal["CUSTOM_TASK_STARTED"] = "CUSTOM_TASK_STARTED"


class CustomTaskInProgressAttributesResponse(MistralModel):
    """The attributes of ``CUSTOM_TASK_IN_PROGRESS``."""

    custom_task_id: str
    custom_task_type: str
    payload: TaskPayload


class CustomTaskInProgressResponse(WorkflowEventResponse):
    """``CUSTOM_TASK_IN_PROGRESS``: a custom task reports progress: its state, or a patch of it."""

    attributes: CustomTaskInProgressAttributesResponse
    event_type: Literal["CUSTOM_TASK_IN_PROGRESS"] = "CUSTOM_TASK_IN_PROGRESS"


class CustomTaskCompletedAttributesResponse(MistralModel):
    """The attributes of ``CUSTOM_TASK_COMPLETED``."""

    custom_task_id: str
    custom_task_type: str
    payload: JSONPayloadResponse


class CustomTaskCompletedResponse(WorkflowEventResponse):
    """``CUSTOM_TASK_COMPLETED``: a custom task completed."""

    attributes: CustomTaskCompletedAttributesResponse
    event_type: Literal["CUSTOM_TASK_COMPLETED"] = "CUSTOM_TASK_COMPLETED"


class CustomTaskFailedAttributes(MistralModel):
    """The attributes of ``CUSTOM_TASK_FAILED``."""

    custom_task_id: str
    custom_task_type: str
    failure: Failure


class CustomTaskFailedResponse(WorkflowEventResponse):
    """``CUSTOM_TASK_FAILED``: a custom task failed."""

    attributes: CustomTaskFailedAttributes
    event_type: Literal["CUSTOM_TASK_FAILED"] = "CUSTOM_TASK_FAILED"


class CustomTaskTimedOutAttributes(MistralModel):
    """The attributes of ``CUSTOM_TASK_TIMED_OUT``."""

    custom_task_id: str
    custom_task_type: str
    timeout_type: Nullable[str] = None


class CustomTaskTimedOutResponse(WorkflowEventResponse):
    """``CUSTOM_TASK_TIMED_OUT``: a custom task timed out."""

    attributes: CustomTaskTimedOutAttributes
    event_type: Literal["CUSTOM_TASK_TIMED_OUT"] = "CUSTOM_TASK_TIMED_OUT"


class CustomTaskCanceledAttributes(MistralModel):
    """The attributes of ``CUSTOM_TASK_CANCELED``."""

    custom_task_id: str
    custom_task_type: str
    reason: Nullable[str] = None


class CustomTaskCanceledResponse(WorkflowEventResponse):
    """``CUSTOM_TASK_CANCELED``: a custom task was canceled."""

    attributes: CustomTaskCanceledAttributes
    event_type: Literal["CUSTOM_TASK_CANCELED"] = "CUSTOM_TASK_CANCELED"


class ActivityTaskStartedAttributesResponse(MistralModel):
    """The attributes of ``ACTIVITY_TASK_STARTED``."""

    task_id: str
    activity_name: str
    input: JSONPayloadResponse


class ActivityTaskStartedResponse(WorkflowEventResponse):
    """``ACTIVITY_TASK_STARTED``: an activity task started."""

    attributes: ActivityTaskStartedAttributesResponse
    event_type: Literal["ACTIVITY_TASK_STARTED"] = "ACTIVITY_TASK_STARTED"


class ActivityTaskCompletedAttributesResponse(MistralModel):
    """The attributes of ``ACTIVITY_TASK_COMPLETED``."""

    task_id: str
    activity_name: str
    result: JSONPayloadResponse


class ActivityTaskCompletedResponse(WorkflowEventResponse):
    """``ACTIVITY_TASK_COMPLETED``: an activity task completed."""

    attributes: ActivityTaskCompletedAttributesResponse
    event_type: Literal["ACTIVITY_TASK_COMPLETED"] = "ACTIVITY_TASK_COMPLETED"


class ActivityTaskRetryingAttributes(MistralModel):
    """The attributes of ``ACTIVITY_TASK_RETRYING``."""

    task_id: str
    activity_name: str
    attempt: int
    failure: Failure


class ActivityTaskRetryingResponse(WorkflowEventResponse):
    """``ACTIVITY_TASK_RETRYING``: an activity task failed and will be retried."""

    attributes: ActivityTaskRetryingAttributes
    event_type: Literal["ACTIVITY_TASK_RETRYING"] = "ACTIVITY_TASK_RETRYING"


class ActivityTaskFailedAttributes(MistralModel):
    """The attributes of ``ACTIVITY_TASK_FAILED``."""

    task_id: str
    activity_name: str
    attempt: int
    failure: Failure


class ActivityTaskFailedResponse(WorkflowEventResponse):
    """``ACTIVITY_TASK_FAILED``: an activity task failed for good."""

    attributes: ActivityTaskFailedAttributes
    event_type: Literal["ACTIVITY_TASK_FAILED"] = "ACTIVITY_TASK_FAILED"


class UnknownWorkflowEvent(WorkflowEventResponse):
    """An execution event of an ``event_type`` levante does not know; every field is
    kept, ``attributes`` as a dict."""

    event_type: str
    attributes: dict[str, Any] = Field(default_factory=dict)

    is_unknown: ClassVar[Literal[True]] = True
    """Always ``True``; known event classes have no such attribute."""


_EVENT_TYPES = frozenset(
    str(cls.model_fields["event_type"].default)
    for cls in WorkflowEventResponse.__subclasses__()
    if cls is not UnknownWorkflowEvent
)


def _event_tag(value: Any) -> str:
    if isinstance(value, dict):
        kind = value.get("event_type")
    else:
        kind = getattr(value, "event_type", None)
    return kind if isinstance(kind, str) and kind in _EVENT_TYPES else "unknown"


WorkflowEvent = Annotated[
    Annotated[WorkflowExecutionStartedResponse, Tag("WORKFLOW_EXECUTION_STARTED")]
    | Annotated[WorkflowExecutionCompletedResponse, Tag("WORKFLOW_EXECUTION_COMPLETED")]
    | Annotated[WorkflowExecutionFailedResponse, Tag("WORKFLOW_EXECUTION_FAILED")]
    | Annotated[WorkflowExecutionCanceledResponse, Tag("WORKFLOW_EXECUTION_CANCELED")]
    | Annotated[WorkflowExecutionContinuedAsNewResponse, Tag("WORKFLOW_EXECUTION_CONTINUED_AS_NEW")]
    | Annotated[WorkflowTaskTimedOutResponse, Tag("WORKFLOW_TASK_TIMED_OUT")]
    | Annotated[WorkflowTaskFailedResponse, Tag("WORKFLOW_TASK_FAILED")]
    | Annotated[CustomTaskStartedResponse, Tag("CUSTOM_TASK_STARTED")]
    | Annotated[CustomTaskInProgressResponse, Tag("CUSTOM_TASK_IN_PROGRESS")]
    | Annotated[CustomTaskCompletedResponse, Tag("CUSTOM_TASK_COMPLETED")]
    | Annotated[CustomTaskFailedResponse, Tag("CUSTOM_TASK_FAILED")]
    | Annotated[CustomTaskTimedOutResponse, Tag("CUSTOM_TASK_TIMED_OUT")]
    | Annotated[CustomTaskCanceledResponse, Tag("CUSTOM_TASK_CANCELED")]
    | Annotated[ActivityTaskStartedResponse, Tag("ACTIVITY_TASK_STARTED")]
    | Annotated[ActivityTaskCompletedResponse, Tag("ACTIVITY_TASK_COMPLETED")]
    | Annotated[ActivityTaskRetryingResponse, Tag("ACTIVITY_TASK_RETRYING")]
    | Annotated[ActivityTaskFailedResponse, Tag("ACTIVITY_TASK_FAILED")]
    | Annotated[UnknownWorkflowEvent, Tag("unknown")],
    Discriminator(_event_tag),
]
"""A workflow execution event, by ``event_type``; unknown types are kept."""
