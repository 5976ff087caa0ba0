"""levante's client against levante's own dev server: real models, real faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from levante._retry import RetryConfig
from levante.client import Mistral
from levante.devserver import EmbeddedServer
from levante.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    HTTPValidationError,
    IncompleteStreamError,
    NotFoundError,
    RateLimitError,
    StreamAPIError,
    StreamTimeout,
)

ECHO = "levante-echo"
PROMPT = "Hello there, levante world"
FAST = RetryConfig(max_retries=2, initial_backoff=0.01, max_backoff=0.02)


def fault(spec: str) -> dict[str, str]:
    return {"X-Levante-Fault": spec}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    # strict: an unknown model must be the API's 400 (levante serve --strict-models)
    with EmbeddedServer(api_key="dev-key", strict_models=True) as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[Mistral]:
    with Mistral(api_key="dev-key", server_url=server.url, retries=FAST) as mistral:
        yield mistral


def user(text: str = PROMPT) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_echo_stream_text_and_final_response(client: Mistral) -> None:
    with client.chat.stream(model=ECHO, messages=user()) as stream:
        text = "".join(stream.text_stream)
    assert text == PROMPT
    with client.chat.stream(model=ECHO, messages=user()) as stream:
        final = stream.final_response()
    assert final.choices[0].message is not None
    assert final.choices[0].message.content == PROMPT
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.completion_tokens > 0
    assert client.chat.complete(model=ECHO, messages=user()).choices[0].message.content == PROMPT  # type: ignore[union-attr]


def test_fim_agents_models_and_conversations(client: Mistral) -> None:
    with client.fim.stream(model="codestral-latest", prompt="def f():") as stream:
        assert len(list(stream)) > 0
    with client.agents.stream(agent_id=ECHO, messages=user()) as stream:
        assert "".join(stream.text_stream) == PROMPT
    assert ECHO in {model.id for model in client.models.list().data}

    with client.conversations.start_stream(inputs=PROMPT, model=ECHO) as events:
        received = list(events)
    assert received[0].event == "conversation.response.started"
    assert received[-1].event == "conversation.response.done"
    conversation_id = received[0].data.conversation_id  # type: ignore[union-attr]
    with client.conversations.append_stream(
        conversation_id=conversation_id, inputs="again"
    ) as events:
        assert list(events)[-1].event == "conversation.response.done"
    response = client.conversations.append(conversation_id=conversation_id, inputs="more")
    assert response.conversation_id == conversation_id


def test_errors_from_the_dev_server(server: EmbeddedServer, client: Mistral) -> None:
    with (
        Mistral(api_key="wrong", server_url=server.url) as bad,
        pytest.raises(AuthenticationError),
    ):
        bad.chat.complete(model=ECHO, messages=user())
    with pytest.raises(BadRequestError, match="invalid_model"):
        client.chat.complete(model="no-such-model", messages=user())
    with pytest.raises(NotFoundError):
        client.conversations.append(conversation_id="nope", inputs="x")
    with pytest.raises(HTTPValidationError, match="at least one message") as info:
        client.chat.complete(model=ECHO, messages=[])
    assert info.value.status_code == 422
    assert isinstance(info.value.detail, list)


def test_injected_429_retried_then_exhausted(client: Mistral) -> None:
    with client.chat.stream(
        model=ECHO, messages=user(), http_headers=fault("status=429; retry-after=0.05; times=2")
    ) as stream:
        assert "".join(stream.text_stream) == PROMPT
    with pytest.raises(RateLimitError):
        client.chat.complete(
            model=ECHO, messages=user(), http_headers=fault("status=429; retry-after=0")
        )


def test_injected_mid_stream_faults(client: Mistral) -> None:
    with (
        client.chat.stream(model=ECHO, messages=user(), http_headers=fault("error-after=2")) as s,
        pytest.raises(StreamAPIError),
    ):
        list(s)
    with (
        client.chat.stream(model=ECHO, messages=user(), http_headers=fault("no-done")) as s,
        pytest.raises(IncompleteStreamError),
    ):
        list(s)
    with (
        client.conversations.start_stream(
            inputs=PROMPT, model=ECHO, http_headers=fault("no-done")
        ) as events,
        pytest.raises(IncompleteStreamError),
    ):
        list(events)
    with (
        client.chat.stream(
            model=ECHO, messages=user(), http_headers=fault("disconnect-after=1")
        ) as s,
        pytest.raises(IncompleteStreamError, match="RemoteProtocolError"),
    ):
        list(s)
    with pytest.raises(APIConnectionError):
        client.chat.complete(
            model=ECHO, messages=user(), http_headers=fault("disconnect-after=0"), retries=0
        )


def test_idle_timeout_per_call(client: Mistral) -> None:
    with (
        client.chat.stream(
            model=ECHO, messages=user(), http_headers=fault("stall-after=2:5"), idle_timeout=0.2
        ) as stream,
        pytest.raises(StreamTimeout) as info,
    ):
        list(stream)
    assert info.value.events_delivered == 2


@pytest.mark.anyio
async def test_async_against_dev_server(server: EmbeddedServer) -> None:
    async with Mistral(api_key="dev-key", server_url=server.url, retries=FAST) as client:
        async with await client.chat.stream_async(model=ECHO, messages=user()) as stream:
            texts = [text async for text in stream.text_stream]
        assert "".join(texts) == PROMPT
        async with await client.conversations.start_stream_async(inputs="hi", model=ECHO) as events:
            kinds = [event.event async for event in events]
        assert kinds[-1] == "conversation.response.done"
        models = await client.models.list_async()
        assert any(model.id == ECHO for model in models.data)


def test_chat_streams_read_their_body_directly(client: Mistral) -> None:
    # The client's own httpx2 clients are the plain case levante/_streaming/_body.py reads directly.
    with client.chat.stream(model=ECHO, messages=user()) as stream:
        assert stream._chunks is None
        assert "".join(stream.text_stream) == PROMPT


@pytest.mark.anyio
async def test_async_chat_streams_read_their_body_directly(server: EmbeddedServer) -> None:
    async with (
        Mistral(api_key="dev-key", server_url=server.url) as mistral,
        mistral.chat.stream_async(model=ECHO, messages=user()) as stream,
    ):
        assert stream._read_chunk is not None and stream._chunks is None
        assert "".join([text async for text in stream.text_stream]) == PROMPT


def test_a_stream_without_accumulation_keeps_nothing(client: Mistral) -> None:
    with client.chat.stream(model=ECHO, messages=user(), accumulate=False) as stream:
        assert stream.accumulator is None
        assert "".join(stream.text_stream) == PROMPT
        with pytest.raises(RuntimeError, match="accumulate=False"):
            stream.final_response()
    # streams without an accumulator take the option and ignore it
    with client.beta.conversations.start_stream(
        model=ECHO, inputs=PROMPT, accumulate=False
    ) as events:
        assert any(event.event == "conversation.response.done" for event in events)


@pytest.mark.anyio
async def test_an_async_stream_without_accumulation_keeps_nothing(server: EmbeddedServer) -> None:
    async with Mistral(api_key="dev-key", server_url=server.url) as client:
        stream = client.chat.stream_async(model=ECHO, messages=user(), accumulate=False)
        async with stream as events:
            assert events.accumulator is None
            assert "".join([text async for text in events.text_stream]) == PROMPT
            with pytest.raises(RuntimeError, match="accumulate=False"):
                await events.final_response()


def test_accumulate_must_be_a_bool_and_is_checked_before_sending(
    client: Mistral, server: EmbeddedServer
) -> None:
    before = server.stats()
    with pytest.raises(TypeError, match="accumulate must be True or False"):
        client.chat.stream(model=ECHO, messages=user(), accumulate="no")  # type: ignore[typeddict-item]
    assert server.stats() == before  # no stream was started
