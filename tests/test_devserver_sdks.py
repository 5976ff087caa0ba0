"""The official mistralai SDK and the openai SDK, unmodified, against the dev server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from mistralai.client import Mistral
from mistralai.client.errors import SDKError
from openai import AsyncOpenAI, AuthenticationError, OpenAI

from levante.devserver import EmbeddedServer

PROMPT = "Stream these words back to me"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(api_key="test-key") as srv:
        yield srv


def test_mistral_sdk_chat_stream_and_complete(server: EmbeddedServer) -> None:
    with Mistral(api_key="test-key", server_url=server.url) as client:
        pieces = []
        finish = []
        with client.chat.stream(
            model="levante-echo", messages=[{"role": "user", "content": PROMPT}]
        ) as events:
            for event in events:
                pieces.append(event.data.choices[0].delta.content)
                finish.append(event.data.choices[0].finish_reason)
        assert "".join(pieces) == PROMPT
        assert len(pieces) == len(PROMPT.split()) + 1
        assert finish[-1] == "stop" and set(finish[:-1]) == {None}

        completion = client.chat.complete(
            model="mistral-small-latest",
            messages=[{"role": "user", "content": "Tell me about the levante wind"}],
        )
        assert completion.choices[0].message.content.startswith("The levante is")
        assert completion.usage.completion_tokens > 50
    assert server.fetch_stats()["open"] == 0


def test_mistral_sdk_tool_call_stream(server: EmbeddedServer) -> None:
    with Mistral(api_key="test-key", server_url=server.url) as client:
        calls = []
        with client.chat.stream(
            model="mistral-large-latest",
            messages=[{"role": "user", "content": "What is the weather in Lisbon?"}],
            tools=[WEATHER_TOOL],
            tool_choice="any",
        ) as events:
            for event in events:
                calls.extend(event.data.choices[0].delta.tool_calls or [])
        assert calls[0].function.name == "get_weather"
        assert json.loads("".join(str(c.function.arguments) for c in calls)) == {"city": "Lisbon"}


def test_mistral_sdk_fim_agents_models_conversations(server: EmbeddedServer) -> None:
    with Mistral(api_key="test-key", server_url=server.url) as client:
        fim = client.fim.complete(model="codestral-latest", prompt="def f():", suffix="f()")
        assert "return None" in fim.choices[0].message.content
        with client.fim.stream(model="codestral-latest", prompt="def f():") as events:
            assert "return None" in "".join(e.data.choices[0].delta.content for e in events)

        with client.agents.stream(
            agent_id="levante-echo", messages=[{"role": "user", "content": PROMPT}]
        ) as events:
            assert "".join(e.data.choices[0].delta.content for e in events) == PROMPT

        ids = [model.id for model in client.models.list().data]
        assert "levante-echo" in ids and "mistral-small-latest" in ids

        started = client.beta.conversations.start(inputs="one two", model="levante-echo")
        assert started.outputs[0].content == "one two"
        events = list(
            client.beta.conversations.append_stream(
                conversation_id=started.conversation_id, inputs="three four"
            )
        )
        assert events[0].event == "conversation.response.started"
        assert events[-1].event == "conversation.response.done"
        assert "".join(e.data.content for e in events[1:-1]) == "three four"


def test_mistral_sdk_sees_the_key_check(server: EmbeddedServer) -> None:
    with Mistral(api_key="wrong", server_url=server.url) as client:
        with pytest.raises(SDKError) as info:
            client.chat.complete(model="levante-echo", messages=[{"role": "user", "content": "x"}])
        assert info.value.status_code == 401


@pytest.mark.anyio
# The official SDK's async path calls asyncio.to_thread: it cannot run under trio.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_mistral_sdk_stream_async(server: EmbeddedServer) -> None:
    async with Mistral(api_key="test-key", server_url=server.url) as client:
        events = await client.chat.stream_async(
            model="levante-echo", messages=[{"role": "user", "content": PROMPT}]
        )
        pieces = [event.data.choices[0].delta.content async for event in events]
        assert "".join(pieces) == PROMPT


def test_openai_sdk_stream_and_create(server: EmbeddedServer) -> None:
    with OpenAI(base_url=f"{server.url}/v1", api_key="test-key") as client:
        stream = client.chat.completions.create(
            model="levante-echo", messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == PROMPT
        assert chunks[-1].choices[0].finish_reason == "stop"
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(
            PROMPT.split()
        )

        completion = client.chat.completions.create(
            model="levante-echo", messages=[{"role": "user", "content": PROMPT}]
        )
        assert completion.choices[0].message.content == PROMPT

        tool_stream = client.chat.completions.create(
            model="levante-chat",
            messages=[{"role": "user", "content": "get_weather for Oslo"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            stream=True,
        )
        # merged the way OpenAI-style accumulators do: every string field concatenated
        call_id, name, arguments = "", "", ""
        for chunk in tool_stream:
            for call in chunk.choices[0].delta.tool_calls or []:
                call_id += call.id or ""
                name += call.function.name or ""
                arguments += call.function.arguments or ""
        assert len(call_id) == 9
        assert name == "get_weather"
        assert json.loads(arguments) == {"city": "Oslo"}


def test_openai_sdk_sees_the_key_check(server: EmbeddedServer) -> None:
    client = OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with client, pytest.raises(AuthenticationError):
        client.chat.completions.create(
            model="levante-echo", messages=[{"role": "user", "content": "x"}]
        )


@pytest.mark.anyio
# openai's AsyncStream stops at [DONE] without closing its inner async generators; trio's
# finalizer reports that as a ResourceWarning (an error here), so this peer runs on asyncio.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_openai_sdk_stream_async(server: EmbeddedServer) -> None:
    async with AsyncOpenAI(base_url=f"{server.url}/v1", api_key="test-key") as client:
        stream = await client.chat.completions.create(
            model="levante-echo", messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        async with stream:
            pieces = [chunk.choices[0].delta.content or "" async for chunk in stream]
        assert "".join(pieces) == PROMPT
