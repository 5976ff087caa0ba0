"""The Responses API on the dev server over real sockets: the full response.* event sequence
(text, reasoning, function calls, incomplete, error) and the official SDK reading it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mistralai.client import Mistral
from mistralai.client import models as official

from levante.devserver import EmbeddedServer
from levante.sse import ServerSentEvent, SSEDecoder

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def stream(client: httpx2.Client, **body: Any) -> list[ServerSentEvent]:
    body = {"model": "levante-echo", "input": "one two three", "stream": True, **body}
    response = client.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = SSEDecoder().feed(response.content)
    datas = [json.loads(e.data) for e in events]
    assert [d["type"] for d in datas] == [e.event for e in events]
    assert [d["sequence_number"] for d in datas] == list(range(len(events)))
    return events


def kinds(events: list[ServerSentEvent]) -> list[str]:
    return [e.event.removeprefix("response.") for e in events]


def test_text_stream_sequence(client: httpx2.Client) -> None:
    events = stream(client)
    assert kinds(events) == [
        "created",
        "in_progress",
        "output_item.added",
        "content_part.added",
        *["output_text.delta"] * 3,
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    datas = [json.loads(e.data) for e in events]
    assert "".join(d["delta"] for d in datas if "delta" in d) == "one two three"
    assert datas[0]["response"]["status"] == "in_progress" and datas[0]["response"]["output"] == []
    final = datas[-1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == "one two three"
    assert final["usage"]["output_tokens"] == 3


def test_reasoning_then_text(client: httpx2.Client) -> None:
    events = stream(client, model="magistral-medium-latest", reasoning={"effort": "high"})
    order = kinds(events)
    assert order.index("reasoning_text.done") < order.index("output_text.delta")
    datas = [json.loads(e.data) for e in events]
    reasoning = "".join(d["delta"] for d in datas if d["type"] == "response.reasoning_text.delta")
    assert reasoning.startswith("The user wrote:")
    final = datas[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["content"][0]["text"] == reasoning
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] > 0


def test_function_call_argument_deltas(client: httpx2.Client) -> None:
    events = stream(
        client,
        model="levante-chat",
        input="Weather in Paris?",
        tools=[TOOL],
        tool_choice="required",
    )
    datas = [json.loads(e.data) for e in events]
    deltas = [d["delta"] for d in datas if d["type"] == "response.function_call_arguments.delta"]
    assert len(deltas) > 1
    done = next(d for d in datas if d["type"] == "response.function_call_arguments.done")
    assert "".join(deltas) == done["arguments"] == '{"city": "Paris"}'
    assert done["name"] == "get_weather"
    item = datas[-1]["response"]["output"][0]
    assert item["type"] == "function_call" and item["arguments"] == done["arguments"]


def test_max_output_tokens_makes_it_incomplete(client: httpx2.Client) -> None:
    events = stream(client, max_output_tokens=2)
    final = json.loads(events[-1].data)
    assert events[-1].event == "response.incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_injected_error_event(client: httpx2.Client) -> None:
    response = client.post(
        "/v1/responses",
        json={"model": "levante-echo", "input": "a b", "stream": True},
        headers={"x-levante-fault": "error-after=3"},
    )
    events = SSEDecoder().feed(response.content)
    assert len(events) == 4 and events[-1].event == "error"
    error = json.loads(events[-1].data)
    assert error["type"] == "error" and error["sequence_number"] == 3 and error["message"]


def test_bad_input_is_422(client: httpx2.Client) -> None:
    response = client.post("/v1/responses", json={"model": "levante-echo", "input": []})
    assert response.status_code == 422


def test_official_sdk_create_and_stream(server: EmbeddedServer) -> None:
    with Mistral(api_key="k", server_url=server.url) as sdk:
        whole = sdk.responses.create(model="mistral-medium-latest", input="Hello there")
        assert whole.status == "completed"
        message = whole.output[0]
        assert isinstance(message, official.ResponsesOutputMessage)
        text = message.content[0]
        assert isinstance(text, official.ResponsesOutputText)
        assert text.text.startswith("Hello! I am levante-chat")
        stream = sdk.responses.create(
            model="magistral-small-latest",
            input=[{"role": "user", "content": "Can you get_weather for Paris?"}],
            tools=[TOOL],  # type: ignore[list-item]
            reasoning={"effort": "medium"},
            stream=True,
        )
        with stream:
            frames = list(stream)
    data = [frame.data for frame in frames]
    assert isinstance(data[0], official.ResponsesCreatedEvent)
    assert any(isinstance(d, official.ResponsesReasoningTextDeltaEvent) for d in data)
    args = [
        d.delta for d in data if isinstance(d, official.ResponsesFunctionCallArgumentsDeltaEvent)
    ]
    assert "".join(args) == '{"city": "Paris"}'
    last = data[-1]
    assert isinstance(last, official.ResponsesCompletedEvent)
    call = last.response.output[-1]
    assert isinstance(call, official.ResponsesFunctionToolCall) and call.name == "get_weather"
