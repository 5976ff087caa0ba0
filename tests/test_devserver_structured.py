"""Structured output and reasoning on the dev server over real sockets: a json_schema
response format gets a schema instance (streamed in small chunks) that the official SDK's
chat.parse validates, and reasoning requests get a thinking phase before the answer."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterator
from typing import Any, Literal

import httpx2
import pytest
from mistralai.client import Mistral
from mistralai.client import models as official
from pydantic import BaseModel, Field

from levante.devserver import EmbeddedServer
from levante.devserver.schema import instance
from levante.models import ChatCompletionResponse, CompletionEvent, ThinkChunk
from levante.sse import SSEDecoder

USER = [{"role": "user", "content": "Tell me about the levante"}]


class Wind(str, enum.Enum):
    LEVANTE = "levante"
    PONIENTE = "poniente"


class Place(BaseModel):
    name: str = Field(min_length=3, max_length=30)
    country: str
    latitude: float = Field(ge=-90, le=90)


class Report(BaseModel):
    wind: Wind
    kind: Literal["gale", "breeze"]
    gusts_kmh: int = Field(gt=60, lt=200)
    places: list[Place] = Field(min_length=1, max_length=3)
    best: Place
    note: str | None
    seen: datetime.date
    windy: bool


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def stream_chunks(client: httpx2.Client, **body: Any) -> list[Any]:
    body = {"model": "mistral-large-latest", "messages": USER, "stream": True, **body}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    events = SSEDecoder().feed(response.content)
    assert events[-1].data == "[DONE]"
    return [CompletionEvent.from_sse_data(e.data).data for e in events[:-1]]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "date-time"}, "2024-05-01T12:00:00Z"),
        ({"enum": ["b", "a"]}, "b"),
        ({"const": 3}, 3),
        ({"type": ["null", "integer"], "minimum": 5}, 5),
        ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5}, 0.25),
        ({"type": "array", "items": {"type": "boolean"}, "maxItems": 1}, [True]),
        ({"anyOf": [{"type": "null"}, {"type": "integer", "maximum": -3}]}, -3),
        ({"type": "string", "minLength": 30, "maxLength": 30}, "value of the levante value of "),
    ],
)
def test_schema_instance_table(schema: dict[str, Any], expected: Any) -> None:
    assert instance(schema) == expected


def test_schema_instance_follows_refs_and_nesting() -> None:
    value = instance(Report.model_json_schema())
    report = Report.model_validate(value)
    assert report.wind is Wind.LEVANTE and report.kind == "gale"
    assert 60 < report.gusts_kmh < 200
    assert 1 <= len(report.places) <= 3
    assert report.best.name == "name of the levante"


def test_json_schema_reply_streams_in_small_chunks(client: httpx2.Client) -> None:
    schema = Report.model_json_schema()
    response_format = {"type": "json_schema", "json_schema": {"name": "Report", "schema": schema}}
    parsed = stream_chunks(client, response_format=response_format)
    pieces = [c.choices[0].delta.content for c in parsed[:-1]]
    assert len(pieces) > 20 and max(len(p) for p in pieces) <= 40
    text = "".join(pieces)
    assert Report.model_validate_json(text) == Report.model_validate(instance(schema))
    assert parsed[-1].usage.completion_tokens == len(pieces)


def thinking_and_text(parsed: list[Any]) -> tuple[str, str]:
    thinking, text = "", ""
    for chunk in parsed:
        content = chunk.choices[0].delta.content
        if isinstance(content, list):
            assert len(content) == 1 and isinstance(content[0], ThinkChunk)
            thinking += content[0].thinking[0].text
        else:
            text += content or ""
    return thinking, text


@pytest.mark.parametrize("ask", [{"reasoning_effort": "high"}, {"prompt_mode": "reasoning"}])
def test_reasoning_streams_thinking_then_text(client: httpx2.Client, ask: dict[str, str]) -> None:
    parsed = stream_chunks(client, **ask)
    assert parsed[0].choices[0].delta.role == "assistant"
    assert isinstance(parsed[0].choices[0].delta.content, list)
    kinds = [isinstance(c.choices[0].delta.content, list) for c in parsed]
    first_text = kinds.index(False)
    assert all(kinds[:first_text]) and not any(kinds[first_text:])  # thinking, then text only
    thinking, text = thinking_and_text(parsed)
    assert thinking.startswith('The user wrote: "Tell me about the levante"')
    assert text.startswith("The levante is an easterly wind")
    plain = stream_chunks(client, reasoning_effort="none")
    assert thinking_and_text(plain) == ("", text)
    assert parsed[-1].usage.completion_tokens > plain[-1].usage.completion_tokens


def test_reasoning_non_streamed_content_is_thinking_then_text(client: httpx2.Client) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={"model": "magistral-medium-latest", "messages": USER, "prompt_mode": "reasoning"},
    )
    content = (
        ChatCompletionResponse.model_validate_json(response.content).choices[0].message.content
    )
    assert isinstance(content, list) and [c.type for c in content] == ["thinking", "text"]


def test_official_sdk_parse_and_reasoning(server: EmbeddedServer) -> None:
    with Mistral(api_key="k", server_url=server.url) as sdk:
        parsed = sdk.chat.parse(response_format=Report, model="mistral-medium-3-5", messages=USER)
        report = parsed.choices[0].message.parsed
        assert isinstance(report, Report) and report.wind is Wind.LEVANTE
        with sdk.chat.parse_stream(
            response_format=Report, model="mistral-tiny", messages=USER
        ) as stream:
            text = "".join(str(e.data.choices[0].delta.content or "") for e in stream)
        assert Report.model_validate_json(text) == report
        thinking = []
        with sdk.chat.stream(
            model="magistral-small-latest", messages=USER, reasoning_effort="high"
        ) as stream:
            for event in stream:
                content = event.data.choices[0].delta.content
                if isinstance(content, list):
                    thinking.extend(c for c in content if isinstance(c, official.ThinkChunk))
        texts = [part.text for chunk in thinking for part in chunk.thinking]
        assert all(isinstance(part, official.TextChunk) for c in thinking for part in c.thinking)
        assert "".join(texts).startswith('The user wrote: "Tell me about the levante"')
