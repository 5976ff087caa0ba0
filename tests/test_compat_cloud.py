"""MistralAzure and MistralGCP on the wire: the same calls as the official Azure and GCP
clients send the same requests (URL with api-version or the Vertex AI predict path,
Accept, Authorization, JSON bytes) and read the same attribute values."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from mistralai.azure.client import MistralAzure as OfficialAzure
from mistralai.gcp.client import MistralGCP as OfficialGCP

from levante import MistralAzure, MistralGCP
from official_compare import assert_same_attributes
from wire import Recorder, json_answer, same_request, sse_answer, sse_body

USAGE = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": USAGE,
}
FIM = {**COMPLETION, "object": "fim.completion"}
CHUNKS = sse_body(
    (
        None,
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}
            ],
        },
    ),
    (
        None,
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}],
            "usage": USAGE,
        },
    ),
    (None, "[DONE]"),
)
MESSAGES = [{"role": "user", "content": "Bonjour"}]
CHAT_CALLS: dict[str, dict[str, Any]] = {
    "messages only": {"messages": MESSAGES},
    "every field": {
        "messages": [
            {"role": "system", "content": "Be brief."},
            *MESSAGES,
            {"role": "assistant", "content": "Salut", "prefix": True},
        ],
        "model": "mistral-large-2411",
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 20,
        "stop": ["\n\n"],
        "random_seed": 7,
        "metadata": {"run": "1"},
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "n": 1,
        "parallel_tool_calls": False,
        "prediction": {"type": "content", "content": "Salut"},
        "reasoning_effort": "low",
        "prompt_mode": None,
    },
}
AZURE_VERSION = "2024-05-01-preview"


def azure_pair(recorder: Recorder, *, asynchronous: bool = False) -> tuple[Any, MistralAzure]:
    # the official client sends api-version through its own HTTP client's params, which a
    # client passed in must carry
    transport = httpx2.MockTransport(recorder)
    params = {"api-version": AZURE_VERSION}
    if asynchronous:
        theirs = OfficialAzure(
            api_key="az-key",
            server_url="https://mistral.example.azure.com",
            async_client=httpx2.AsyncClient(transport=transport, params=params),
        )
        ours = MistralAzure(
            "az-key",
            server_url="https://mistral.example.azure.com",
            async_client=recorder.async_client(),
        )
        return theirs, ours
    theirs = OfficialAzure(
        api_key="az-key",
        server_url="https://mistral.example.azure.com",
        client=httpx2.Client(transport=transport, params=params),
    )
    ours = MistralAzure(
        "az-key", server_url="https://mistral.example.azure.com", client=recorder.client()
    )
    return theirs, ours


@pytest.mark.parametrize("call", CHAT_CALLS.values(), ids=list(CHAT_CALLS))
def test_azure_chat_wire(call: dict[str, Any]) -> None:
    recorder = Recorder(json_answer(COMPLETION))
    theirs, ours = azure_pair(recorder)
    their_reply = theirs.chat.complete(**call)
    my_reply = ours.chat.complete(**call)
    same_request(*recorder.requests)
    assert str(recorder.last.url) == (
        "https://mistral.example.azure.com/models/chat/completions?api-version=" + AZURE_VERSION
    )
    assert_same_attributes(my_reply, their_reply)

    recorder.answer = sse_answer(CHUNKS)
    with theirs.chat.stream(**call) as stream:
        their_chunks = list(stream)
    with ours.chat.stream(**call) as stream:
        my_chunks = list(stream)
    same_request(*recorder.requests[2:])
    for mine, their in zip(my_chunks, their_chunks, strict=True):
        assert_same_attributes(mine, their)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the official async path is asyncio-only
async def test_azure_chat_async_wire() -> None:
    recorder = Recorder(json_answer(COMPLETION))
    theirs, ours = azure_pair(recorder, asynchronous=True)
    call = CHAT_CALLS["every field"]
    assert_same_attributes(
        await ours.chat.complete_async(**call), await theirs.chat.complete_async(**call)
    )
    recorder.answer = sse_answer(CHUNKS)
    their_stream = await theirs.chat.stream_async(**call)
    their_chunks = [chunk async for chunk in their_stream]
    async with ours.chat.stream_async(**call) as stream:
        assert "".join([text async for text in stream.text_stream]) == "Hi!"
    assert len(their_chunks) == stream.stats.events
    same_request(*recorder.requests[:2])
    same_request(*recorder.requests[2:])


def test_azure_api_version_and_per_call_options() -> None:
    recorder = Recorder(json_answer(COMPLETION))
    ours = MistralAzure(
        "az-key", server_url="https://a.test", api_version="2025-01-01", client=recorder.client()
    )
    ours.chat.complete(
        messages=MESSAGES,
        server_url="https://b.test/",
        http_headers={"x-ms-client-request-id": "r1"},
        timeout_ms=2500,
    )
    request = recorder.last
    assert str(request.url) == "https://b.test/models/chat/completions?api-version=2025-01-01"
    assert request.headers["x-ms-client-request-id"] == "r1"
    assert request.extensions["timeout"]["read"] == 2.5


# -- Google Cloud ---------------------------------------------------------------------------

GCP_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "chat": ("chat", {"model": "mistral-large-2411", "messages": MESSAGES, "max_tokens": 9}),
    "chat, a versioned model": ("chat", {"model": "mistral-small@2503", "messages": MESSAGES}),
    "fim": (
        "fim",
        {"model": "codestral-2501", "prompt": "def f(", "suffix": "return 1", "temperature": 0},
    ),
}


def gcp_pair(recorder: Recorder, *, asynchronous: bool = False) -> tuple[Any, MistralGCP]:
    kwargs: dict[str, Any] = {"project_id": "my-proj", "region": "us-central1"}
    if asynchronous:
        theirs = OfficialGCP(**kwargs, access_token="tok", async_client=recorder.async_client())
        ours = MistralGCP(**kwargs, access_token="tok", async_client=recorder.async_client())
    else:
        theirs = OfficialGCP(**kwargs, access_token="tok", client=recorder.client())
        ours = MistralGCP(**kwargs, access_token="tok", client=recorder.client())
    return theirs, ours


@pytest.mark.parametrize("name", list(GCP_CALLS))
def test_gcp_wire(name: str) -> None:
    resource, call = GCP_CALLS[name]
    recorder = Recorder(json_answer(FIM if resource == "fim" else COMPLETION))
    theirs, ours = gcp_pair(recorder)
    their_reply = getattr(theirs, resource).complete(**call)
    my_reply = getattr(ours, resource).complete(**call)
    same_request(*recorder.requests)
    expected = (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/"
        f"us-central1/publishers/mistralai/models/{call['model']}:rawPredict"
    )
    assert str(recorder.last.url) == expected
    assert recorder.last.headers["authorization"] == "Bearer tok"
    assert_same_attributes(my_reply, their_reply)

    recorder.answer = sse_answer(CHUNKS)
    with getattr(theirs, resource).stream(**call) as stream:
        their_chunks = list(stream)
    with getattr(ours, resource).stream(**call) as stream:
        my_chunks = list(stream)
    same_request(*recorder.requests[2:])
    assert str(recorder.last.url) == expected.replace(":rawPredict", ":streamRawPredict")
    for mine, their in zip(my_chunks, their_chunks, strict=True):
        assert_same_attributes(mine, their)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", ["chat", "fim"])
async def test_gcp_async_wire(name: str) -> None:
    resource, call = GCP_CALLS[name]
    recorder = Recorder(json_answer(FIM if resource == "fim" else COMPLETION))
    theirs, ours = gcp_pair(recorder, asynchronous=True)
    assert_same_attributes(
        await getattr(ours, resource).complete_async(**call),
        await getattr(theirs, resource).complete_async(**call),
    )
    recorder.answer = sse_answer(CHUNKS)
    their_stream = await getattr(theirs, resource).stream_async(**call)
    their_chunks = [chunk async for chunk in their_stream]
    async with getattr(ours, resource).stream_async(**call) as stream:
        my_chunks = [chunk async for chunk in stream]
    assert len(my_chunks) == len(their_chunks) == 2
    same_request(*recorder.requests[:2])
    same_request(*recorder.requests[2:])
