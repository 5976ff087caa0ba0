"""Every resource end to end over loopback, sync and async (asyncio and trio)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from levante.client import Mistral
from levante.errors import IncompleteStreamError, StreamAPIError, StreamTimeout
from levante.models import UserMessage
from levante.resources.chat import ChatCompletionStream, ChatCompletionStreamAsync
from liveserver import LiveServer, live_server

MESSAGES = [{"role": "user", "content": "hi"}]


def chunk(content: str | None = None, *, finish: str | None = None, **extra: Any) -> bytes:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    delta.update(extra)
    data = {
        "id": "cmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if finish:
        data["usage"] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return b"data: " + json.dumps(data).encode() + b"\n\n"


CHAT_SSE = (
    chunk(role="assistant", content="")
    + chunk("Hello")
    + chunk(", world")
    + chunk("", finish="stop")
    + b"data: [DONE]\n\n"
)
COMPLETION = {
    "id": "cmpl-2",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def conv_event(kind: str, **data: Any) -> bytes:
    payload = {"type": kind, "created_at": "2025-01-01T00:00:00Z", **data}
    return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()


CONV_SSE = (
    conv_event("conversation.response.started", conversation_id="conv-1")
    + conv_event(
        "message.output.delta",
        id="e1",
        output_index=0,
        content_index=0,
        content="Bon",
        role="assistant",
        model="m",
    )
    + conv_event("some.future.event", surprise=[1, 2])
    + conv_event(
        "conversation.response.done",
        usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    )
)
CONV_RESPONSE = {
    "object": "conversation.response",
    "conversation_id": "conv-1",
    "outputs": [
        {
            "object": "entry",
            "type": "message.output",
            "id": "e1",
            "created_at": "2025-01-01T00:00:00Z",
            "role": "assistant",
            "content": "Bonjour",
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
MODELS = {
    "object": "list",
    "data": [
        {"id": "mistral-small-latest", "object": "model", "created": 1, "owned_by": "mistralai"}
    ],
}


class Recorder:
    """A Mistral-like app that records each request and answers by path and Accept."""

    def __init__(self, sse: bytes = CHAT_SSE, conv_sse: bytes = CONV_SSE) -> None:
        self.requests: list[dict[str, Any]] = []
        self.sse = sse
        self.conv_sse = conv_sse
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        path = request.url.path
        self.requests.append(
            {
                "method": request.method,
                "path": path,
                "raw_path": request.scope["raw_path"].decode(),
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "body": json.loads(raw) if raw else None,
            }
        )
        streaming = request.headers.get("accept") == "text/event-stream"
        if path == "/v1/models":
            return JSONResponse(MODELS)
        if path.startswith("/v1/conversations"):
            if streaming:
                return Response(self.conv_sse, media_type="text/event-stream")
            return JSONResponse(CONV_RESPONSE)
        if streaming:
            return Response(self.sse, media_type="text/event-stream")
        return JSONResponse(COMPLETION)

    @property
    def last(self) -> dict[str, Any]:
        return self.requests[-1]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder):
    with live_server(recorder.app) as live:
        yield live


@pytest.fixture
def client(server: LiveServer):
    with Mistral(api_key="k", server_url=server.url, retries=0) as mistral:
        yield mistral


# -- chat --------------------------------------------------------------------------------


def test_chat_stream_events_and_request(client: Mistral, recorder: Recorder) -> None:
    with client.chat.stream(
        model="m", messages=[UserMessage(content="hi")], temperature=0.2, max_tokens=9
    ) as stream:
        assert isinstance(stream, ChatCompletionStream)
        contents = [event.data.choices[0].delta.content for event in stream]
    assert contents == ["", "Hello", ", world", ""]
    request = recorder.last
    assert (request["method"], request["path"]) == ("POST", "/v1/chat/completions")
    assert request["headers"]["accept"] == "text/event-stream"
    assert request["body"] == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "max_tokens": 9,
        "stream": True,
    }


def test_chat_text_stream_and_final_response(client: Mistral) -> None:
    with client.chat.stream(model="m", messages=MESSAGES, stream=True) as stream:
        first = next(stream.text_stream)
        assert first == "Hello"
        final = stream.final_response()
    message = final.choices[0].message
    assert message is not None
    assert message.content == "Hello, world"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.total_tokens == 5
    with client.chat.stream(model="m", messages=MESSAGES) as stream:
        assert list(stream.text_stream) == ["Hello", ", world"]


def test_one_keep_alive_connection_serves_every_call(client: Mistral, server: LiveServer) -> None:
    for _ in range(3):
        with client.chat.stream(model="m", messages=MESSAGES) as stream:
            list(stream)
        client.chat.complete(model="m", messages=MESSAGES)
        with client.conversations.start_stream(inputs="x", model="m") as events:
            list(events)
        client.models.list()
    assert server.open_connections == 1


def test_text_stream_follows_choice_zero_and_text_chunks(
    recorder: Recorder, client: Mistral
) -> None:
    def deltas(*contents: tuple[int, Any]) -> bytes:
        choices = [
            {"index": index, "delta": {"content": content}, "finish_reason": None}
            for index, content in contents
        ]
        return (
            b"data: " + json.dumps({"id": "c", "model": "m", "choices": choices}).encode() + b"\n\n"
        )

    thinking = [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}]
    recorder.sse = (
        deltas((1, "x"), (0, "a"))
        + chunk(role="assistant")
        + deltas((0, [*thinking, {"type": "text", "text": "b"}]))
        + deltas((1, "y"), (0, "c"))
        + b"data: [DONE]\n\n"
    )
    with client.chat.stream(model="m", messages=MESSAGES, n=2) as stream:
        assert list(stream.text_stream) == ["a", "b", "c"]


def test_chat_complete(client: Mistral, recorder: Recorder) -> None:
    response = client.chat.complete(model="m", messages=MESSAGES, random_seed=7)
    assert response.choices[0].message is not None
    assert response.choices[0].message.content == "whole"
    assert recorder.last["headers"]["accept"] == "application/json"
    assert recorder.last["body"]["random_seed"] == 7
    assert recorder.last["body"]["stream"] is False


def test_bad_arguments_fail_before_io(client: Mistral, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="always streams"):
        client.chat.stream(model="m", messages=MESSAGES, stream=False)
    with pytest.raises(ValueError, match="does not stream"):
        client.chat.complete(model="m", messages=MESSAGES, stream=True)
    with pytest.raises(ValueError, match="temprature"):
        client.chat.complete(model="m", messages=MESSAGES, temprature=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="messages"):
        client.chat.complete(model="m")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="first_event_timeout"):
        client.chat.stream(model="m", messages=MESSAGES, first_event_timeout=-1)
    with pytest.raises(TypeError, match="conversation_id"):
        client.beta.conversations.append_stream(conversation_id="", inputs="x")
    assert recorder.requests == []


def test_mid_stream_error_event_raises(recorder: Recorder, client: Mistral) -> None:
    recorder.sse = chunk("partial") + b'data: {"object": "error", "message": "overloaded"}\n\n'
    with client.chat.stream(model="m", messages=MESSAGES) as stream:
        received = []
        with pytest.raises(StreamAPIError) as info:
            received.extend(event.data.choices[0].delta.content for event in stream)
    assert received == ["partial"]
    assert info.value.events_delivered == 1


def test_truncated_chat_stream_raises(recorder: Recorder, client: Mistral) -> None:
    recorder.sse = chunk("a") + chunk("b")
    with (
        client.chat.stream(model="m", messages=MESSAGES) as stream,
        pytest.raises(IncompleteStreamError),
    ):
        list(stream)


def test_first_event_timeout_per_call() -> None:
    async def handler(request: Request) -> Response:
        async def body():
            await asyncio.sleep(2)
            yield CHAT_SSE

        return StreamingResponse(body(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/chat/completions", handler, methods=["POST"])])
    with (
        live_server(app) as server,
        Mistral(server_url=server.url) as client,
        client.chat.stream(model="m", messages=MESSAGES, first_event_timeout=0.1) as stream,
        pytest.raises(StreamTimeout),
    ):
        next(iter(stream))


# -- fim, agents -------------------------------------------------------------------------


def test_fim_stream_and_complete(client: Mistral, recorder: Recorder) -> None:
    with client.fim.stream(model="codestral-latest", prompt="def f(", suffix="):") as stream:
        text = "".join(event.data.choices[0].delta.content or "" for event in stream)
    assert text == "Hello, world"
    assert recorder.last["path"] == "/v1/fim/completions"
    assert recorder.last["body"] == {
        "model": "codestral-latest",
        "prompt": "def f(",
        "suffix": "):",
        "stream": True,
    }
    response = client.fim.complete(model="codestral-latest", prompt="x")
    assert response.id == "cmpl-2"
    assert recorder.last["body"]["stream"] is False


def test_agents_stream_and_complete(client: Mistral, recorder: Recorder) -> None:
    with client.agents.stream(agent_id="ag-1", messages=MESSAGES) as stream:
        assert stream.final_response().choices[0].message.content == "Hello, world"  # type: ignore[union-attr]
    assert recorder.last["path"] == "/v1/agents/completions"
    assert recorder.last["body"] == {"agent_id": "ag-1", "messages": MESSAGES, "stream": True}
    assert client.agents.complete(agent_id="ag-1", messages=MESSAGES).id == "cmpl-2"


# -- conversations -----------------------------------------------------------------------


def test_conversation_streams(client: Mistral, recorder: Recorder) -> None:
    assert client.conversations is client.beta.conversations
    with client.beta.conversations.start_stream(inputs="Bonjour", model="m") as stream:
        events = list(stream)
    assert [event.event for event in events] == [
        "conversation.response.started",
        "message.output.delta",
        "some.future.event",
        "conversation.response.done",
    ]
    assert events[0].data.conversation_id == "conv-1"  # type: ignore[union-attr]
    assert events[1].data.content == "Bon"  # type: ignore[union-attr]
    assert recorder.last["path"] == "/v1/conversations"
    assert recorder.last["body"] == {"inputs": "Bonjour", "model": "m", "stream": True}

    with client.conversations.append_stream(conversation_id="conv/1", inputs="more") as stream:
        assert list(stream)[-1].event == "conversation.response.done"
    assert recorder.last["raw_path"] == "/v1/conversations/conv%2F1"
    assert recorder.last["body"] == {
        "inputs": "more",
        "stream": True,
        "store": True,
        "handoff_execution": "server",
    }

    with client.conversations.restart_stream(
        conversation_id="conv-1", from_entry_id="e1", inputs="again"
    ) as stream:
        assert len(list(stream)) == 4
    assert recorder.last["path"] == "/v1/conversations/conv-1/restart"
    assert recorder.last["body"]["from_entry_id"] == "e1"


def test_conversation_stream_without_done_is_incomplete(
    recorder: Recorder, client: Mistral
) -> None:
    recorder.conv_sse = conv_event("conversation.response.started", conversation_id="c")
    with (
        client.conversations.start_stream(inputs="x", model="m") as stream,
        pytest.raises(IncompleteStreamError),
    ):
        list(stream)


def test_conversation_error_event_ends_the_stream(recorder: Recorder, client: Mistral) -> None:
    recorder.conv_sse = conv_event(
        "conversation.response.started", conversation_id="c"
    ) + conv_event("conversation.response.error", message="tool failed", code=3000)
    with client.conversations.start_stream(inputs="x", model="m") as stream:
        events = list(stream)
    assert [event.event for event in events][-1] == "conversation.response.error"
    assert events[-1].data.message == "tool failed"  # type: ignore[union-attr]


def test_conversation_non_streamed(client: Mistral, recorder: Recorder) -> None:
    assert client.conversations.start(inputs="x", model="m").conversation_id == "conv-1"
    assert recorder.last["body"] == {"inputs": "x", "model": "m", "stream": False}
    client.conversations.append(conversation_id="conv-1", inputs="y")
    assert recorder.last["path"] == "/v1/conversations/conv-1"
    client.conversations.restart(conversation_id="conv-1", from_entry_id="e", inputs="z")
    assert recorder.last["path"] == "/v1/conversations/conv-1/restart"


# -- models ------------------------------------------------------------------------------


def test_models_list(client: Mistral, recorder: Recorder) -> None:
    models = client.models.list()
    assert [model.id for model in models.data] == ["mistral-small-latest"]
    assert recorder.last["method"] == "GET"
    assert recorder.last["body"] is None
    assert "content-type" not in recorder.last["headers"]
    client.models.list(provider="mistral")
    assert recorder.last["query"] == {"provider": "mistral"}


# -- async twins -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_every_resource(recorder: Recorder, server: LiveServer) -> None:
    async with Mistral(api_key="k", server_url=server.url) as client:
        async with await client.chat.stream_async(model="m", messages=MESSAGES) as stream:
            assert isinstance(stream, ChatCompletionStreamAsync)
            texts = [text async for text in stream.text_stream]
        assert texts == ["Hello", ", world"]

        async with await client.chat.stream_async(model="m", messages=MESSAGES) as stream:
            final = await stream.final_response()
        assert final.choices[0].message.content == "Hello, world"  # type: ignore[union-attr]

        response = await client.chat.complete_async(model="m", messages=MESSAGES)
        assert response.id == "cmpl-2"

        async with await client.fim.stream_async(model="c", prompt="p") as fim_stream:
            assert len([event async for event in fim_stream]) == 4
        assert recorder.last["path"] == "/v1/fim/completions"
        assert (await client.fim.complete_async(model="c", prompt="p")).id == "cmpl-2"

        async with await client.agents.stream_async(agent_id="a", messages=MESSAGES) as stream:
            assert (await stream.final_response()).usage.total_tokens == 5  # type: ignore[union-attr]
        assert (await client.agents.complete_async(agent_id="a", messages=MESSAGES)).id == "cmpl-2"

        conversations = client.beta.conversations
        async with await conversations.start_stream_async(inputs="x", model="m") as events:
            kinds = [event.event async for event in events]
        assert kinds[-1] == "conversation.response.done"
        async with await conversations.append_stream_async(
            conversation_id="c", inputs="y"
        ) as events:
            assert len([event async for event in events]) == 4
        async with await conversations.restart_stream_async(
            conversation_id="c", from_entry_id="e"
        ) as events:
            assert len([event async for event in events]) == 4
        assert recorder.last["path"] == "/v1/conversations/c/restart"
        assert (await conversations.start_async(inputs="x", model="m")).conversation_id == "conv-1"
        await conversations.append_async(conversation_id="c", inputs="y")
        await conversations.restart_async(conversation_id="c", from_entry_id="e")

        models = await client.models.list_async()
        assert models.data[0].id == "mistral-small-latest"
    assert server.wait_for_connections(0) == 0


@pytest.mark.anyio
async def test_async_mid_stream_error_and_truncation(
    recorder: Recorder, server: LiveServer
) -> None:
    recorder.sse = chunk("x") + b'event: error\ndata: {"message": "boom"}\n\n'
    recorder.conv_sse = conv_event("conversation.response.started", conversation_id="c")
    async with Mistral(api_key="k", server_url=server.url) as client:
        async with await client.chat.stream_async(model="m", messages=MESSAGES) as stream:
            with pytest.raises(StreamAPIError):
                async for _ in stream:
                    pass
        async with await client.conversations.start_stream_async(inputs="x", model="m") as events:
            with pytest.raises(IncompleteStreamError):
                async for _ in events:
                    pass
