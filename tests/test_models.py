"""levante.models: request bodies, dict coercion, forward compatibility, decode helpers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import levante.models as models
from levante.models import (
    AgentHandoffDoneEvent,
    AgentHandoffStartedEvent,
    AgentsCompletionStreamRequest,
    AssistantMessage,
    AudioChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamRequest,
    CompletionChunk,
    CompletionEvent,
    CompletionResponseStreamChoice,
    ConversationAppendRequest,
    ConversationAppendStreamRequest,
    ConversationEvents,
    ConversationRequest,
    ConversationResponse,
    ConversationRestartRequest,
    ConversationRestartStreamRequest,
    ConversationStreamRequest,
    DeltaMessage,
    DocumentURLChunk,
    FileChunk,
    FIMCompletionRequest,
    FIMCompletionResponse,
    FIMCompletionStreamRequest,
    FunctionCallEntry,
    FunctionCallEvent,
    FunctionResultEntry,
    ImageURL,
    ImageURLChunk,
    MessageInputEntry,
    MessageOutputEntry,
    MessageOutputEvent,
    ModelCard,
    ModelList,
    ReferenceChunk,
    ResponseDoneEvent,
    ResponseErrorEvent,
    ResponseStartedEvent,
    SystemMessage,
    TextChunk,
    ThinkChunk,
    Tool,
    ToolCall,
    ToolExecutionDeltaEvent,
    ToolExecutionDoneEvent,
    ToolExecutionStartedEvent,
    ToolFileChunk,
    ToolMessage,
    ToolReferenceChunk,
    UnknownContentChunk,
    UnknownConversationEventData,
    UsageInfo,
    UserMessage,
    decode_conversation_event,
    request_body,
    request_json,
)
from levante.models.chat import completion_event_decoder, merging_completion_event_decoder
from levante.sse import ServerSentEvent

HI = [{"role": "user", "content": "hi"}]

# --- request bodies -------------------------------------------------------------------


def test_stream_request_sends_only_what_was_given_plus_stream_true() -> None:
    body = request_body(ChatCompletionStreamRequest(model="m", messages=HI))
    assert body == {"model": "m", "messages": [{"content": "hi", "role": "user"}], "stream": True}


def test_complete_request_sends_stream_false() -> None:
    body = request_body(ChatCompletionRequest(model="m", messages=HI, temperature=0.3))
    assert body == {
        "model": "m",
        "messages": [{"content": "hi", "role": "user"}],
        "temperature": 0.3,
        "stream": False,
    }


def test_explicit_none_is_null_only_for_nullable_fields() -> None:
    # temperature/max_tokens/stop are nullable in the API: an explicit None resets them;
    # response_format/tool_choice/safe_prompt/prediction are not: None means "not given".
    request = ChatCompletionRequest(
        model="m",
        messages=HI,
        temperature=None,
        max_tokens=None,
        stop=None,
        response_format=None,
        tool_choice=None,
        safe_prompt=None,
        parallel_tool_calls=None,
        prediction=None,
    )
    assert request_body(request) == {
        "model": "m",
        "messages": [{"content": "hi", "role": "user"}],
        "temperature": None,
        "max_tokens": None,
        "stream": False,
        "stop": None,
    }


def test_request_json_is_compact_utf8_of_request_body() -> None:
    request = ChatCompletionStreamRequest(
        model="m", messages=[{"role": "user", "content": "¿qué tal? 😀"}], top_p=None
    )
    raw = request_json(request)
    assert b" " not in raw.replace("qué tal? ".encode(), b"")
    assert "😀".encode() in raw
    assert json.loads(raw) == request_body(request)


def test_messages_from_dicts_pick_the_class_by_role() -> None:
    request = ChatCompletionRequest(
        model="m",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "tool", "content": "42", "tool_call_id": "t1", "name": "f"},
        ],
    )
    kinds = [type(message) for message in request.messages]
    assert kinds == [SystemMessage, UserMessage, AssistantMessage, ToolMessage]
    assert request_body(request)["messages"] == [
        {"content": "be brief", "role": "system"},
        {"content": "hi", "role": "user"},
        {"role": "assistant", "content": "hello", "prefix": False},
        {"content": "42", "role": "tool", "tool_call_id": "t1", "name": "f"},
    ]


def test_message_models_and_dicts_mix() -> None:
    request = ChatCompletionRequest(
        model="m", messages=[SystemMessage(content="s"), {"role": "user", "content": "u"}]
    )
    assert request_body(request)["messages"] == [
        {"content": "s", "role": "system"},
        {"content": "u", "role": "user"},
    ]


def test_images_as_url_string_and_as_object() -> None:
    message = UserMessage.model_validate(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": "data:image/png;base64,AAAA"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
            ],
        }
    )
    assert isinstance(message.content, list)
    text, inline, linked = message.content
    assert isinstance(text, TextChunk)
    assert isinstance(inline, ImageURLChunk) and inline.image_url == "data:image/png;base64,AAAA"
    assert isinstance(linked, ImageURLChunk) and isinstance(linked.image_url, ImageURL)
    assert message.model_dump(mode="json", by_alias=True) == {
        "content": [
            {"text": "what is this?", "type": "text"},
            {"image_url": "data:image/png;base64,AAAA", "type": "image_url"},
            {"image_url": {"url": "https://x/y.png", "detail": "low"}, "type": "image_url"},
        ],
        "role": "user",
    }


def test_images_built_from_models() -> None:
    message = UserMessage(
        content=[TextChunk(text="look"), ImageURLChunk(image_url=ImageURL(url="https://i"))]
    )
    assert message.model_dump(mode="json", by_alias=True)["content"] == [
        {"text": "look", "type": "text"},
        {"image_url": {"url": "https://i"}, "type": "image_url"},
    ]


def test_unknown_content_chunk_type_round_trips() -> None:
    chunk = {"type": "hologram", "hologram_url": "https://h", "depth": 3}
    message = UserMessage.model_validate({"role": "user", "content": [chunk]})
    assert isinstance(message.content, list)
    assert isinstance(message.content[0], UnknownContentChunk)
    assert message.content[0].type == "hologram"
    assert message.model_dump(mode="json", by_alias=True)["content"] == [chunk]


@pytest.mark.parametrize(
    ("chunk", "cls"),
    [
        (
            {"type": "document_url", "document_url": "https://d.pdf", "document_name": "d"},
            DocumentURLChunk,
        ),
        ({"type": "file", "file_id": "f"}, FileChunk),
        ({"type": "input_audio", "input_audio": "https://a.mp3"}, AudioChunk),
        ({"type": "reference", "reference_ids": [1, 2]}, ReferenceChunk),
        (
            {"type": "tool_reference", "tool": "web_search", "title": "t", "url": "u"},
            ToolReferenceChunk,
        ),
        ({"type": "tool_file", "tool": "code_interpreter", "file_id": "f"}, ToolFileChunk),
    ],
)
def test_other_known_content_chunks(chunk: dict[str, Any], cls: type[BaseModel]) -> None:
    message = UserMessage.model_validate({"role": "user", "content": [chunk]})
    assert isinstance(message.content, list)
    assert type(message.content[0]) is cls
    assert message.model_dump(mode="json", by_alias=True)["content"] == [chunk]


def test_tools_tool_choice_and_response_format_from_dicts() -> None:
    request = ChatCompletionStreamRequest(
        model="m",
        messages=HI,
        tools=[
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
            {"function": {"name": "g", "parameters": {}, "description": "d", "strict": True}},
            {"type": "web_search"},
        ],
        tool_choice={"function": {"name": "f"}},
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": True},
        },
        prediction={"content": "draft"},
    )
    assert request.tools is not None and isinstance(request.tools[0], Tool)
    body = request_body(request)
    assert body["tools"] == [
        {"function": {"name": "f", "parameters": {"type": "object"}}, "type": "function"},
        {
            "function": {"name": "g", "parameters": {}, "description": "d", "strict": True},
            "type": "function",
        },
        {"type": "web_search"},
    ]
    assert body["tool_choice"] == {"function": {"name": "f"}, "type": "function"}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": True},
    }
    assert body["prediction"] == {"type": "content", "content": "draft"}


@pytest.mark.parametrize("choice", ["auto", "none", "any", "required", "a_future_mode"])
def test_tool_choice_strings_pass_through(choice: str) -> None:
    request = ChatCompletionRequest(model="m", messages=HI, tool_choice=choice)
    assert request_body(request)["tool_choice"] == choice


def test_assistant_tool_calls_get_the_sdk_defaults() -> None:
    message = AssistantMessage.model_validate(
        {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}
    )
    assert message.model_dump(mode="json", by_alias=True) == {
        "role": "assistant",
        "tool_calls": [
            {
                "function": {"name": "f", "arguments": "{}"},
                "id": "null",
                "type": "function",
                "index": 0,
            }
        ],
        "prefix": False,
    }


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([{"role": "robot", "content": "x"}], "role"),
        ([{"content": "no role"}], "role"),
        ([{"role": "user", "content": [{"text": "no type"}]}], "type"),
        ([{"role": "user"}], "content"),
        (["just a string"], "role"),
    ],
)
def test_bad_messages_fail_with_a_clear_error(messages: list[Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        ChatCompletionRequest(model="m", messages=messages)
    assert fragment in str(info.value)


def test_unknown_request_keyword_is_an_error() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        ChatCompletionRequest(model="m", messages=HI, temprature=0.2)  # type: ignore[call-arg]


def test_fim_and_agents_bodies() -> None:
    assert request_body(FIMCompletionStreamRequest(model="codestral", prompt="def", suffix="")) == {
        "model": "codestral",
        "prompt": "def",
        "stream": True,
        "suffix": "",
    }
    assert request_body(FIMCompletionRequest(model="c", prompt="p"))["stream"] is False
    assert request_body(AgentsCompletionStreamRequest(agent_id="ag", messages=HI)) == {
        "messages": [{"content": "hi", "role": "user"}],
        "agent_id": "ag",
        "stream": True,
    }


def test_conversation_bodies_follow_the_sdk_defaults() -> None:
    assert request_body(ConversationStreamRequest(inputs="hi", model="m")) == {
        "inputs": "hi",
        "stream": True,
        "model": "m",
    }
    # append and restart always send store and handoff_execution, as the official SDK
    assert request_body(ConversationAppendStreamRequest(inputs="more")) == {
        "inputs": "more",
        "stream": True,
        "store": True,
        "handoff_execution": "server",
    }
    assert request_body(ConversationRestartRequest(from_entry_id="e", inputs="x")) == {
        "from_entry_id": "e",
        "inputs": "x",
        "stream": False,
        "store": True,
        "handoff_execution": "server",
    }


def test_conversation_input_dicts_become_entries() -> None:
    request = ConversationRequest(
        inputs=[
            {"role": "user", "content": "hi"},
            {"tool_call_id": "t", "result": "42"},
            {"type": "function.call", "tool_call_id": "t", "name": "f", "arguments": "{}"},
            {"type": "message.output", "content": "earlier answer"},
            {"type": "some.future.entry", "payload": 1},
        ],
        agent_id="ag",
    )
    assert isinstance(request.inputs, list)
    assert [type(entry).__name__ for entry in request.inputs] == [
        "MessageInputEntry",
        "FunctionResultEntry",
        "FunctionCallEntry",
        "MessageOutputEntry",
        "UnknownEntry",
    ]
    assert request_body(request)["inputs"][:2] == [
        {
            "role": "user",
            "content": "hi",
            "object": "entry",
            "type": "message.input",
            "prefix": False,
        },
        {"tool_call_id": "t", "result": "42", "object": "entry", "type": "function.result"},
    ]
    assert request_body(request)["inputs"][4] == {"type": "some.future.entry", "payload": 1}


def test_entry_without_type_or_role_is_an_error() -> None:
    with pytest.raises(ValidationError, match="entry"):
        ConversationRequest(inputs=[{"content": "who am I?"}], model="m")


# --- parity with the official SDK -----------------------------------------------------


@pytest.fixture
def sdk_body() -> Iterator[Callable[[Callable[[Any], object]], Any]]:
    """Run one official-SDK call against a capturing transport; return the JSON it sent."""
    from mistralai.client import Mistral
    from mistralai.client.errors import SDKError

    captured: list[Any] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        captured.append(json.loads(request.content))
        return httpx2.Response(599, json={})  # any non-2xx: the SDK raises, we keep the body

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    sdk = Mistral(api_key="test", client=http, retry_config=None)

    def call(fn: Callable[[Any], object]) -> Any:
        captured.clear()
        with pytest.raises(SDKError):
            fn(sdk)
        assert len(captured) == 1
        return captured[0]

    yield call
    http.close()


MESSAGES_ALL_KINDS: list[dict[str, Any]] = [
    {"role": "system", "content": "s"},
    {
        "role": "user",
        "content": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": "data:x"}],
    },
    {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": "u", "detail": "high"}}],
    },
    {"role": "assistant", "content": "a"},
    {
        "role": "assistant",
        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}],
    },
    {"role": "tool", "content": "r", "tool_call_id": "c"},
]

PARITY_CASES: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    ("chat.stream", ChatCompletionStreamRequest, {"model": "m", "messages": HI}),
    ("chat.complete", ChatCompletionRequest, {"model": "m", "messages": MESSAGES_ALL_KINDS}),
    (
        "chat.complete",
        ChatCompletionRequest,
        {
            "model": "m",
            "messages": HI,
            "temperature": None,
            "top_p": 0.9,
            "max_tokens": 5,
            "stop": ["\n"],
            "random_seed": 1,
            "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {}}},
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
            "tool_choice": "any",
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
            "n": 2,
            "prediction": {"content": "p"},
            "parallel_tool_calls": False,
            "safe_prompt": True,
        },
    ),
    (
        "chat.stream",
        ChatCompletionStreamRequest,
        {
            "model": "m",
            "messages": HI,
            "tool_choice": {"function": {"name": "f"}},
            "prediction": {},
        },
    ),
    ("fim.stream", FIMCompletionStreamRequest, {"model": "c", "prompt": "p", "suffix": "s"}),
    ("fim.complete", FIMCompletionRequest, {"model": "c", "prompt": "p", "max_tokens": None}),
    ("agents.stream", AgentsCompletionStreamRequest, {"agent_id": "a", "messages": HI}),
    (
        "agents.stream",
        AgentsCompletionStreamRequest,
        {
            "agent_id": "a",
            "messages": MESSAGES_ALL_KINDS,
            "max_tokens": None,
            "stop": "END",
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
            "tool_choice": "auto",
            "response_format": {"type": "json_object"},
            "parallel_tool_calls": True,
        },
    ),
    (
        "beta.conversations.start",
        ConversationRequest,
        {"inputs": "hi", "model": "m", "store": None},
    ),
    (
        "beta.conversations.start_stream",
        ConversationStreamRequest,
        {
            "inputs": [{"role": "user", "content": "hi"}, {"tool_call_id": "t", "result": "r"}],
            "agent_id": "a",
            "completion_args": {"temperature": 0.5},
        },
    ),
]


@pytest.mark.parametrize(("method", "model", "kwargs"), PARITY_CASES)
def test_request_body_equals_what_the_official_sdk_sends(
    sdk_body: Callable[[Callable[[Any], object]], Any],
    method: str,
    model: type[BaseModel],
    kwargs: dict[str, Any],
) -> None:
    def call(sdk: Any) -> object:
        target = sdk
        for part in method.split("."):
            target = getattr(target, part)
        return target(**kwargs)

    expected = sdk_body(call)
    ours = request_body(model(**kwargs))
    assert ours == expected
    # same key order too, so even a byte comparison of the bodies would pass
    assert json.dumps(ours) == json.dumps(expected)


@pytest.mark.parametrize(
    ("method", "model", "kwargs"),
    [
        ("beta.conversations.append_stream", ConversationAppendStreamRequest, {"inputs": "hi"}),
        ("beta.conversations.append", ConversationAppendRequest, {"inputs": "hi", "store": None}),
        (
            "beta.conversations.restart_stream",
            ConversationRestartStreamRequest,
            {"inputs": "hi", "from_entry_id": "e"},
        ),
    ],
)
def test_conversation_followups_equal_the_official_sdk(
    sdk_body: Callable[[Callable[[Any], object]], Any],
    method: str,
    model: type[BaseModel],
    kwargs: dict[str, Any],
) -> None:
    def call(sdk: Any) -> object:
        target = sdk
        for part in method.split("."):
            target = getattr(target, part)
        return target(conversation_id="c", **kwargs)

    assert request_body(model(**kwargs)) == sdk_body(call)


# --- streamed chunks ------------------------------------------------------------------

CHUNK = (
    '{"id":"cmpl-1","object":"chat.completion.chunk","created":1702256327,'
    '"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":" world"},'
    '"finish_reason":null,"logprobs":null}]}'
)


def test_from_sse_data_decodes_one_chunk() -> None:
    event = CompletionEvent.from_sse_data(CHUNK)
    assert isinstance(event, CompletionEvent)
    assert event.data.choices[0].delta.content == " world"
    assert event.data.choices[0].finish_reason is None
    assert event.data.model == "mistral-small-latest"
    assert event == CompletionEvent.model_validate({"data": json.loads(CHUNK)})
    assert event.model_fields_set == {"data"}
    assert CompletionEvent.from_sse_data(CHUNK.encode()) == event


def test_from_sse_data_event_dumps_back_to_the_wire_json() -> None:
    event = CompletionEvent.from_sse_data(CHUNK)
    assert json.loads(event.data.model_dump_json(by_alias=True)) == json.loads(CHUNK)
    assert event.model_dump(mode="json")["data"]["id"] == "cmpl-1"


@pytest.mark.parametrize(
    "data",
    ["", "{", "[DONE]", '{"id": "x"}', '{"id":"x","model":"m","choices":[{"index":"zero"}]}'],
)
def test_from_sse_data_rejects_what_is_not_a_chunk(data: str) -> None:
    with pytest.raises(ValidationError):
        CompletionEvent.from_sse_data(data)


def test_completion_event_decoder_builds_what_from_sse_data_builds() -> None:
    merged: list[CompletionChunk] = []
    merging = merging_completion_event_decoder(list.append)
    for decode in (completion_event_decoder(), functools.partial(merging, merged)):
        event = decode(ServerSentEvent("message", CHUNK))
        expected = CompletionEvent.from_sse_data(CHUNK)
        assert type(event) is CompletionEvent
        assert event == expected
        assert event.model_fields_set == {"data"}
        assert event.model_extra == {}
        assert event.model_dump() == expected.model_dump()
        # Each event owns its slots: changing one leaves the next one alone.
        event.model_fields_set.add("x")
        event.model_extra["y"] = 1  # type: ignore[index]
        again = decode(ServerSentEvent("message", CHUNK))
        assert again.model_fields_set == {"data"} and again.model_extra == {}
    # merge saw each chunk the decoder returned, before the event was returned
    assert len(merged) == 2 and all(type(chunk) is CompletionChunk for chunk in merged)


@pytest.mark.parametrize("data", ["", "{", "[DONE]", '{"id": "x"}'])
def test_completion_event_decoder_rejects_what_is_not_a_chunk_and_merges_nothing(
    data: str,
) -> None:
    merged: list[CompletionChunk] = []
    with pytest.raises(ValidationError):
        merging_completion_event_decoder(list.append)(merged, ServerSentEvent("message", data))
    assert merged == []


def test_unknown_fields_and_enum_values_are_kept() -> None:
    data = json.dumps(
        {
            "id": "x",
            "model": "m",
            "created": 1,
            "system_fingerprint": "fp",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "critic", "content": "a", "sparkle": True},
                    "finish_reason": "safety_filter",
                    "stop_reason": 7,
                }
            ],
            "usage": {"prompt_tokens": 1, "total_tokens": 2, "cached_tokens": 5},
        }
    )
    chunk = CompletionEvent.from_sse_data(data).data
    assert chunk.model_extra == {"system_fingerprint": "fp"}
    choice = chunk.choices[0]
    assert choice.finish_reason == "safety_filter"
    assert choice.model_extra == {"stop_reason": 7}
    assert choice.delta.role == "critic"
    assert choice.delta.model_extra == {"sparkle": True}
    assert chunk.usage is not None and chunk.usage.model_extra == {"cached_tokens": 5}
    assert chunk.usage.completion_tokens == 0
    assert json.loads(chunk.model_dump_json(by_alias=True)) == {
        **json.loads(data),
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 0,
            "total_tokens": 2,
            "cached_tokens": 5,
        },
    }


def test_delta_content_as_chunk_list_with_thinking() -> None:
    data = json.dumps(
        {
            "id": "x",
            "model": "magistral",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "content": [
                            {"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]},
                            {"type": "text", "text": "ok"},
                            {"type": "audio_future", "bytes": "..."},
                        ]
                    },
                    "finish_reason": None,
                }
            ],
        }
    )
    content = CompletionEvent.from_sse_data(data).data.choices[0].delta.content
    assert isinstance(content, list)
    assert [type(item) for item in content] == [ThinkChunk, TextChunk, UnknownContentChunk]


def test_tool_call_deltas_decode_without_name_or_id() -> None:
    data = (
        '{"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":'
        '[{"index":1,"function":{"arguments":"1}"}}]},"finish_reason":null}]}'
    )
    call = CompletionEvent.from_sse_data(data).data.choices[0].delta.tool_calls
    assert call is not None
    assert call[0].function.name == ""
    assert call[0].function.arguments == "1}"
    assert call[0].id == "null"  # the official SDK's default
    assert call[0].model_fields_set == {"index", "function"}


def test_emitted_chunk_always_carries_finish_reason() -> None:
    # what a server emits: the official SDK requires finish_reason (null) on every choice
    chunk = CompletionChunk(
        id="x",
        model="m",
        choices=[CompletionResponseStreamChoice(index=0, delta=DeltaMessage(content="hi"))],
    )
    wire = chunk.model_dump_json(by_alias=True)
    assert json.loads(wire) == {
        "id": "x",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
    }
    from mistralai.client.models import CompletionChunk as SDKChunk

    assert SDKChunk.model_validate_json(wire).choices[0].delta.content == "hi"


def test_official_sdk_parses_our_responses() -> None:
    from mistralai.client.models import ChatCompletionResponse as SDKResponse

    response = ChatCompletionResponse(
        id="x",
        created=1,
        model="m",
        choices=[
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi", "tool_calls": None},
                "finish_reason": "stop",
            }
        ],
        usage=UsageInfo(prompt_tokens=1, completion_tokens=1, total_tokens=2),
    )
    parsed = SDKResponse.model_validate_json(response.model_dump_json(by_alias=True))
    assert parsed.choices[0].message is not None
    assert parsed.choices[0].message.content == "hi"
    assert parsed.usage.total_tokens == 2


def test_chat_and_fim_responses_parse() -> None:
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    for cls in (ChatCompletionResponse, FIMCompletionResponse):
        response = cls.model_validate_json(json.dumps(body))
        message = response.choices[0].message
        assert message is not None and message.tool_calls is not None
        assert isinstance(message.tool_calls[0], ToolCall)
        assert message.tool_calls[0].function.arguments == {"a": 1}
        assert response.usage is not None and response.usage.total_tokens == 7


# --- conversation events --------------------------------------------------------------

EVENTS: list[tuple[str, dict[str, Any], type[BaseModel]]] = [
    (
        "conversation.response.started",
        {
            "type": "conversation.response.started",
            "conversation_id": "c",
            "created_at": "2025-05-01T10:00:00Z",
        },
        ResponseStartedEvent,
    ),
    (
        "message.output.delta",
        {
            "type": "message.output.delta",
            "id": "m1",
            "content": "Hel",
            "output_index": 0,
            "model": "m",
        },
        MessageOutputEvent,
    ),
    (
        "tool.execution.started",
        {"type": "tool.execution.started", "id": "t", "name": "web_search", "arguments": "{}"},
        ToolExecutionStartedEvent,
    ),
    (
        "tool.execution.delta",
        {"type": "tool.execution.delta", "id": "t", "name": "web_search", "arguments": "{}"},
        ToolExecutionDeltaEvent,
    ),
    (
        "tool.execution.done",
        {"type": "tool.execution.done", "id": "t", "name": "web_search", "info": {"n": 1}},
        ToolExecutionDoneEvent,
    ),
    (
        "function.call.delta",
        {
            "type": "function.call.delta",
            "id": "f",
            "name": "g",
            "tool_call_id": "tc",
            "arguments": "{",
        },
        FunctionCallEvent,
    ),
    (
        "agent.handoff.started",
        {
            "type": "agent.handoff.started",
            "id": "h",
            "previous_agent_id": "a",
            "previous_agent_name": "A",
        },
        AgentHandoffStartedEvent,
    ),
    (
        "agent.handoff.done",
        {"type": "agent.handoff.done", "id": "h", "next_agent_id": "b", "next_agent_name": "B"},
        AgentHandoffDoneEvent,
    ),
    (
        "conversation.response.done",
        {"type": "conversation.response.done", "usage": {"prompt_tokens": 1, "total_tokens": 3}},
        ResponseDoneEvent,
    ),
    (
        "conversation.response.error",
        {"type": "conversation.response.error", "message": "boom", "code": 500},
        ResponseErrorEvent,
    ),
]


@pytest.mark.parametrize(("event_type", "data", "model"), EVENTS, ids=[e[0] for e in EVENTS])
def test_conversation_events_are_typed_by_sse_event_type(
    event_type: str, data: dict[str, Any], model: type[BaseModel]
) -> None:
    event = decode_conversation_event(event_type, json.dumps(data))
    assert isinstance(event, ConversationEvents)
    assert event.event == event_type
    assert type(event.data) is model
    assert (
        event.data.model_dump(mode="json", by_alias=True, exclude_unset=True).items()
        >= {k: v for k, v in data.items() if k not in ("usage", "created_at")}.items()
    )
    assert decode_conversation_event(event_type, json.dumps(data).encode()) == event


def test_message_output_delta_with_a_chunk_and_extra_fields() -> None:
    data = {
        "type": "message.output.delta",
        "id": "m",
        "content": {"type": "tool_hologram", "tool": "web_search", "title": "t"},
        "brand_new": [1],
    }
    event = decode_conversation_event("message.output.delta", json.dumps(data))
    assert isinstance(event.data, MessageOutputEvent)
    assert isinstance(event.data.content, UnknownContentChunk)
    assert event.data.model_extra == {"brand_new": [1]}


def test_unknown_conversation_event_keeps_everything() -> None:
    raw = '{"type":"conversation.response.thinking","id":"z","depth":3}'
    event = decode_conversation_event("conversation.response.thinking", raw)
    assert event.event == "conversation.response.thinking"
    assert isinstance(event.data, UnknownConversationEventData)
    assert event.data.type == "conversation.response.thinking"
    assert event.data.model_extra == {"id": "z", "depth": 3}
    assert event.data.raw == raw


@pytest.mark.parametrize("raw", ['"just text"', "42", "not json at all", "", "[1, 2]"])
def test_unknown_event_with_non_object_data_never_raises(raw: str) -> None:
    event = decode_conversation_event("future.event", raw)
    assert isinstance(event.data, UnknownConversationEventData)
    assert event.data.raw == raw


def test_event_without_sse_type_falls_back_to_the_data_type() -> None:
    data = '{"type":"message.output.delta","id":"m","content":"hi"}'
    event = decode_conversation_event("message", data)
    assert event.event == "message.output.delta"
    assert isinstance(event.data, MessageOutputEvent)
    assert event.data.content == "hi"


def test_known_event_with_bad_data_raises() -> None:
    with pytest.raises(ValidationError):
        decode_conversation_event("message.output.delta", '{"type":"message.output.delta"}')


def test_conversation_response_parses_every_output_kind() -> None:
    body = {
        "object": "conversation.response",
        "conversation_id": "c",
        "outputs": [
            {"type": "message.output", "object": "entry", "content": "hi", "role": "assistant"},
            {"type": "function.call", "tool_call_id": "t", "name": "f", "arguments": "{}"},
            {"type": "tool.execution", "name": "web_search", "arguments": "{}"},
            {
                "type": "agent.handoff",
                "previous_agent_id": "a",
                "previous_agent_name": "A",
                "next_agent_id": "b",
                "next_agent_name": "B",
            },
            {"type": "message.output.v2", "whatever": True},
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "connectors": {"w": 1},
        },
    }
    response = ConversationResponse.model_validate_json(json.dumps(body))
    kinds = [type(entry).__name__ for entry in response.outputs]
    assert kinds == [
        "MessageOutputEntry",
        "FunctionCallEntry",
        "ToolExecutionEntry",
        "AgentHandoffEntry",
        "UnknownEntry",
    ]
    assert response.usage.connectors == {"w": 1}
    assert isinstance(response.outputs[0], MessageOutputEntry)
    assert isinstance(response.outputs[1], FunctionCallEntry)


def test_entries_build_from_models() -> None:
    request = ConversationRequest(
        inputs=[
            MessageInputEntry(role="user", content="q"),
            FunctionResultEntry(tool_call_id="t", result="r"),
        ],
        model="m",
    )
    assert [entry["type"] for entry in request_body(request)["inputs"]] == [
        "message.input",
        "function.result",
    ]


# --- model list -----------------------------------------------------------------------


def test_model_list_with_base_fine_tuned_and_unknown_cards() -> None:
    body = {
        "object": "list",
        "data": [
            {
                "id": "mistral-small-latest",
                "capabilities": {"completion_chat": True, "new": True},
                "type": "base",
            },
            {
                "id": "ft:x",
                "capabilities": {},
                "type": "fine-tuned",
                "job": "j",
                "root": "r",
                "archived": False,
            },
            {"id": "z", "capabilities": {}, "type": "distilled", "teacher": "big"},
        ],
    }
    models_ = ModelList.model_validate_json(json.dumps(body))
    assert models_.data is not None
    assert all(isinstance(card, ModelCard) for card in models_.data)
    assert [card.type for card in models_.data] == ["base", "fine-tuned", "distilled"]
    assert models_.data[0].capabilities.completion_chat is True
    assert models_.data[0].capabilities.model_extra == {"new": True}
    assert models_.data[1].job == "j"
    assert models_.data[2].model_extra == {"teacher": "big"}


# --- exports --------------------------------------------------------------------------


def test_all_is_sorted_and_complete() -> None:
    assert models.__all__ == sorted(models.__all__)
    for name in models.__all__:
        assert getattr(models, name) is not None
    public = {
        name
        for name, value in vars(models).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("levante.models")
    }
    assert public <= set(models.__all__)


def test_conversation_events_validated_from_dicts_use_the_data_type() -> None:
    typed = ConversationEvents.model_validate(
        {
            "event": "message.output.delta",
            "data": {"type": "message.output.delta", "id": "m", "content": "x"},
        }
    )
    assert isinstance(typed.data, MessageOutputEvent)
    unknown = ConversationEvents(event="later", data={"type": "later", "n": 1})  # type: ignore[arg-type]
    assert isinstance(unknown.data, UnknownConversationEventData)
    assert unknown.data.model_extra == {"n": 1}


def test_response_models_follow_the_wire_rule_too() -> None:
    # explicit None on a nullable field is sent, an unset one is not
    assert DeltaMessage(content=None).model_dump(by_alias=True) == {"content": None}
    assert DeltaMessage(role="assistant").model_dump(by_alias=True) == {"role": "assistant"}


_json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
_extras = st.dictionaries(
    st.text("xyz_", min_size=1, max_size=6).map(lambda k: f"x_{k}"), _json_scalars, max_size=2
)


@st.composite
def _chunks(draw: st.DrawFn) -> dict[str, Any]:
    choices = []
    for index in range(draw(st.integers(0, 2))):
        delta: dict[str, Any] = draw(_extras)
        if draw(st.booleans()):
            delta["content"] = draw(st.text(max_size=20))
        if draw(st.booleans()):
            delta["role"] = draw(st.sampled_from(["assistant", "a_new_role"]))
        if draw(st.booleans()):
            delta["tool_calls"] = [
                {
                    "id": draw(st.text(min_size=1, max_size=5)),
                    "index": i,
                    "function": {
                        "name": draw(st.text(max_size=5)),
                        "arguments": draw(st.text(max_size=10)),
                    },
                }
                for i in range(draw(st.integers(1, 2)))
            ]
        finish = draw(
            st.none() | st.sampled_from(["stop", "length", "tool_calls", "brand_new_reason"])
        )
        choices.append({"index": index, "delta": delta, "finish_reason": finish, **draw(_extras)})
    chunk: dict[str, Any] = {
        "id": draw(st.text(max_size=10)),
        "model": draw(st.text(max_size=10)),
        "choices": choices,
    }
    if draw(st.booleans()):
        chunk["usage"] = {"prompt_tokens": draw(st.integers(0, 10**6)), **draw(_extras)}
    return {**chunk, **draw(_extras)}


@settings(max_examples=150, deadline=None)
@given(_chunks())
def test_random_chunks_decode_exactly_and_agree_with_the_official_sdk(
    chunk: dict[str, Any],
) -> None:
    from mistralai.client.models import CompletionChunk as SDKChunk
    from mistralai.client.types.basemodel import Unset

    data = json.dumps(chunk, ensure_ascii=False)
    ours = CompletionEvent.from_sse_data(data).data
    # nothing lost, nothing invented: the fields that were sent dump back as they came
    assert json.loads(ours.model_dump_json(by_alias=True, exclude_unset=True)) == chunk
    sdk = SDKChunk.model_validate_json(data)
    for mine, theirs in zip(ours.choices, sdk.choices, strict=True):
        # the SDK's "not sent" is an Unset sentinel; levante's is None
        sent = None if isinstance(theirs.delta.content, Unset) else theirs.delta.content
        assert mine.delta.content == sent
        assert mine.finish_reason == theirs.finish_reason
        assert [
            (c.id, c.function.name, c.function.arguments) for c in mine.delta.tool_calls or []
        ] == [(c.id, c.function.name, c.function.arguments) for c in theirs.delta.tool_calls or []]


def test_wire_rule_tables_match_the_field_declarations() -> None:
    # the nullable table is computed when a class is created; a forward reference resolved
    # later (model_rebuild) must not leave it stale
    from levante.models import MistralModel, Nullable

    nullable_marker = Nullable.__metadata__[0]  # type: ignore[attr-defined]
    checked = 0
    for name in models.__all__:
        cls = getattr(models, name)
        if isinstance(cls, type) and issubclass(cls, MistralModel) and cls.__name__ == name:
            declared = {
                field_name
                for field_name, field in cls.model_fields.items()
                if any(meta is nullable_marker for meta in field.metadata)
            }
            assert cls.__nullable_fields__ == declared, name
            checked += 1
    assert checked > 50


def test_docstring_examples_run() -> None:
    import doctest

    import levante.models._base

    failed, attempted = doctest.testmod(levante.models._base)
    assert attempted > 0 and failed == 0
