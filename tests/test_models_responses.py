"""Responses API models: every stream event, the response, and the request body.

Event payloads are built with the official SDK's own models and dumped with its own
serializer; both SDKs decode them and every official attribute must read the same on
levante's object. Request bodies are compared with what the official client puts on the
wire for the same ``responses.create`` call (captured with ``httpx2.MockTransport``).
"""

from __future__ import annotations

import json
import typing
from typing import Any

import httpx2
import pytest
from mistralai.client import Mistral as OfficialMistral
from mistralai.client import models as official
from pydantic import ValidationError

from levante.models import (
    CreateResponseRequest,
    CreateResponseResponse,
    ResponsesFunctionToolCall,
    ResponsesOutputMessage,
    ResponsesReasoningItem,
    ResponsesStreamFrame,
    UnknownResponsesItem,
    UnknownResponsesStreamEventData,
    decode_responses_event,
    request_body,
)
from official_compare import assert_same_attributes, official_dump, official_event

TEXT = official.ResponsesOutputText(
    text="Hello, world.",
    annotations=[
        official.ResponsesAnnotationURLCitation(
            start_index=0, end_index=5, title="Hello", url="https://example.com"
        ),
        official.ResponsesAnnotationFileCitation(file_id="f1", filename="a.txt", index=2),
        official.ResponsesAnnotationContainerFileCitation(
            container_id="c1", end_index=3, file_id="f2", filename="b.txt", start_index=1
        ),
        official.ResponsesAnnotationFilePath(file_id="f3", index=0),
    ],
    logprobs=[
        official.ResponsesOutputTextLogprob(
            token="Hello",
            bytes_=[72, 101],
            logprob=-0.1,
            top_logprobs=[
                official.ResponsesOutputTextLogprobTopLogprob(token="Hi", bytes_=[72], logprob=-2)
            ],
        )
    ],
)
MESSAGE = official.ResponsesOutputMessage(
    id="msg_1",
    content=[TEXT, official.ResponsesOutputRefusal(refusal="no")],
    status="completed",
    phase="final_answer",
)
CALL = official.ResponsesFunctionToolCall(
    arguments='{"city": "Paris"}', call_id="call_1", name="weather", id="fc_1", status="completed"
)
REASONING = official.ResponsesReasoningItem(
    id="rs_1",
    summary=[official.ResponsesSummary(text="thought about it")],
    content=[official.ResponsesContent(text="Let me think.")],
    status="completed",
)
USAGE = official.ResponsesUsage(
    input_tokens=10,
    input_tokens_details=official.ResponsesInputTokensDetails(
        cache_write_tokens=0, cached_tokens=4
    ),
    output_tokens=20,
    output_tokens_details=official.ResponsesOutputTokensDetails(reasoning_tokens=5),
    total_tokens=30,
)


