"""Workflow stream models: execution events, execution and deployment logs.

Each payload is validated by the official SDK's own model and dumped with its serializer,
then decoded by both SDKs from the same SSE fields; every official attribute must read
the same on levante's object.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistralai.client import models as official
from pydantic import ValidationError

from levante.models import (
    DeploymentLogRecord,
    DeploymentLogsStreamEvent,
    ExecutionLogRecord,
    JSONPatchPayloadResponse,
    StreamEventSsePayload,
    UnknownTaskPayload,
    UnknownWorkflowEvent,
    UnknownWorkflowStreamData,
    WorkflowEventResponse,
    WorkflowEventsStreamEvent,
    WorkflowLogsStreamEvent,
    WorkflowStreamError,
    decode_deployment_log_event,
    decode_workflow_event,
    decode_workflow_log_event,
    workflow_events,
)
from official_compare import assert_same_attributes

JSON = {"type": "json", "value": {"answer": 42, "items": [1, "two"]}}
FAILURE = {"message": "boom"}
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "WORKFLOW_EXECUTION_STARTED": {
        "task_id": "t",
        "workflow_name": "wf",
        "input": JSON,
        "display_name": "My run",
    },
    "WORKFLOW_EXECUTION_COMPLETED": {"task_id": "t", "result": JSON, "attempt": 2},
    "WORKFLOW_EXECUTION_FAILED": {"task_id": "t", "failure": FAILURE},
    "WORKFLOW_EXECUTION_CANCELED": {"task_id": "t", "reason": None},
    "WORKFLOW_EXECUTION_CONTINUED_AS_NEW": {
        "task_id": "t",
        "new_execution_run_id": "r2",
        "workflow_name": "wf",
        "input": {"type": "json", "value": None, "encoding_options": ["compressed"]},
    },
    "WORKFLOW_TASK_TIMED_OUT": {"task_id": "t", "timeout_type": "START_TO_CLOSE"},
    "WORKFLOW_TASK_FAILED": {"task_id": "t", "failure": FAILURE},
    "CUSTOM_TASK_STARTED": {"custom_task_id": "c", "custom_task_type": "llm"},
    "CUSTOM_TASK_IN_PROGRESS": {
        "custom_task_id": "c",
        "custom_task_type": "llm",
        "payload": {
            "type": "json_patch",
            "value": [
                {"op": "add", "path": "/text", "value": ""},
                {"op": "append", "path": "/text", "value": "Hel"},
                {"op": "replace", "path": "/n", "value": 2},
                {"op": "remove", "path": "/old", "value": None},
            ],
        },
    },
    "CUSTOM_TASK_COMPLETED": {"custom_task_id": "c", "custom_task_type": "llm", "payload": JSON},
    "CUSTOM_TASK_FAILED": {"custom_task_id": "c", "custom_task_type": "llm", "failure": FAILURE},
    "CUSTOM_TASK_TIMED_OUT": {"custom_task_id": "c", "custom_task_type": "llm"},
    "CUSTOM_TASK_CANCELED": {"custom_task_id": "c", "custom_task_type": "llm", "reason": "user"},
    "ACTIVITY_TASK_STARTED": {"task_id": "t", "activity_name": "fetch", "input": JSON},
    "ACTIVITY_TASK_COMPLETED": {"task_id": "t", "activity_name": "fetch", "result": JSON},
    "ACTIVITY_TASK_RETRYING": {
        "task_id": "t",
        "activity_name": "fetch",
        "attempt": 2,
        "failure": FAILURE,
    },
    "ACTIVITY_TASK_FAILED": {
        "task_id": "t",
        "activity_name": "fetch",
        "attempt": 3,
        "failure": FAILURE,
    },
}


def payload(event_type: str, **extra: Any) -> dict[str, Any]:
    event = {
        "event_id": "e1",
        "event_timestamp": 1_700_000_000_000_000_000,
        "root_workflow_exec_id": "root",
        "parent_workflow_exec_id": None,
        "workflow_exec_id": "exec",
        "workflow_run_id": "run",
        "workflow_name": "wf",
        "event_type": event_type,
        "attributes": ATTRIBUTES.get(event_type, {"x": 1}),
        **extra,
    }
    return {
        "stream": "workflow-events",
        "data": event,
        "workflow_context": {
            "namespace": "default",
            "workflow_name": "wf",
            "workflow_exec_id": "exec",
            "root_workflow_exec_id": "root",
        },
        "broker_sequence": 7,
        "timestamp": "2025-01-01T00:00:00Z",
    }


def official_item(model: Any, fields: dict[str, Any]) -> Any:
    # what the official EventStream builds from one SSE event
    return model.model_validate({key: value for key, value in fields.items() if value is not None})


@pytest.mark.parametrize("event_type", sorted(ATTRIBUTES))
def test_every_execution_event_reads_like_the_official_sdk(event_type: str) -> None:
    canonical = official.StreamEventSsePayload.model_validate(
        payload(event_type, chain_run_id="c1")
    )
    data = canonical.model_dump_json(by_alias=True)
    ours = decode_workflow_event("message", data, "42", 1500)
    theirs = official_item(
        official.StreamV1WorkflowsExecutionsExecutionIDStreamGetResponseBody,
        {"event": "message", "data": json.loads(data), "id": "42", "retry": 1500},
    )
    assert isinstance(ours, WorkflowEventsStreamEvent)
    assert isinstance(ours.data, StreamEventSsePayload)
    event = ours.data.data
    assert isinstance(event, WorkflowEventResponse)
    assert type(event).__name__ == type(theirs.data.data).__name__
    assert type(event.attributes).__name__ == type(theirs.data.data.attributes).__name__
    assert_same_attributes(ours, theirs)
    assert json.loads(ours.data.model_dump_json(by_alias=True)) == json.loads(data)


def test_every_official_event_class_has_a_levante_twin() -> None:
    for event_type in ATTRIBUTES:
        theirs = official.StreamEventSsePayload.model_validate(payload(event_type)).data
        assert hasattr(workflow_events, type(theirs).__name__)
        assert hasattr(workflow_events, type(theirs.attributes).__name__)


def test_patches_and_unknown_task_payloads() -> None:
    ours = decode_workflow_event("message", json.dumps(payload("CUSTOM_TASK_IN_PROGRESS")))
    assert isinstance(ours.data, StreamEventSsePayload)
    patch = ours.data.data.attributes.payload  # type: ignore[union-attr]
    assert isinstance(patch, JSONPatchPayloadResponse)
    assert [(p.op, p.path, p.value) for p in patch.value] == [  # type: ignore[union-attr]
        ("add", "/text", ""),
        ("append", "/text", "Hel"),
        ("replace", "/n", 2),
        ("remove", "/old", None),
    ]
    odd = payload("CUSTOM_TASK_IN_PROGRESS")
    odd["data"]["attributes"]["payload"] = {"type": "delta_v2", "value": "x"}
    data = json.dumps(odd)
    ours = decode_workflow_event("message", data)
    theirs = official_item(
        official.StreamV1WorkflowsExecutionsExecutionIDStreamGetResponseBody,
        {"data": json.loads(data), "event": "message"},
    )
    unknown = ours.data.data.attributes.payload  # type: ignore[union-attr]
    assert isinstance(unknown, UnknownTaskPayload) and unknown.is_unknown
    assert_same_attributes(ours, theirs)


def test_an_event_type_the_official_sdk_rejects_is_kept() -> None:
    data = json.dumps(payload("WORKFLOW_PAUSED"))
    with pytest.raises(ValidationError):
        official.StreamEventSsePayload.model_validate_json(data)
    ours = decode_workflow_event("message", data)
    event = ours.data.data  # type: ignore[union-attr]
    assert isinstance(event, UnknownWorkflowEvent)
    assert event.is_unknown and event.event_type == "WORKFLOW_PAUSED"
    assert event.attributes == {"x": 1}


def test_an_error_event_and_an_event_without_data() -> None:
    data = json.dumps({"error": "not_found", "reason": "no such execution"})
    ours = decode_workflow_event("error", data, "9")
    theirs = official_item(
        official.StreamV1WorkflowsExecutionsExecutionIDStreamGetResponseBody,
        {"event": "error", "data": json.loads(data), "id": "9"},
    )
    assert isinstance(ours.data, WorkflowStreamError)
    assert_same_attributes(ours, theirs)
    empty = decode_workflow_event("ping", "", "9", 3000)
    assert empty.data is None and empty.id == "9" and empty.retry == 3000
    assert_same_attributes(
        empty,
        official_item(
            official.StreamV1WorkflowsExecutionsExecutionIDStreamGetResponseBody,
            {"event": "ping", "id": "9", "retry": 3000},
        ),
    )
    assert decode_workflow_event("message", "{}").id is None  # no id yet: None


@pytest.mark.parametrize("data", ["not json", '"text"', '{"unexpected": 1}'])
def test_data_levante_cannot_type_is_kept(data: str) -> None:
    event = decode_workflow_event("message", data)
    assert isinstance(event.data, UnknownWorkflowStreamData)
    assert event.data.raw == data


LOG = {
    "timestamp": "2025-01-01T00:00:00.123456Z",
    "trace_id": "tr",
    "span_id": "sp",
    "severity_text": "INFO",
    "body": "started",
    "log_attributes": {"k": "v"},
}


@pytest.mark.parametrize(
    ("decode", "ours_cls", "theirs_cls", "record_cls"),
    [
        (
            decode_workflow_log_event,
            WorkflowLogsStreamEvent,
            official.StreamWorkflowExecutionLogsResponseBody,
            ExecutionLogRecord,
        ),
        (
            decode_deployment_log_event,
            DeploymentLogsStreamEvent,
            official.StreamDeploymentLogsResponseBody,
            DeploymentLogRecord,
        ),
    ],
)
def test_log_streams_read_like_the_official_sdk(
    decode: Any, ours_cls: type, theirs_cls: Any, record_cls: type
) -> None:
    ours = decode("log", json.dumps(LOG), "c-17")
    theirs = official_item(theirs_cls, {"event": "log", "id": "c-17", "data": LOG})
    assert isinstance(ours, ours_cls) and isinstance(ours.data, record_cls)
    assert_same_attributes(ours, theirs)
    error = {"error": "gone", "reason": "deployment deleted"}
    ours = decode("error", json.dumps(error))
    theirs = official_item(theirs_cls, {"event": "error", "data": error})
    assert isinstance(ours.data, WorkflowStreamError)
    assert_same_attributes(ours, theirs)
