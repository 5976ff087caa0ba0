"""Workflow streams on the dev server over real sockets: deterministic events and logs with
ids, GET streams that end with the body, resumption after last_event_id (checked on the
server side), and the official SDK's four workflow stream calls reading them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mistralai.client import Mistral
from mistralai.client import models as official
from mistralai.extra.exceptions import StreamDisconnectedError

from levante.devserver import EmbeddedServer
from levante.sse import ServerSentEvent, SSEDecoder

EXECUTION = "/v1/workflows/executions"


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def get(client: httpx2.Client, path: str, **kwargs: Any) -> list[ServerSentEvent]:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    decoder = SSEDecoder()
    events = decoder.feed(response.content)
    assert decoder.end() == []  # the body ends between events
    return events


def types(events: list[ServerSentEvent]) -> list[str]:
    return [json.loads(e.data)["data"]["event_type"] for e in events]


def test_execution_stream_events_and_resume(server: EmbeddedServer, client: httpx2.Client) -> None:
    events = get(client, f"{EXECUTION}/exec-2/stream")
    assert [e.id for e in events] == ["0", "1", "2", "3", "4", "5"]
    assert {e.event for e in events} == {"workflow.event"}
    assert types(events) == [
        "WORKFLOW_EXECUTION_STARTED",
        *["ACTIVITY_TASK_STARTED", "ACTIVITY_TASK_COMPLETED"] * 2,
        "WORKFLOW_EXECUTION_COMPLETED",
    ]
    first = json.loads(events[0].data)
    assert first["broker_sequence"] == 0
    assert first["workflow_context"]["workflow_exec_id"] == "exec-2"
    resumed = get(client, f"{EXECUTION}/exec-2/stream", params={"last_event_id": "2"})
    assert [e.data for e in resumed] == [e.data for e in events[3:]]
    header_wins = get(
        client,
        f"{EXECUTION}/exec-2/stream?last_event_id=0",
        headers={"Last-Event-ID": "4"},
    )
    assert [e.id for e in header_wins] == ["5"]
    assert [r["last_event_id"] for r in server.resumes()] == [None, "2", "4"]
    assert len(get(client, f"{EXECUTION}/anything/stream")) == 8  # three activities


def test_events_stream_filters(client: httpx2.Client) -> None:
    path = "/v1/workflows/events/stream"
    missing = client.get(path)
    assert missing.status_code == 422
    events = get(client, path, params={"root_workflow_exec_id": "exec-3", "start_seq": 5})
    assert [e.id for e in events] == ["5", "6", "7"]
    only = get(
        client,
        path,
        params={
            "workflow_exec_id": "exec-3",
            "workflow_event_types": ["WORKFLOW_EXECUTION_STARTED", "WORKFLOW_EXECUTION_COMPLETED"],
        },
    )
    assert [e.id for e in only] == ["0", "7"]


def test_log_streams(client: httpx2.Client) -> None:
    logs = get(client, f"{EXECUTION}/exec-2/logs/stream")
    assert {e.event for e in logs} == {"log"} and len(logs) == 6
    record = json.loads(logs[1].data)
    assert record["severity_text"] == "INFO"
    assert record["body"] == "levante-demo exec-2: activity task started"
    one = get(client, f"{EXECUTION}/exec-2/logs/stream", params={"activity_id": "2"})
    assert [e.id for e in one] == ["3", "4"]
    later = get(client, f"{EXECUTION}/exec-2/logs/stream?after=2024-05-01T12:00:03Z")
    assert [e.id for e in later] == ["4", "5"]
    assert get(client, f"{EXECUTION}/exec-2/logs/stream", params={"run_id": "other"}) == []
    deployment = get(client, "/v1/workflows/deployments/prod/logs/stream")
    attributes = json.loads(deployment[0].data)["log_attributes"]
    assert attributes["deployment"] == "prod" and attributes["worker_name"] == "prod-worker-1"
    assert client.get(f"{EXECUTION}/x/logs/stream?after=yesterday").status_code == 422


def test_error_event(client: httpx2.Client) -> None:
    events = get(client, f"{EXECUTION}/exec-2/stream", headers={"x-levante-fault": "error-after=2"})
    assert [e.event for e in events] == ["workflow.event"] * 2 + ["error"]
    assert set(json.loads(events[-1].data)) == {"error", "reason"}


def test_resume_through_cuts_loses_nothing(server: EmbeddedServer, client: httpx2.Client) -> None:
    seen: list[str] = []
    for _ in range(50):
        params = {"last_event_id": seen[-1]} if seen else {}
        headers = {"x-levante-fault": "disconnect-random=2-9"}
        with client.stream(
            "GET", f"{EXECUTION}/exec-40/stream", params=params, headers=headers
        ) as response:
            decoder = SSEDecoder()
            try:
                for data in response.iter_bytes():
                    seen.extend(e.id for e in decoder.feed(data))
            except httpx2.TransportError:
                continue
        break
    assert seen == [str(i) for i in range(82)]
    cursors = [r["last_event_id"] for r in server.resumes()]
    assert cursors[0] is None and len(cursors) > 1


def test_official_sdk_workflow_streams(server: EmbeddedServer) -> None:
    with Mistral(api_key="k", server_url=server.url) as sdk:
        with sdk.workflows.executions.stream(execution_id="exec-1", last_event_id="0") as s:
            frames = list(s)
        assert [f.id for f in frames] == ["1", "2", "3"]
        payload = frames[0].data
        assert isinstance(payload, official.StreamEventSsePayload)
        assert isinstance(payload.data, official.ActivityTaskStartedResponse)
        assert isinstance(frames[-1].data.data, official.WorkflowExecutionCompletedResponse)
        with sdk.workflows.events.get_stream_events(workflow_exec_id="exec-1", start_seq=3) as s:
            assert [f.data.broker_sequence for f in s] == [3]
        with sdk.events.get_stream_events(root_workflow_exec_id="exec-1", last_event_id="2") as s:
            assert [f.id for f in s] == ["3"]
        with sdk.workflows.executions.stream_workflow_execution_logs(
            execution_id="exec-1", last_event_id="1"
        ) as s:
            logs = list(s)
        assert [f.event for f in logs] == ["log", "log"]
        assert isinstance(logs[0].data, official.ExecutionLogRecord)
        with sdk.workflows.deployments.stream_deployment_logs(name="prod") as s:
            records = [f.data for f in s]
        assert all(isinstance(r, official.DeploymentLogRecord) for r in records)
        assert len(records) == 8
        # the official SDK turns the error event into an exception (a response hook)
        with (
            sdk.workflows.executions.stream(
                execution_id="exec-1", http_headers={"x-levante-fault": "error-after=1"}
            ) as s,
            pytest.raises(StreamDisconnectedError) as info,
        ):
            list(s)
        assert info.value.reason == "internal_error"
        assert info.value.error == "Internal server error (injected)"
    assert [r["last_event_id"] for r in server.resumes()] == ["0", None, "2", "1", None, None]