def response(**fields: Any) -> official.CreateResponseResponse:
    base: dict[str, Any] = {
        "id": "resp_1",
        "created_at": 1_700_000_000,
        "model": "mistral-medium-latest",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    base.update(fields)
    return official.CreateResponseResponse(**base)


FULL = response(
    output=[REASONING, MESSAGE, CALL],
    status="completed",
    usage=USAGE,
    instructions="Be brief.",
    temperature=0.2,
    metadata={"k": "v"},
    reasoning={"effort": "low"},
    text={"format": {"type": "json_object"}, "verbosity": "low"},
    tool_choice={"type": "function", "name": "weather"},
    tools=[
        {"type": "function", "name": "weather", "parameters": {"type": "object"}},
        {
            "type": "namespace",
            "name": "ns",
            "description": "tools",
            "tools": [{"type": "function", "name": "inner"}],
        },
    ],
    incomplete_details={"reason": "max_output_tokens"},
    error={"code": "server_error", "message": "oops"},
    service_tier="default",
)

EVENTS: list[Any] = [
    official.ResponsesCreatedEvent(response=response(status="in_progress"), sequence_number=0),
    official.ResponsesInProgressEvent(response=response(status="in_progress"), sequence_number=1),
    official.ResponsesOutputItemAddedEvent(item=REASONING, output_index=0, sequence_number=2),
    official.ResponsesOutputItemAddedEvent(item=MESSAGE, output_index=1, sequence_number=3),
    official.ResponsesOutputItemAddedEvent(item=CALL, output_index=2, sequence_number=4),
    official.ResponsesContentPartAddedEvent(
        content_index=0, item_id="msg_1", output_index=1, part=TEXT, sequence_number=5
    ),
    official.ResponsesContentPartAddedEvent(
        content_index=0,
        item_id="rs_1",
        output_index=0,
        part=official.ResponsesPartReasoningText(text=""),
        sequence_number=6,
    ),
    official.ResponsesTextDeltaEvent(
        content_index=0,
        delta="Hel",
        item_id="msg_1",
        logprobs=[
            official.ResponsesTextDeltaEventLogprob(
                token="Hel",
                logprob=-0.5,
                top_logprobs=[official.ResponsesTextDeltaEventLogprobTopLogprob()],
            )
        ],
        output_index=1,
        sequence_number=7,
    ),
    official.ResponsesTextDoneEvent(
        content_index=0,
        item_id="msg_1",
        logprobs=[],
        output_index=1,
        sequence_number=8,
        text="Hello",
    ),
    official.ResponsesReasoningTextDeltaEvent(
        content_index=0, delta="Let", item_id="rs_1", output_index=0, sequence_number=9
    ),
    official.ResponsesReasoningTextDoneEvent(
        content_index=0, item_id="rs_1", output_index=0, sequence_number=10, text="Let me think."
    ),
    official.ResponsesFunctionCallArgumentsDeltaEvent(
        delta='{"ci', item_id="fc_1", output_index=2, sequence_number=11
    ),
    official.ResponsesFunctionCallArgumentsDoneEvent(
        arguments='{"city": "Paris"}',
        item_id="fc_1",
        name="weather",
        output_index=2,
        sequence_number=12,
    ),
    official.ResponsesContentPartDoneEvent(
        content_index=0, item_id="msg_1", output_index=1, part=TEXT, sequence_number=13
    ),
    official.ResponsesOutputItemDoneEvent(item=MESSAGE, output_index=1, sequence_number=14),
    official.ResponsesCompletedEvent(response=FULL, sequence_number=15),
    official.ResponsesIncompleteEvent(response=FULL, sequence_number=16),
    official.ResponsesFailedEvent(response=FULL, sequence_number=17),
    official.ResponsesErrorEvent(message="bad", sequence_number=18, code="server_error", param="x"),
    official.ResponsesErrorEvent(message="bad", sequence_number=19),
]


@pytest.mark.parametrize("payload", EVENTS, ids=lambda e: f"{e.type}-{e.sequence_number}")
def test_every_event_reads_like_the_official_sdk(payload: Any) -> None:
    data = official_dump(payload)
    ours = decode_responses_event(payload.type, data)
    theirs = official_event(official.ResponsesStreamFrame, payload.type, data)
    assert isinstance(ours, ResponsesStreamFrame)
    assert type(ours.data).__name__ == type(payload).__name__
    assert_same_attributes(ours, theirs)
    assert json.loads(ours.data.model_dump_json(by_alias=True)) == json.loads(data)


def test_every_official_event_type_is_known() -> None:
    names = {type(payload).__name__ for payload in EVENTS}
    union = official.ResponsesStreamFrame.model_fields["data"].annotation
    assert names == {cls.__name__ for cls in typing.get_args(union)}


def test_an_event_type_the_official_sdk_rejects_is_kept() -> None:
    data = '{"type":"response.web_search.searching","sequence_number":4,"item_id":"w"}'
    with pytest.raises(ValidationError):
        official_event(official.ResponsesStreamFrame, "response.web_search.searching", data)
    frame = decode_responses_event("response.web_search.searching", data)
    assert isinstance(frame.data, UnknownResponsesStreamEventData)
    assert frame.data.is_unknown is True
    assert frame.data.type == "response.web_search.searching"
    assert frame.data.model_extra == {"sequence_number": 4, "item_id": "w"}
    assert frame.data.raw == data


def test_unknown_items_and_parts_inside_known_events_are_kept() -> None:
    data = json.dumps(
        {
            "type": "response.output_item.added",
            "sequence_number": 1,
            "output_index": 0,
            "item": {"type": "web_search_call", "id": "ws", "status": "searching"},
        }
    )
    frame = decode_responses_event("response.output_item.added", data)
    item = frame.data.item  # type: ignore[union-attr]
    assert isinstance(item, UnknownResponsesItem)
    assert item.type == "web_search_call" and item.model_extra == {
        "id": "ws",
        "status": "searching",
    }


def test_the_response_reads_like_the_official_sdk() -> None:
    data = official_dump(FULL)
    ours = CreateResponseResponse.model_validate_json(data)
    theirs = official.CreateResponseResponse.model_validate_json(data)
    assert_same_attributes(ours, theirs)
    assert json.loads(ours.model_dump_json(by_alias=True)) == json.loads(data)
    assert [type(item) for item in ours.output] == [
        ResponsesReasoningItem,
        ResponsesOutputMessage,
        ResponsesFunctionToolCall,
    ]
    assert ours.output_text == "Hello, world."


def test_a_minimal_response_dumps_like_the_official_one() -> None:
    data = official_dump(response())
    ours = CreateResponseResponse.model_validate_json(data)
    assert json.loads(ours.model_dump_json(by_alias=True)) == json.loads(data)


# --- request bodies -------------------------------------------------------------------


def official_body(**kwargs: Any) -> dict[str, Any]:
    bodies: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(request.content)
        return httpx2.Response(500, json={})

    client = OfficialMistral(
        api_key="k", client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )
    with pytest.raises(Exception):  # noqa: B017 - the 500 answer; only the request matters
        client.responses.create(**kwargs)
    result: dict[str, Any] = json.loads(bodies[-1])
    return result


PREVIOUS_OUTPUT = [
    json.loads(official_dump(REASONING)),
    json.loads(official_dump(MESSAGE)),
    json.loads(official_dump(CALL)),
]
REQUESTS: list[dict[str, Any]] = [
    {"model": "m", "input": "hi"},
    {"model": "m", "input": "hi", "stream": True},
    {"model": "m", "input": "hi", "stream": False, "instructions": None, "temperature": None},
    {"model": "m", "input": "hi", "instructions": "Be brief.", "max_output_tokens": 50},
    {"model": "m", "input": "hi", "reasoning": {"effort": "high"}},
    {"model": "m", "input": "hi", "reasoning": {}},
    {"model": "m", "input": "hi", "parallel_tool_calls": False, "metadata": {"a": "b"}},
    {
        "model": "m",
        "input": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hi", "type": "message"},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "detail": "auto", "image_url": "https://x/i.png"},
                    {"type": "input_file", "file_id": "f1"},
                ],
            },
        ],
    },
    {
        "model": "m",
        "input": [
            {"role": "user", "content": "weather?"},
            *PREVIOUS_OUTPUT,
            {"type": "function_call_output", "call_id": "call_1", "output": '{"t": 21}'},
        ],
        "tools": [
            {"type": "function", "name": "weather", "parameters": {"type": "object"}},
            {"type": "function", "name": "other", "strict": True, "description": "d"},
        ],
        "tool_choice": "auto",
    },
    {"model": "m", "input": "hi", "tool_choice": {"type": "function", "name": "weather"}},
    {"model": "m", "input": "hi", "prompt_cache_key": "k", "max_tool_calls": 2, "top_p": 0.5},
]


@pytest.mark.parametrize("kwargs", REQUESTS)
def test_request_body_is_what_the_official_client_sends(kwargs: dict[str, Any]) -> None:
    expected = official_body(**kwargs)
    assert request_body(CreateResponseRequest(**kwargs)) == expected


def test_additional_properties_are_sent() -> None:
    expected = official_body(model="m", input="hi", additional_properties={"seed": 3})
    assert request_body(CreateResponseRequest(model="m", input="hi", seed=3)) == expected  # type: ignore[call-arg]


def test_text_settings_are_sent_where_the_official_client_drops_them() -> None:
    # The official 3.7 client loses ``text`` on the way to the wire (its serializer
    # drops the field); levante sends what the caller gave.
    text = {"format": {"type": "json_object"}, "verbosity": "low"}
    assert "text" not in official_body(model="m", input="hi", text=text)
    assert request_body(CreateResponseRequest(model="m", input="hi", text=text))["text"] == text
