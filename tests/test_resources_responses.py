"""``client.responses`` over real sockets: against the dev server (every call and its async
twin, text_stream, final_response, incomplete answers, errors, lifecycle) and against a
tiny inline app for the end rule's other cases (response.failed, unknown event types, a
body cut before the terminal event, events after it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from levante import Mistral
from levante.errors import IncompleteStreamError, StreamAPIError
from levante.models import (
    CreateResponseResponse,
    ResponsesCompletedEvent,
    ResponsesFunctionToolCall,
    ResponsesReasoningItem,
    ResponsesTextDeltaEvent,
)
from levante.resources import ResponseStream
from liveserver import CountingApp, LiveServer, live_server

MODEL = "mistral-medium-latest"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
def client(dev_server: LiveServer) -> Iterator[Mistral]:
    with Mistral(server_url=dev_server.url, retries=0, timeout=10) as c:
        yield c


def fault(spec: str) -> dict[str, Any]:
    return {"http_headers": {"x-levante-fault": spec}}


def test_create_and_stream_agree(client: Mistral) -> None:
    whole = client.responses.create(model=MODEL, input="Tell me about the levante")
    assert isinstance(whole, CreateResponseResponse) and whole.status == "completed"
    with client.responses.create(model=MODEL, input="Tell me about the levante", stream=True) as s:
        assert isinstance(s, ResponseStream)
        text = "".join(s.text_stream)
    final = s.final_response()
    assert final.status == "completed"
    assert text == final.output_text == whole.output_text
    assert final.usage == whole.usage
    assert s.closed


def test_reasoning_and_function_calls_are_rebuilt(client: Mistral) -> None:
    call: dict[str, Any] = {
        "model": MODEL,
        "input": "Use get_weather for Murcia",
        "tools": [TOOL],
        "tool_choice": "required",
        "reasoning": {"effort": "high"},
    }
    whole = client.responses.create(**call)
    with client.responses.create(**call, stream=True) as stream:
        frames = list(stream)
    assert isinstance(frames[-1].data, ResponsesCompletedEvent)
    assert [frame.event for frame in frames] == [frame.data.type for frame in frames]
    final = stream.final_response()
    kinds = [type(item) for item in final.output]
    assert kinds == [type(item) for item in whole.output]
    assert ResponsesReasoningItem in kinds and ResponsesFunctionToolCall in kinds
    calls = [item for item in final.output if isinstance(item, ResponsesFunctionToolCall)]
    assert json.loads(calls[0].arguments) == json.loads(
        next(i for i in whole.output if isinstance(i, ResponsesFunctionToolCall)).arguments
    )


def test_incomplete_is_an_answer(client: Mistral) -> None:
    with client.responses.create(
        model=MODEL, input="Tell me about the levante", max_output_tokens=3, stream=True
    ) as stream:
        frames = list(stream)
    assert frames[-1].event == "response.incomplete"
    final = stream.final_response()
    assert final.status == "incomplete" and final.output_text


@pytest.mark.anyio
async def test_async_twins(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url, retries=0, timeout=10) as client:
        whole = await client.responses.create_async(model=MODEL, input="Hello")
        stream = await client.responses.create_async(model=MODEL, input="Hello", stream=True)
        async with stream:
            pieces = [piece async for piece in stream.text_stream]
        assert "".join(pieces) == whole.output_text
        async with await client.responses.create_async(
            model=MODEL, input="Hello", stream=True
        ) as stream:
            final = await stream.final_response()
        assert final.output_text == whole.output_text


def test_error_event_raises_and_releases(client: Mistral, dev_server: LiveServer) -> None:
    with (
        pytest.raises(StreamAPIError) as caught,
        client.responses.create(
            model=MODEL, input="Hi", stream=True, **fault("error-after=4")
        ) as s,
    ):
        list(s)
    assert caught.value.events_delivered == 4
    assert caught.value.event is not None and caught.value.event.event == "error"
    assert s.closed
    with client.responses.create(model=MODEL, input="Tell me about the levante", stream=True) as s:
        next(iter(s))  # leave early
    assert s.closed
    assert client.responses.create(model=MODEL, input="Hi").status == "completed"


@pytest.mark.anyio
async def test_cancel_releases(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url, retries=0, timeout=10) as client:
        stream = await client.responses.create_async(
            model=MODEL, input="Hi", stream=True, **fault("stall-after=3:30")
        )
        with anyio.move_on_after(0.3) as scope:
            async with stream:
                async for _ in stream:
                    pass
        assert scope.cancelled_caught and stream.closed
        assert stream.stats.events == 3


# -- the end rule, against an inline app ------------------------------------------------------


def frame(kind: str, **fields: Any) -> bytes:
    data = json.dumps({"type": kind, "sequence_number": 0, **fields})
    return f"event: {kind}\ndata: {data}\n\n".encode()


RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": MODEL,
    "status": "in_progress",
    "output": [],
}
DELTA = frame(
    "response.output_text.delta", item_id="m", output_index=0, content_index=0, delta="Hi"
)
BODIES = {
    "failed": [
        frame("response.created", response=RESPONSE),
        DELTA,
        frame(
            "response.failed",
            response={
                **RESPONSE,
                "status": "failed",
                "error": {"code": "server_error", "message": "the model fell over"},
            },
        ),
    ],
    "cut": [frame("response.created", response=RESPONSE), DELTA],
    "unknown then more after the end": [
        frame("response.created", response=RESPONSE),
        frame("response.web_search_call.searching", item_id="w", output_index=0),
        DELTA,
        frame("response.completed", response={**RESPONSE, "status": "completed"}),
        frame("response.output_text.delta", output_index=0, content_index=0, delta="!"),
    ],
}


@pytest.fixture(scope="module")
def scripted() -> Iterator[tuple[CountingApp, LiveServer]]:
    async def respond(request: Request) -> Response:
        body = BODIES[request.headers["x-body"]]
        return Response(b"".join(body), media_type="text/event-stream")

    app = CountingApp(Starlette(routes=[Route("/v1/responses", respond, methods=["POST"])]))
    with live_server(app) as server:
        yield app, server


def scripted_stream(server: LiveServer, body: str) -> Any:
    client = Mistral(server_url=server.url, retries=0, timeout=10)
    return client.responses.create(
        model=MODEL, input="x", stream=True, http_headers={"x-body": body}
    )


def test_response_failed_raises(scripted: tuple[CountingApp, LiveServer]) -> None:
    _, server = scripted
    with pytest.raises(StreamAPIError) as caught, scripted_stream(server, "failed") as stream:
        list(stream)
    assert caught.value.events_delivered == 2
    assert caught.value.payload["response"]["error"]["message"] == "the model fell over"
    assert "the model fell over" in str(caught.value)
    assert stream.closed


def test_a_cut_body_is_incomplete(scripted: tuple[CountingApp, LiveServer]) -> None:
    _, server = scripted
    with (
        pytest.raises(IncompleteStreamError, match=r"response\.completed"),
        scripted_stream(server, "cut") as stream,
    ):
        list(stream)
    assert stream.stats.events == 2


def test_unknown_types_are_kept_and_the_end_is_the_end(
    scripted: tuple[CountingApp, LiveServer],
) -> None:
    _, server = scripted
    with scripted_stream(server, "unknown then more after the end") as stream:
        frames = list(stream)
    assert [frame.event for frame in frames] == [
        "response.created",
        "response.web_search_call.searching",
        "response.output_text.delta",
        "response.completed",
    ]
    unknown = frames[1].data
    assert unknown.is_unknown and unknown.raw is not None  # type: ignore[union-attr]
    assert isinstance(frames[2].data, ResponsesTextDeltaEvent)


# -- bad input -----------------------------------------------------------------------------


def test_bad_input_fails_before_any_request(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    with Mistral(server_url=server.url, retries=0) as client:
        with pytest.raises(TypeError, match="stream_options"):
            client.responses.create(model=MODEL, input="x", stream_options={})  # type: ignore[call-overload]
        with pytest.raises(ValueError, match="input"):
            client.responses.create(model=MODEL, input=42)  # type: ignore[call-overload]
        with pytest.raises(ValueError, match="idle_timeout"):
            client.responses.create(model=MODEL, input="x", stream=True, idle_timeout=-1)
        with pytest.raises(TypeError, match="repeats model"):
            client.responses.create(
                model=MODEL, input="x", additional_properties={"model": "other"}
            )
    assert app.seen == 0
