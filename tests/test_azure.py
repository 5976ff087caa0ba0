"""MistralAzure against the dev server's Azure path over real sockets: chat streamed and
not, sync and async, the api-version parameter and the key on every request, and bad
input refused before any request."""

from __future__ import annotations

import pytest

from levante import MistralAzure
from levante.azure import AZURE_API_VERSION
from levante.errors import MistralError
from levante.resources import ChatCompletionStream
from liveserver import CountingApp, LiveServer

MESSAGES = [{"role": "user", "content": "Tell me about the levante wind"}]


def test_chat_complete_and_stream(counted_dev_server: tuple[CountingApp, LiveServer]) -> None:
    app, server = counted_dev_server
    with MistralAzure("az-key", server_url=server.url, retries=0) as client:
        reply = client.chat.complete(messages=MESSAGES, max_tokens=12)
        with client.chat.stream(messages=MESSAGES, max_tokens=12) as stream:
            assert isinstance(stream, ChatCompletionStream)
            text = "".join(stream.text_stream)
        final = stream.final_response()
    assert reply.choices[0].message.content == text == final.choices[0].message.content
    assert text
    assert stream.closed
    for method, path, query, headers in app.requests:
        assert (method, path, query) == (
            "POST",
            "/models/chat/completions",
            f"api-version={AZURE_API_VERSION}",
        )
        assert headers["authorization"] == "Bearer az-key"


@pytest.mark.anyio
async def test_chat_async(counted_dev_server: tuple[CountingApp, LiveServer]) -> None:
    app, server = counted_dev_server
    async with MistralAzure(
        lambda: "rotating-key", server_url=server.url, api_version="2025-02-01"
    ) as client:
        reply = await client.chat.complete_async(messages=MESSAGES, model="mistral-large")
        async with client.chat.stream_async(messages=MESSAGES, model="mistral-large") as stream:
            pieces = [piece async for piece in stream.text_stream]
    assert "".join(pieces) == reply.choices[0].message.content
    assert [query for _, _, query, _ in app.requests] == ["api-version=2025-02-01"] * 2
    assert {h["authorization"] for *_, h in app.requests} == {"Bearer rotating-key"}


def test_bad_input_fails_before_any_request(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    with MistralAzure("az-key", server_url=server.url) as client:
        with pytest.raises(ValueError, match="does not stream"):
            client.chat.complete(messages=MESSAGES, stream=True)
        with pytest.raises(ValueError, match="messages"):
            client.chat.stream(messages="not a list")  # type: ignore[typeddict-item]
        with pytest.raises(TypeError, match="timeout_ms"):
            client.chat.complete(messages=MESSAGES, timeout_ms="soon")  # type: ignore[typeddict-item]
    keyless = MistralAzure(lambda: None, server_url=server.url)
    with pytest.raises(MistralError, match="Azure API key"):
        keyless.chat.complete(messages=MESSAGES)
    assert app.seen == 0


def test_configuration() -> None:
    client = MistralAzure("secret-az-key", server_url="https://x.azure.test/")
    assert client.server_url == "https://x.azure.test"
    assert client.api_version == AZURE_API_VERSION
    assert "secret" not in repr(client)
    assert not hasattr(client, "fim")  # the official Azure client serves chat only
    with pytest.raises(TypeError, match="api_version"):
        MistralAzure("k", server_url="https://x.test", api_version="")
    with pytest.raises(ValueError, match="http"):
        MistralAzure("k", server_url="x.azure.test")
