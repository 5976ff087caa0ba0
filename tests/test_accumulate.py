"""ChatCompletionAccumulator: chunks in, the final ChatCompletionResponse out."""

from __future__ import annotations

import itertools
import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from levante.accumulate import ChatCompletionAccumulator
from levante.models import (
    ChatCompletionResponse,
    CompletionChunk,
    CompletionEvent,
    TextChunk,
    ThinkChunk,
    ToolCall,
    UnknownContentChunk,
)


def chunk(
    *choices: dict[str, Any], usage: dict[str, int] | None = None, **top: Any
) -> CompletionEvent:
    """One streamed event as the API sends it, decoded the way a stream decodes it."""
    body: dict[str, Any] = {
        "id": top.pop("id", "cmpl-1"),
        "object": "chat.completion.chunk",
        "created": top.pop("created", 1700000000),
        "model": top.pop("model", "mistral-small-latest"),
        "choices": list(choices),
        **top,
    }
    if usage is not None:
        body["usage"] = usage
    return CompletionEvent.from_sse_data(json.dumps(body))


def delta(index: int = 0, finish_reason: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"index": index, "delta": fields, "finish_reason": finish_reason}


def message(response: ChatCompletionResponse, index: int = 0) -> Any:
    assert response.choices[index].message is not None
    return response.choices[index].message


def test_content_is_joined_and_metadata_comes_from_the_first_chunk() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(role="assistant", content=""), id="first", created=5, model="m1"))
    acc.add(chunk(delta(content="Hello"), id="other", created=9, model="m2"))
    acc.add(chunk(delta(content=", world", finish_reason="stop")))
    response = acc.snapshot()
    assert (response.id, response.created, response.model) == ("first", 5, "m1")
    assert response.object == "chat.completion"
    assert message(response).content == "Hello, world"
    assert message(response).role == "assistant"
    assert response.choices[0].finish_reason == "stop"
    assert acc.text == "Hello, world"
    assert acc.chunk_count == 3


def test_accepts_chunks_as_well_as_events() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(content="a")).data)
    acc.add(chunk(delta(content="b")))
    assert isinstance(chunk(delta()).data, CompletionChunk)
    assert acc.text == "ab"


@pytest.mark.parametrize("bad", [{"data": {}}, "data: {}", None])
def test_rejects_other_objects(bad: Any) -> None:
    with pytest.raises(TypeError, match="CompletionEvent or a CompletionChunk"):
        ChatCompletionAccumulator().add(bad)


def test_empty_accumulator_snapshot() -> None:
    acc = ChatCompletionAccumulator()
    response = acc.snapshot()
    assert response.id == "" and response.model == "" and response.choices == []
    assert response.usage is None
    assert acc.text == ""


def test_multiple_choices_interleaved() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(1, content="B1"), delta(0, content="A1")))
    acc.add(chunk(delta(0, content="A2")))
    acc.add(chunk(delta(2, content="C"), delta(1, content="B2", finish_reason="length")))
    acc.add(chunk(delta(0, finish_reason="stop"), delta(2, finish_reason="stop")))
    response = acc.snapshot()
    assert [choice.index for choice in response.choices] == [0, 1, 2]
    assert [message(response, i).content for i in range(3)] == ["A1A2", "B1B2", "C"]
    assert [choice.finish_reason for choice in response.choices] == ["stop", "length", "stop"]
    assert acc.finish_reasons == {0: "stop", 1: "length", 2: "stop"}
    assert acc.text == "A1A2"


def test_unknown_finish_reason_is_kept_and_the_last_one_wins() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(content="x", finish_reason="content_filter_v9")))
    assert acc.snapshot().choices[0].finish_reason == "content_filter_v9"
    acc.add(chunk(delta(finish_reason="stop")))
    assert acc.snapshot().choices[0].finish_reason == "stop"


def test_usage_is_the_last_one_seen() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(content="a")))
    assert acc.snapshot().usage is None
    acc.add(
        chunk(
            delta(content="b"),
            usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        )
    )
    acc.add(
        chunk(
            delta(finish_reason="stop"),
            usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        )
    )
    acc.add(chunk(delta()))  # a chunk without usage does not erase it
    usage = acc.snapshot().usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (3, 2, 5)
    assert acc.usage == usage


def test_tool_call_arguments_split_over_chunks_with_id_and_name_only_first() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                role="assistant",
                tool_calls=[
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            )
        )
    )
    for piece in ['{"ci', 'ty": "Pa', 'ris"}']:
        acc.add(chunk(delta(tool_calls=[{"index": 0, "function": {"arguments": piece}}])))
    acc.add(chunk(delta(finish_reason="tool_calls")))
    calls = message(acc.snapshot()).tool_calls
    assert len(calls) == 1
    call = calls[0]
    assert isinstance(call, ToolCall)
    assert (call.id, call.type, call.index) == ("call_1", "function", 0)
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert acc.snapshot().choices[0].finish_reason == "tool_calls"


