"""ParsedChatCompletionAccumulator: a structured chat stream, the object at every chunk."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from mistralai.client import models as official
from mistralai.extra.struct_chat import convert_to_parsed_chat_completion_response
from pydantic import BaseModel

from levante.accumulate_parsed import ParsedChatCompletionAccumulator
from levante.errors import StructuredOutputError
from levante.models import CompletionEvent, ParsedChatCompletionResponse
from official_compare import assert_same_attributes


class Step(BaseModel):
    explanation: str
    output: str


class Solution(BaseModel):
    steps: list[Step]
    final_answer: str


ANSWER = {
    "steps": [
        {"explanation": "Subtract 7 from both sides.", "output": "8x = -30"},
        {"explanation": "Divide by 8.", "output": "x = -3.75"},
    ],
    "final_answer": "x = -3.75",
}


def event(index: int, content: Any, finish: str | None = None, **top: Any) -> CompletionEvent:
    body = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": index, "delta": {"content": content}, "finish_reason": finish}],
        **top,
    }
    return CompletionEvent.from_sse_data(json.dumps(body))


def stream_of(text: str, size: int, index: int = 0) -> list[CompletionEvent]:
    events = [event(index, text[i : i + size]) for i in range(0, len(text), size)]
    events.append(
        event(
            index, "", "stop", usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        )
    )
    return events


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_the_object_grows_and_the_final_response_is_parsed(size: int) -> None:
    text = json.dumps(ANSWER)
    accumulator = ParsedChatCompletionAccumulator(Solution)
    assert accumulator.partial is None
    steps_seen = []
    for item in stream_of(text, size):
        accumulator.add(item)
        partial = accumulator.partial
        if isinstance(partial, Solution):
            steps_seen.append(len(partial.steps))
        elif partial is not None:
            assert isinstance(partial, dict)
    assert steps_seen == sorted(steps_seen)  # steps only ever get added
    assert accumulator.partial == Solution.model_validate(ANSWER)
    response = accumulator.snapshot()
    assert isinstance(response, ParsedChatCompletionResponse)
    assert response.choices[0].message is not None
    assert response.choices[0].message.parsed == Solution.model_validate(ANSWER)
    assert response.usage is not None and response.usage.total_tokens == 3
    # the same as the official SDK's parse of the same completion
    theirs = convert_to_parsed_chat_completion_response(
        official.ChatCompletionResponse.model_validate_json(
            accumulator.chat.snapshot().model_dump_json(by_alias=True)
        ),
        Solution,
    )
    assert_same_attributes(response, theirs)


def test_reasoning_chunks_are_left_out_of_the_object() -> None:
    text = json.dumps(ANSWER)
    accumulator = ParsedChatCompletionAccumulator(Solution)
    accumulator.add(
        event(0, [{"type": "thinking", "thinking": [{"type": "text", "text": "{hmm"}]}])
    )
    accumulator.add(event(0, [{"type": "text", "text": text[:30]}]))
    accumulator.add(event(0, text[30:], "stop"))
    assert accumulator.snapshot().choices[0].message.parsed == Solution.model_validate(ANSWER)  # type: ignore[union-attr]


def test_each_choice_has_its_own_object() -> None:
    first, second = json.dumps(ANSWER), json.dumps({**ANSWER, "final_answer": "x = 0"})
    accumulator = ParsedChatCompletionAccumulator(Solution)
    for pair in itertools.zip_longest(stream_of(first, 9, 0), stream_of(second, 11, 1)):
        for item in pair:
            if item is not None:
                accumulator.add(item)
    assert accumulator.partial_for(1).final_answer == "x = 0"
    parsed = [choice.message.parsed for choice in accumulator.snapshot().choices]  # type: ignore[union-attr]
    assert [p.final_answer for p in parsed] == ["x = -3.75", "x = 0"]  # type: ignore[union-attr]
    assert accumulator.partial_for(5) is None


def test_invalid_output_raises_at_the_end_with_the_raw_text_never_while_streaming() -> None:
    text = '{"steps": [], "final_answer": 42}'
    accumulator = ParsedChatCompletionAccumulator(Solution)
    for item in stream_of(text, 5):
        accumulator.add(item)  # never raises
        _ = accumulator.partial
    with pytest.raises(StructuredOutputError, match="final_answer") as info:
        accumulator.snapshot()
    assert info.value.raw == text
    assert info.value.choice_index == 0


def test_a_stream_cut_before_the_end_is_not_a_parsed_response() -> None:
    text = json.dumps(ANSWER)
    accumulator = ParsedChatCompletionAccumulator(Solution)
    for item in stream_of(text, 10)[:5]:
        accumulator.add(item)
    assert isinstance(accumulator.partial, dict)
    with pytest.raises(StructuredOutputError, match="not JSON") as info:
        accumulator.snapshot()
    assert info.value.raw == text[:50]
