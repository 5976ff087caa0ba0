"""chat.parse / parse_stream (and async twins) against the dev server over real sockets:
the parsed model instance, the partial object at every chunk, output that does not
validate, the stream's lifecycle, and bad input refused before any request."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, field_validator

from levante import Mistral
from levante.errors import StreamAPIError, StructuredOutputError
from levante.models import ParsedChatCompletionResponse
from levante.resources import ParsedChatCompletionStream
from liveserver import CountingApp, LiveServer

MESSAGES = [{"role": "user", "content": "How can I solve 8x + 7 = -23"}]
MODEL = "mistral-large-latest"


class Step(BaseModel):
    explanation: str
    output: str


class MathDemonstration(BaseModel):
    steps: list[Step]
    final_answer: str


class Picky(BaseModel):
    final_answer: str

    @field_validator("final_answer")
    @classmethod
    def _never(cls, value: str) -> str:
        # the schema allows any string, so the server's answer fits it; this model does not
        raise ValueError("not the answer I wanted")


@pytest.fixture
def client(dev_server: LiveServer) -> Iterator[Mistral]:
    with Mistral(server_url=dev_server.url, retries=0, timeout=10) as c:
        yield c


def fault(spec: str) -> dict[str, Any]:
    return {"http_headers": {"x-levante-fault": spec}}


def test_parse_returns_the_model_instance(client: Mistral) -> None:
    reply = client.chat.parse(MathDemonstration, model=MODEL, messages=MESSAGES)
    assert isinstance(reply, ParsedChatCompletionResponse)
    message = reply.choices[0].message
    assert message is not None and isinstance(message.parsed, MathDemonstration)
    assert message.parsed == MathDemonstration.model_validate_json(str(message.content))
    assert message.parsed.steps


def test_parse_stream_shows_the_object_at_every_chunk(client: Mistral) -> None:
    whole = client.chat.parse(MathDemonstration, model=MODEL, messages=MESSAGES)
    partials: list[Any] = []
    texts: list[str] = []
    with client.chat.parse_stream(
        response_format=MathDemonstration, model=MODEL, messages=MESSAGES
    ) as stream:
        assert isinstance(stream, ParsedChatCompletionStream)
        for event in stream:
            content = event.data.choices[0].delta.content
            if content:
                texts.append(str(content))
                partials.append(copy.deepcopy(stream.partial))
    assert len(partials) == len(texts) > 5
    # every partial is a dict (not yet valid) or an instance, and each extends the last
    seen_instance = False
    for index, partial in enumerate(partials):
        assert isinstance(partial, (dict, MathDemonstration)), partial
        seen_instance = seen_instance or isinstance(partial, MathDemonstration)
        if seen_instance:
            assert isinstance(partial, MathDemonstration), f"chunk {index} went back to a dict"
    assert partials[-1] == whole.choices[0].message.parsed  # type: ignore[union-attr]
    final = stream.final_response()
    assert final.choices[0].message.parsed == partials[-1]  # type: ignore[union-attr]
    assert "".join(texts) == final.choices[0].message.content  # type: ignore[union-attr]


def test_partial_stream_and_text_stream(client: Mistral) -> None:
    with client.chat.parse_stream(MathDemonstration, model=MODEL, messages=MESSAGES) as stream:
        first = next(stream.partial_stream)
        rest = list(stream.partial_stream)
    assert isinstance(first, dict)
    assert isinstance(rest[-1], MathDemonstration)
    with client.chat.parse_stream(MathDemonstration, model=MODEL, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
    assert MathDemonstration.model_validate_json(text) == rest[-1]


@pytest.mark.anyio
async def test_async_twins(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url, retries=0, timeout=10) as client:
        reply = await client.chat.parse_async(MathDemonstration, model=MODEL, messages=MESSAGES)
        async with client.chat.parse_stream_async(
            MathDemonstration, model=MODEL, messages=MESSAGES
        ) as stream:
            partials = [partial async for partial in stream.partial_stream]
        assert partials[-1] == reply.choices[0].message.parsed  # type: ignore[union-attr]
        stream = await client.chat.parse_stream_async(
            MathDemonstration, model=MODEL, messages=MESSAGES
        )
        async with stream:
            final = await stream.final_response()
        assert final.choices[0].message.parsed == partials[-1]  # type: ignore[union-attr]
        with pytest.raises(StructuredOutputError):
            await client.chat.parse_async(Picky, model=MODEL, messages=MESSAGES)


def test_output_that_does_not_validate_carries_the_raw_text(client: Mistral) -> None:
    with pytest.raises(StructuredOutputError) as caught:
        client.chat.parse(Picky, model=MODEL, messages=MESSAGES)
    error = caught.value
    assert isinstance(error, ValueError)  # what the official SDK's callers catch
    assert error.model is Picky
    assert Picky.model_fields.keys() == json.loads(error.raw).keys()
    assert "not the answer I wanted" in str(error.__cause__)
    with client.chat.parse_stream(Picky, model=MODEL, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
        with pytest.raises(StructuredOutputError) as caught:
            stream.final_response()
    assert caught.value.raw == text


def test_lifecycle(client: Mistral, dev_server: LiveServer) -> None:
    with client.chat.parse_stream(MathDemonstration, model=MODEL, messages=MESSAGES) as stream:
        next(iter(stream))
    assert stream.closed
    with (
        pytest.raises(StreamAPIError),
        client.chat.parse_stream(
            MathDemonstration, model=MODEL, messages=MESSAGES, **fault("error-after=3")
        ) as stream,
    ):
        list(stream)
    assert stream.closed
    assert dev_server.wait_for_at_most(1) <= 1  # the pool keeps at most the idle one


@pytest.mark.anyio
async def test_cancel_releases_the_stream(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url, retries=0, timeout=10) as client:
        stream = await client.chat.parse_stream_async(
            MathDemonstration, model=MODEL, messages=MESSAGES, **fault("stall-after=3:30")
        )
        with anyio.move_on_after(0.3):
            async with stream:
                async for _ in stream:
                    pass
        assert stream.closed


class NotAModel:
    final_answer: str


BAD_FORMATS: list[Any] = [
    {"type": "json_object"},
    NotAModel,
    MathDemonstration(steps=[], final_answer="x"),  # an instance, not the class
    "MathDemonstration",
]


@pytest.mark.parametrize("response_format", BAD_FORMATS, ids=lambda f: type(f).__name__)
def test_bad_response_format_fails_before_any_request(
    counted_dev_server: tuple[CountingApp, LiveServer], response_format: Any
) -> None:
    app, server = counted_dev_server
    with Mistral(server_url=server.url, retries=0) as client:
        for call in (client.chat.parse, client.chat.parse_stream, client.chat.parse_stream_async):
            with pytest.raises(TypeError, match="pydantic model class"):
                call(response_format, model=MODEL, messages=MESSAGES)
        with pytest.raises(ValueError, match=r"chat\.parse\(\) does not stream"):
            client.chat.parse(MathDemonstration, model=MODEL, messages=MESSAGES, stream=True)
        with pytest.raises(ValueError, match="always streams"):
            client.chat.parse_stream(
                MathDemonstration, model=MODEL, messages=MESSAGES, stream=False
            )
    assert app.seen == 0


@pytest.mark.anyio
async def test_bad_response_format_fails_before_any_request_async(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    async with Mistral(server_url=server.url, retries=0) as client:
        with pytest.raises(TypeError, match="pydantic model class"):
            await client.chat.parse_async(dict, model=MODEL, messages=MESSAGES)  # type: ignore[type-var]
    assert app.seen == 0


def test_close_while_the_object_is_half_built(client: Mistral) -> None:
    with client.chat.parse_stream(
        MathDemonstration, model=MODEL, messages=MESSAGES, **fault("stall-after=4:30")
    ) as stream:
        pieces = [next(stream.partial_stream) for _ in range(2)]
        stream.close()
    assert stream.closed
    assert pieces and not isinstance(pieces[-1], MathDemonstration)