def test_several_deltas_for_the_same_index_in_one_chunk() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                tool_calls=[
                    {"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"x"'}},
                    {"index": 0, "function": {"arguments": ": 1"}},
                    {"index": 1, "id": "b", "function": {"name": "g", "arguments": "{}"}},
                    {"index": 0, "function": {"arguments": "}"}},
                ]
            )
        )
    )
    calls = message(acc.snapshot()).tool_calls
    assert [(c.id, c.index, c.function.name, c.function.arguments) for c in calls] == [
        ("a", 0, "f", '{"x": 1}'),
        ("b", 1, "g", "{}"),
    ]


def test_complete_tool_calls_in_one_delta_as_mistral_sends_them() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                content="",
                tool_calls=[
                    {"id": "k1", "function": {"name": "f", "arguments": '{"a": 1}'}, "index": 0},
                    {"id": "k2", "function": {"name": "g", "arguments": '{"b": 2}'}, "index": 1},
                ],
            ),
        )
    )
    calls = message(acc.snapshot()).tool_calls
    assert [(c.id, c.function.name) for c in calls] == [("k1", "f"), ("k2", "g")]


def test_tool_calls_without_index_use_their_position() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                tool_calls=[
                    {"id": "p", "function": {"name": "f", "arguments": "{"}},
                    {"id": "q", "function": {"name": "g", "arguments": "["}},
                ]
            )
        )
    )
    acc.add(
        chunk(
            delta(tool_calls=[{"function": {"arguments": "}"}}, {"function": {"arguments": "]"}}])
        )
    )
    calls = message(acc.snapshot()).tool_calls
    assert [(c.id, c.index, c.function.arguments) for c in calls] == [
        ("p", 0, "{}"),
        ("q", 1, "[]"),
    ]


def test_a_new_id_at_a_used_index_is_a_new_call() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                tool_calls=[{"index": 0, "id": "one", "function": {"name": "f", "arguments": "{}"}}]
            )
        )
    )
    acc.add(
        chunk(
            delta(
                tool_calls=[{"index": 0, "id": "two", "function": {"name": "g", "arguments": "{}"}}]
            )
        )
    )
    acc.add(chunk(delta(tool_calls=[{"index": 0, "id": "two", "function": {"arguments": ""}}])))
    calls = message(acc.snapshot()).tool_calls
    assert [(c.id, c.function.name) for c in calls] == [("one", "f"), ("two", "g")]


def test_arguments_sent_as_a_json_object() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                tool_calls=[
                    {"index": 0, "id": "o", "function": {"name": "f", "arguments": {"n": 1}}}
                ]
            )
        )
    )
    assert message(acc.snapshot()).tool_calls[0].function.arguments == {"n": 1}


def test_tool_calls_per_choice_are_separate() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                0, tool_calls=[{"index": 0, "id": "x", "function": {"name": "f", "arguments": "1"}}]
            ),
            delta(
                1, tool_calls=[{"index": 0, "id": "y", "function": {"name": "g", "arguments": "2"}}]
            ),
        )
    )
    response = acc.snapshot()
    assert message(response, 0).tool_calls[0].function.arguments == "1"
    assert message(response, 1).tool_calls[0].function.arguments == "2"
    assert message(response, 0).content == ""


def test_content_as_lists_of_text_chunks_is_concatenated() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(content=[{"type": "text", "text": "Hel"}])))
    acc.add(chunk(delta(content="lo")))
    acc.add(chunk(delta(content=[{"type": "text", "text": " you"}, {"type": "text", "text": "!"}])))
    assert message(acc.snapshot()).content == "Hello you!"
    assert acc.text == "Hello you!"


def test_reasoning_chunks_are_rebuilt_as_a_chunk_list() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(content="pre ")))
    acc.add(
        chunk(
            delta(content=[{"type": "thinking", "thinking": [{"type": "text", "text": "let me"}]}])
        )
    )
    acc.add(
        chunk(
            delta(
                content=[
                    {
                        "type": "thinking",
                        "thinking": [{"type": "text", "text": " think"}],
                        "closed": True,
                    }
                ]
            )
        )
    )
    acc.add(chunk(delta(content=[{"type": "text", "text": "The"}])))
    acc.add(chunk(delta(content=" answer")))
    acc.add(chunk(delta(content=[{"type": "hologram", "hologram_ids": [1]}])))
    content = message(acc.snapshot()).content
    assert isinstance(content, list)
    assert [type(part) for part in content] == [
        TextChunk,
        ThinkChunk,
        TextChunk,
        UnknownContentChunk,
    ]
    assert content[0].text == "pre "
    assert isinstance(content[1], ThinkChunk)
    assert content[1].thinking == [TextChunk(text="let me think")]
    assert content[1].closed is True
    assert content[2].text == "The answer"
    assert acc.text == "pre The answer"


