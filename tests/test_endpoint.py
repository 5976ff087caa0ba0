"""Declarations (levante/_endpoint.py) and the sender's hooks, end to end.

- ``prepare`` without sockets: path parameters, the stream flag, the body's ``stream``.
- A resource written the way resources/_base.py says, whose ``stream=`` flag picks the
  return type (``typing.overload``), against the dev server's speech endpoint.
- The two hooks a deployment client needs (Azure, Google Cloud), against a real server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal, overload

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typing_extensions import Unpack

from levante import EndRule, EventStream, EventStreamAsync, Mistral
from levante._endpoint import JSON, Call, StreamCall, prepare
from levante._request import APIRequest
from levante._send import Sender
from levante.devserver import create_app
from levante.models import (
    ChatCompletionResponse,
    SpeechRequest,
    SpeechResponse,
    SpeechStreamEvents,
    decode_speech_event,
)
from levante.resources._base import RequestParams, Resource, StreamParams
from levante.resources.chat import CHAT_COMPLETE, CHAT_STREAM
from levante.resources.conversations import APPEND
from levante.sse import ServerSentEvent
from liveserver import LiveServer, live_server

MESSAGES = [{"role": "user", "content": "hi"}]

# -- prepare, without sockets ------------------------------------------------------------


def body(req: APIRequest) -> Any:
    assert req.body is not None
    return json.loads(req.body)


def test_path_parameters_are_encoded_and_dot_segments_refused() -> None:
    req = prepare(APPEND, {"conversation_id": "a/b c?d", "inputs": "x"}, "append")
    assert req.path == "/v1/conversations/a%2Fb%20c%3Fd"
    assert "conversation_id" not in body(req)
    for bad in (".", ".."):
        with pytest.raises(ValueError, match="cannot be"):
            prepare(APPEND, {"conversation_id": bad, "inputs": "x"}, "append")
    for missing in ({}, {"conversation_id": ""}, {"conversation_id": 3}):
        with pytest.raises(TypeError, match="requires conversation_id"):
            prepare(APPEND, {"inputs": "x", **missing}, "append")


def test_the_body_stream_flag_follows_the_declaration() -> None:
    assert body(prepare(CHAT_STREAM, {"model": "m", "messages": MESSAGES}, "s"))["stream"] is True
    req = prepare(CHAT_COMPLETE, {"model": "m", "messages": MESSAGES, "stream": None}, "c")
    assert body(req)["stream"] is False
    assert not req.stream and req.model == "m"
    with pytest.raises(ValueError, match=r"chat\.stream\(\) always streams"):
        prepare(CHAT_STREAM, {"model": "m", "messages": MESSAGES, "stream": False}, "chat.stream")


# -- a method whose stream flag picks the return type ------------------------------------


def decode_speech(sse: ServerSentEvent) -> SpeechStreamEvents:
    return decode_speech_event(sse.event, sse.data)


SPEECH = Call(
    name="audio.speech.complete",
    method="POST",
    path="/v1/audio/speech",
    body=JSON(SpeechRequest),
    response=SpeechResponse,
)
SPEECH_STREAM = StreamCall(
    name="audio.speech.complete",
    method="POST",
    path="/v1/audio/speech",
    body=JSON(SpeechRequest),
    stream=EventStream[SpeechStreamEvents],
    stream_async=EventStreamAsync[SpeechStreamEvents],
    decode=decode_speech,
    end=EndRule.at_event({"speech.audio.done"}),
)


class SpeechParams(StreamParams, total=False):
    input: str
    model: str | None
    response_format: str | None


class Speech(Resource):
    """What resources/_base.py tells the next endpoint to look like."""

    __slots__ = ()

    @overload
    def complete(
        self, *, stream: Literal[True], **params: Unpack[SpeechParams]
    ) -> EventStream[SpeechStreamEvents]: ...
    @overload
    def complete(
        self, *, stream: Literal[False] = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse: ...
    def complete(
        self, *, stream: bool = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse | EventStream[SpeechStreamEvents]:
        if stream:
            return self._sender.stream(SPEECH_STREAM, params)
        return self._sender.request(SPEECH, params)

    @overload
    async def complete_async(
        self, *, stream: Literal[True], **params: Unpack[SpeechParams]
    ) -> EventStreamAsync[SpeechStreamEvents]: ...
    @overload
    async def complete_async(
        self, *, stream: Literal[False] = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse: ...
    async def complete_async(
        self, *, stream: bool = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse | EventStreamAsync[SpeechStreamEvents]:
        if stream:
            return await self._sender.stream_async(SPEECH_STREAM, params)
        return await self._sender.request_async(SPEECH, params)


@pytest.fixture(scope="module")
def devserver() -> Iterator[LiveServer]:
    with live_server(create_app()) as server:
        yield server


def speech_for(server: LiveServer) -> tuple[Mistral, Speech]:
    client = Mistral(server_url=server.url, retries=0)
    return client, Speech(client.chat._sender)


def test_stream_flag_picks_the_return_type(devserver: LiveServer) -> None:
    client, speech = speech_for(devserver)
    with client:
        whole = speech.complete(input="Bonjour", response_format="wav")
        assert isinstance(whole, SpeechResponse) and whole.audio_data
        with speech.complete(input="Bonjour", response_format="wav", stream=True) as events:
            kinds = [event.event for event in events]
        assert kinds[-1] == "speech.audio.done"
        assert set(kinds[:-1]) == {"speech.audio.delta"}
        assert events.response.request.headers["accept"] == "text/event-stream"
        assert json.loads(events.response.request.content)["stream"] is True
    assert devserver.wait_for_connections(0) == 0


@pytest.mark.anyio
async def test_stream_flag_picks_the_return_type_async(devserver: LiveServer) -> None:
    client, speech = speech_for(devserver)
    async with client:
        whole = await speech.complete_async(input="Salut")
        assert isinstance(whole, SpeechResponse)
        async with await speech.complete_async(input="Salut", stream=True) as events:
            kinds = [event.event async for event in events]
        assert kinds[-1] == "speech.audio.done"


# -- hooks for other deployments ---------------------------------------------------------


class AzureLikeSender(Sender):
    """Azure's shape: its own path, an api-version query parameter, the key as a header."""

    def url_for(self, base: str, req: APIRequest) -> str:
        path = req.path.replace("/v1/chat/completions", "/models/chat/completions")
        return f"{base}{path}?api-version=2024-05-01-preview"

    def auth_headers(self, base: str) -> dict[str, str]:
        return {"api-key": str(self.api_key)}


