"""responses.create on the wire: the same calls as the official SDK send the same request
(its always-sent defaults included) and give the same attribute values from the same
answer bytes, streamed (every event kind: reasoning, text, function-call arguments) or
not. The answer bytes are the dev server's, recorded once per module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mistralai.client import Mistral as OfficialMistral

from levante import Mistral
from levante.devserver import EmbeddedServer
from levante.models import ResponsesStreamFrame
from official_compare import assert_same_attributes
from wire import Recorder, json_answer, same_request, sse_answer

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALLS: dict[str, dict[str, Any]] = {
    "a string input": {"model": "mistral-medium-latest", "input": "Tell me about the levante"},
    "every field": {
        "model": "mistral-medium-latest",
        "input": [
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "content": [{"type": "input_text", "text": "Use get_weather: Murcia?"}],
            },
        ],
        "instructions": "Answer in English.",
        "parallel_tool_calls": False,
        "tools": [TOOL],
        "tool_choice": "required",
        "reasoning": {"effort": "high"},
        "max_output_tokens": 200,
        "temperature": 0.2,
        "top_p": 0.9,
        "metadata": {"run": "1"},
        "prompt_cache_key": "k1",
        "max_tool_calls": 2,
        "additional_properties": {"user": "u-1"},
    },
    "a function call output": {
        "model": "mistral-medium-latest",
        "input": [
            {"role": "user", "content": "Weather in Murcia?"},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city": "Murcia"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        ],
        "tools": [TOOL],
        "instructions": None,
    },
}


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, tuple[Any, bytes]]]:
    """Per call: the dev server's JSON answer and its event stream, as bytes."""
    recorded: dict[str, tuple[Any, bytes]] = {}
    with EmbeddedServer() as server, httpx2.Client(base_url=server.url, timeout=10) as http:
        for name, call in CALLS.items():
            body = {k: v for k, v in call.items() if k != "additional_properties"}
            whole = http.post("/v1/responses", json=body).json()
            stream = http.post("/v1/responses", json={**body, "stream": True}).content
            recorded[name] = (whole, stream)
    yield recorded


def without_ids(value: Any) -> Any:
    """``value`` without ids and null fields (a stream's items may spell out ``null``s)."""
    if isinstance(value, dict):
        return {
            k: without_ids(v)
            for k, v in value.items()
            if k not in ("id", "call_id") and v is not None
        }
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


def pair(recorder: Recorder) -> tuple[OfficialMistral, Mistral]:
    theirs = OfficialMistral(api_key="k", server_url="http://wire.test", client=recorder.client())
    ours = Mistral(api_key="k", server_url="http://wire.test", client=recorder.client())
    return theirs, ours


@pytest.mark.parametrize("name", list(CALLS))
def test_create_wire(name: str, answers: dict[str, tuple[Any, bytes]]) -> None:
    whole, _ = answers[name]
    recorder = Recorder(json_answer(whole))
    theirs, ours = pair(recorder)
    their_reply = theirs.responses.create(**CALLS[name])
    my_reply = ours.responses.create(**CALLS[name], stream=False)
    same_request(*recorder.requests)
    sent = json.loads(recorder.last.content)
    # the defaults the official SDK always sends
    for key, value in {"truncation": "disabled", "background": False, "store": False}.items():
        assert sent[key] == value
    assert sent["stream"] is False and sent["top_logprobs"] == 0
    assert_same_attributes(my_reply, their_reply)


@pytest.mark.parametrize("name", list(CALLS))
def test_create_stream_wire(name: str, answers: dict[str, tuple[Any, bytes]]) -> None:
    whole, stream_bytes = answers[name]
    recorder = Recorder(sse_answer(stream_bytes))
    theirs, ours = pair(recorder)
    with theirs.responses.create(**CALLS[name], stream=True) as stream:
        their_frames = list(stream)
    with ours.responses.create(**CALLS[name], stream=True) as frames:
        my_frames = list(frames)
    same_request(*recorder.requests)
    assert recorder.last.headers["accept"] == "text/event-stream"
    assert json.loads(recorder.last.content)["stream"] is True
    assert len(my_frames) == len(their_frames) > 5
    for mine, their in zip(my_frames, their_frames, strict=True):
        assert isinstance(mine, ResponsesStreamFrame)
        assert_same_attributes(mine, their)
    # the stream's response has the non-streamed one's output (ids apart: the server
    # numbers its items across requests)
    final = frames.final_response()
    mine_out = without_ids(final.model_dump(mode="json")["output"])
    their_out = without_ids(whole["output"])
    assert mine_out == their_out


def test_every_event_kind_is_compared(answers: dict[str, tuple[Any, bytes]]) -> None:
    kinds = set()
    for _, stream_bytes in answers.values():
        kinds |= {
            line.split(": ", 1)[1]
            for line in stream_bytes.decode().splitlines()
            if line[:6] == "event:"
        }
    assert {
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    } <= kinds


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the official async path is asyncio-only
async def test_create_async_wire(answers: dict[str, tuple[Any, bytes]]) -> None:
    whole, stream_bytes = answers["every field"]
    recorder = Recorder(json_answer(whole))
    theirs = OfficialMistral(
        api_key="k", server_url="http://wire.test", async_client=recorder.async_client()
    )
    ours = Mistral(api_key="k", server_url="http://wire.test", async_client=recorder.async_client())
    call = CALLS["every field"]
    assert_same_attributes(
        await ours.responses.create_async(**call), await theirs.responses.create_async(**call)
    )
    recorder.answer = sse_answer(stream_bytes)
    their_stream = await theirs.responses.create_async(**call, stream=True)
    their_frames = [frame async for frame in their_stream]
    async with await ours.responses.create_async(**call, stream=True) as stream:
        my_frames = [frame async for frame in stream]
    for mine, their in zip(my_frames, their_frames, strict=True):
        assert_same_attributes(mine, their)
    same_request(*recorder.requests[:2])
    same_request(*recorder.requests[2:])


def test_per_call_options_wire(answers: dict[str, tuple[Any, bytes]]) -> None:
    whole, _ = answers["a string input"]
    recorder = Recorder(json_answer(whole))
    theirs, ours = pair(recorder)
    options: dict[str, Any] = {
        "server_url": "http://other.test/p",
        "timeout_ms": 999,
        "http_headers": {"x-trace": "t"},
        "retries": None,
    }
    theirs.responses.create(**CALLS["a string input"], **options)
    ours.responses.create(**CALLS["a string input"], **options)
    same_request(*recorder.requests)
    assert str(recorder.last.url) == "http://other.test/p/v1/responses"
    assert recorder.requests[0].extensions["timeout"] == recorder.requests[1].extensions["timeout"]


def test_text_settings_are_sent(answers: dict[str, tuple[Any, bytes]]) -> None:
    # a known departure: the official 3.7 client drops ``text`` from the body (its model
    # field is never serialized); levante sends what the caller asked for
    whole, _ = answers["a string input"]
    recorder = Recorder(json_answer(whole))
    theirs, ours = pair(recorder)
    text = {"format": {"type": "json_object"}}
    theirs.responses.create(**CALLS["a string input"], text=text)
    ours.responses.create(**CALLS["a string input"], text=text)
    their_body, my_body = (json.loads(r.content) for r in recorder.requests)
    assert "text" not in their_body
    assert my_body.pop("text")["format"] == {"type": "json_object"}
    assert my_body == their_body