def test_logprobs_are_concatenated() -> None:
    def lp(token: str) -> dict[str, Any]:
        return {"content": [{"token": token, "logprob": -0.5, "bytes": [1], "token_id": 3}]}

    acc = ChatCompletionAccumulator()
    acc.add(chunk({**delta(content="a"), "logprobs": lp("a")}))
    acc.add(chunk({**delta(content="b"), "logprobs": lp("b")}))
    logprobs = acc.snapshot().choices[0].logprobs
    assert logprobs is not None
    assert [item.token for item in logprobs.content] == ["a", "b"]
    assert json.loads(logprobs.model_dump_json(by_alias=True))["content"][0]["bytes"] == [1]


def test_snapshots_are_independent() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                content="one",
                tool_calls=[{"index": 0, "id": "i", "function": {"name": "f", "arguments": "{"}}],
            ),
            usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        )
    )
    first = acc.snapshot()
    frozen = first.model_dump()
    acc.add(
        chunk(
            delta(
                content=" two",
                tool_calls=[{"index": 0, "function": {"arguments": "}"}}],
                finish_reason="stop",
            ),
            usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        )
    )
    assert first.model_dump() == frozen  # later chunks do not reach an earlier snapshot
    second = acc.snapshot()
    assert message(second).content == "one two"
    assert message(second).tool_calls[0].function.arguments == "{}"
    # mutating a snapshot does not reach the accumulator or the next snapshot
    message(second).content = "changed"
    message(second).tool_calls[0].function.arguments = "changed"
    assert second.usage is not None
    second.usage.total_tokens = 99
    third = acc.snapshot()
    assert third is not second
    assert message(third).content == "one two"
    assert message(third).tool_calls[0].function.arguments == "{}"
    assert third.usage is not None and third.usage.total_tokens == 3


def test_text_read_after_every_chunk() -> None:
    acc = ChatCompletionAccumulator()
    seen = []
    for word in ["a", "b", "c", "d"]:
        acc.add(chunk(delta(content=word)))
        seen.append(acc.text)
    assert seen == ["a", "ab", "abc", "abcd"]
    assert message(acc.snapshot()).content == "abcd"


def test_snapshot_serializes_like_a_non_streamed_response() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(role="assistant", content="hi", finish_reason="stop"),
            usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        )
    )
    wire = json.loads(acc.snapshot().model_dump_json(by_alias=True))
    assert wire == {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "mistral-small-latest",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "hi",
                    "tool_calls": None,
                    "prefix": False,
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=40),
    arguments=st.text(max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8),
)
def test_any_split_rebuilds_the_original(text: str, arguments: str, cuts: list[int]) -> None:
    def split(value: str) -> list[str]:
        points = sorted({min(cut, len(value)) for cut in cuts} | {0, len(value)})
        return [value[a:b] for a, b in itertools.pairwise(points)] or [""]

    acc = ChatCompletionAccumulator()
    acc.add(
        chunk(
            delta(
                role="assistant",
                tool_calls=[{"index": 0, "id": "t", "function": {"name": "f", "arguments": ""}}],
            )
        )
    )
    for piece in split(text):
        acc.add(chunk(delta(content=piece)))
    for piece in split(arguments):
        acc.add(chunk(delta(tool_calls=[{"index": 0, "function": {"arguments": piece}}])))
    result = message(acc.snapshot())
    assert result.content == text
    assert result.tool_calls[0].function.arguments == arguments
    assert acc.text == text


def test_repr_counts_chunks_and_choices() -> None:
    acc = ChatCompletionAccumulator()
    acc.add(chunk(delta(0, content="a"), delta(1, content="b")))
    assert repr(acc) == "<ChatCompletionAccumulator chunks=1 choices=2>"


# -- what it costs to keep ---------------------------------------------------------------


@pytest.mark.parametrize(
    "tokens",
    [
        [" the", " wind", " is", " called", " levante", "."],  # ASCII
        [" é", "té", " à", " Málaga", " ñ"],  # Latin-1
        ["风", "从", "东", "方", "吹", "来"],  # CJK
        [" hi", " 🌬️", " wind", " 🌊"],  # ASCII with emoji now and then
        ["a", "é", "风", "🌊", ""],  # every width, and an empty delta
    ],
)
def test_the_kept_text_costs_at_most_1_2x_its_utf8_size(tokens: list[str]) -> None:
    events = [chunk(delta(content=token)) for token in tokens]
    calls = [
        chunk(delta(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": token}}]))
        for token in tokens
    ]
    count = 60_000
    acc = ChatCompletionAccumulator()
    acc.add(events[0])  # the choice's state, allocated once
    acc.add(calls[0])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for event, call in itertools.islice(
            zip(itertools.cycle(events), itertools.cycle(calls)), count
        ):
            acc.add(event)
            acc.add(call)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    text = tokens[0] + "".join(itertools.islice(itertools.cycle(tokens), count))
    size = 2 * len(text.encode("utf-8", "surrogatepass"))  # the content and the arguments
    assert kept <= 1.2 * size, (kept, size)
    built = message(acc.snapshot())
    assert built.content == text
    assert built.tool_calls[0].function.arguments == text