class GCPLikeSender(Sender):
    """Google Cloud's shape: the model in the path, a bearer token refreshed per call."""

    tokens = iter(["tok-1", "tok-2"])

    def url_for(self, base: str, req: APIRequest) -> str:
        verb = "streamRawPredict" if req.stream else "rawPredict"
        return f"{base}/v1/projects/p/locations/r/publishers/mistralai/models/{req.model}:{verb}"

    def auth_headers(self, base: str) -> dict[str, str]:
        return {"authorization": f"Bearer {next(self.tokens)}"}


def client_with(sender_cls: type[Sender], server_url: str) -> Mistral:
    class Deployment(Mistral):
        def _create_sender(self, **config: Any) -> Sender:
            return sender_cls(**config)

    return Deployment(api_key="azure-key", server_url=server_url, retries=0)


COMPLETION = {
    "id": "c",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


@pytest.fixture
def seen() -> Iterator[tuple[list[dict[str, Any]], LiveServer]]:
    requests: list[dict[str, Any]] = []

    async def handle(request: Request) -> Response:
        requests.append(
            {
                "path": request.scope["raw_path"].decode(),
                "query": dict(request.query_params),
                "headers": dict(request.headers),
            }
        )
        if request.headers["accept"] == "text/event-stream":
            chunk = {**COMPLETION, "choices": [{"index": 0, "delta": {"content": "ok"}}]}
            sse = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n"
            return Response(sse, media_type="text/event-stream")
        return JSONResponse(COMPLETION)

    app = Starlette(routes=[Route("/{path:path}", handle, methods=["POST"])])
    with live_server(app) as server:
        yield requests, server


def test_url_and_auth_hooks(seen: tuple[list[dict[str, Any]], LiveServer]) -> None:
    requests, server = seen
    with client_with(AzureLikeSender, server.url) as azure:
        reply: ChatCompletionResponse = azure.chat.complete(model="m", messages=MESSAGES)
        assert reply.choices[0].message.content == "ok"
    with client_with(GCPLikeSender, server.url) as gcp:
        with gcp.chat.stream(model="codestral", messages=MESSAGES) as stream:
            assert "".join(stream.text_stream) == "ok"
        gcp.chat.complete(model="codestral", messages=MESSAGES)
    first, second, third = requests
    assert first["path"] == "/models/chat/completions"
    assert first["query"] == {"api-version": "2024-05-01-preview"}
    assert first["headers"]["api-key"] == "azure-key"
    assert "authorization" not in first["headers"]
    model_path = "/v1/projects/p/locations/r/publishers/mistralai/models/codestral"
    assert second["path"] == model_path + ":streamRawPredict"
    assert third["path"] == model_path + ":rawPredict"
    assert [second["headers"]["authorization"], third["headers"]["authorization"]] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_resources_hold_the_sender_not_the_client() -> None:
    client = Mistral(api_key="k", server_url="http://127.0.0.1:9")
    senders = {id(resource._sender) for resource in (client.chat, client.fim, client.agents)}
    senders |= {id(client.conversations._sender), id(client.models._sender)}
    assert len(senders) == 1
    assert all(not isinstance(v, Mistral) for v in vars(client.chat._sender).values())
    assert RequestParams.__optional_keys__ < StreamParams.__optional_keys__
    client.close()
