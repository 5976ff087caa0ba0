"""ResponseAccumulator: a Responses stream in, the response a non-streamed call returns out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from levante.accumulate_responses import ResponseAccumulator, responses_text
from levante.models import (
    CreateResponseResponse,
    ResponsesErrorEvent,
    ResponsesStreamFrame,
    decode_responses_event,
)

TEXT_PIECES = ["The wea", "ther in ", "Paris is ", "mild."]
REASONING_PIECES = ["User asks ", "about ", "weather."]
ARGUMENT_PIECES = ['{"ci', 'ty": "Pa', 'ris"}']
BASE = {
    "id": "resp_1",
    "created_at": 1_700_000_000,
    "model": "mistral-medium-latest",
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}
REASONING_ITEM = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [],
    "content": [{"type": "reasoning_text", "text": "".join(REASONING_PIECES)}],
    "status": "completed",
}
MESSAGE_ITEM = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "".join(TEXT_PIECES), "annotations": []}],
}
CALL_ITEM = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "weather",
    "arguments": "".join(ARGUMENT_PIECES),
    "status": "completed",
}
USAGE = {
    "input_tokens": 5,
    "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 3},
    "total_tokens": 14,
}


def frame(data: dict[str, Any]) -> ResponsesStreamFrame:
    return decode_responses_event(str(data["type"]), json.dumps(data))


def stream(*, done_events: bool = True, final_output: bool = True) -> list[dict[str, Any]]:
    seq = iter(range(1000))
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**BASE, "output": [], "status": "in_progress"}},
        {
            "type": "response.in_progress",
            "response": {**BASE, "output": [], "status": "in_progress"},
        },
    ]

    def item_events(index: int, item: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        started = {**item, "status": "in_progress"}
        if item["type"] in ("message", "reasoning"):
            started["content"] = []
        else:
            started["arguments"] = ""
        events.append(
            {"type": "response.output_item.added", "output_index": index, "item": started}
        )
        events.extend(deltas)
        if done_events:
            events.append(
                {"type": "response.output_item.done", "output_index": index, "item": item}
            )

    part_base = {"output_index": 0, "content_index": 0, "item_id": "rs_1"}
    reasoning = [
        {
            "type": "response.content_part.added",
            **part_base,
            "part": {"type": "reasoning_text", "text": ""},
        },
        *(
            {"type": "response.reasoning_text.delta", **part_base, "delta": piece}
            for piece in REASONING_PIECES
        ),
    ]
    if done_events:
        reasoning.append(
            {"type": "response.reasoning_text.done", **part_base, "text": "".join(REASONING_PIECES)}
        )
    item_events(0, REASONING_ITEM, reasoning)
    part_base = {"output_index": 1, "content_index": 0, "item_id": "msg_1"}
    text = [
        {
            "type": "response.content_part.added",
            **part_base,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        *(
            {"type": "response.output_text.delta", **part_base, "delta": piece, "logprobs": []}
            for piece in TEXT_PIECES
        ),
    ]
    if done_events:
        text.append(
            {
                "type": "response.output_text.done",
                **part_base,
                "text": "".join(TEXT_PIECES),
                "logprobs": [],
            }
        )
        text.append(
            {"type": "response.content_part.done", **part_base, "part": MESSAGE_ITEM["content"][0]}
        )
    item_events(1, MESSAGE_ITEM, text)
    calls = [
        {
            "type": "response.function_call_arguments.delta",
            "output_index": 2,
            "item_id": "fc_1",
            "delta": piece,
        }
        for piece in ARGUMENT_PIECES
    ]
    if done_events:
        calls.append(
            {
                "type": "response.function_call_arguments.done",
                "output_index": 2,
                "item_id": "fc_1",
                "name": "weather",
                "arguments": "".join(ARGUMENT_PIECES),
            }
        )
    item_events(2, CALL_ITEM, calls)
    output = [REASONING_ITEM, MESSAGE_ITEM, CALL_ITEM] if final_output else []
    events.append(
        {
            "type": "response.completed",
            "response": {**BASE, "output": output, "status": "completed", "usage": USAGE},
        }
    )
    for event in events:
        event["sequence_number"] = next(seq)
    return events


EXPECTED = CreateResponseResponse.model_validate(
    {
        **BASE,
        "output": [REASONING_ITEM, MESSAGE_ITEM, CALL_ITEM],
        "status": "completed",
        "usage": USAGE,
    }
)


def accumulate(events: list[dict[str, Any]]) -> ResponseAccumulator:
    accumulator = ResponseAccumulator()
    for event in events:
        accumulator.add(frame(event))
    return accumulator


def test_the_final_response_is_the_completed_one() -> None:
    accumulator = accumulate(stream())
    assert accumulator.snapshot() == EXPECTED
    assert accumulator.output_text == "".join(TEXT_PIECES)


@pytest.mark.parametrize("done_events", [True, False])
def test_a_final_response_without_output_is_rebuilt_from_the_stream(done_events: bool) -> None:
    snapshot = accumulate(stream(done_events=done_events, final_output=False)).snapshot()
    dumped = json.loads(snapshot.model_dump_json(by_alias=True))
    expected = json.loads(EXPECTED.model_dump_json(by_alias=True))
    if not done_events:
        # without .done events, the items keep the status they were added with
        for item in expected["output"]:
            item["status"] = "in_progress"
    assert dumped == expected


def test_snapshots_mid_stream_hold_the_deltas_so_far() -> None:
    accumulator = ResponseAccumulator()
    texts = []
    for event in stream(done_events=False, final_output=False):
        accumulator.add(frame(event))
        texts.append(accumulator.output_text)
        snapshot = accumulator.snapshot()
        assert isinstance(snapshot, CreateResponseResponse)
    assert [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]] == [
        "",
        "The wea",
        "The weather in ",
        "The weather in Paris is ",
        "The weather in Paris is mild.",
    ]
    first = accumulator.snapshot()
    accumulator.add(
        frame(
            {
                "type": "response.output_text.delta",
                "output_index": 1,
                "content_index": 0,
                "item_id": "msg_1",
                "delta": "!",
                "sequence_number": 99,
                "logprobs": [],
            }
        )
    )
    assert (
        first.output_text == "The weather in Paris is mild."
    )  # an earlier snapshot is independent
    assert accumulator.snapshot().output_text == "The weather in Paris is mild.!"


def test_deltas_without_any_item_event_still_build_items() -> None:
    accumulator = ResponseAccumulator()
    for piece in TEXT_PIECES:
        accumulator.add(
            frame(
                {
                    "type": "response.output_text.delta",
                    "output_index": 0,
                    "content_index": 0,
                    "item_id": "m",
                    "delta": piece,
                    "sequence_number": 1,
                    "logprobs": [],
                }
            )
        )
    for piece in ARGUMENT_PIECES:
        accumulator.add(
            frame(
                {
                    "type": "response.function_call_arguments.delta",
                    "output_index": 1,
                    "item_id": "f",
                    "delta": piece,
                    "sequence_number": 2,
                }
            )
        )
    snapshot = accumulator.snapshot()
    assert snapshot.id == "" and snapshot.output_text == "".join(TEXT_PIECES)
    assert snapshot.output[1].arguments == "".join(ARGUMENT_PIECES)  # type: ignore[union-attr]


def test_error_and_unknown_events() -> None:
    accumulator = accumulate(stream()[:3])
    accumulator.add(frame({"type": "response.web_search.searching", "sequence_number": 50}))
    accumulator.add(
        frame(
            {
                "type": "error",
                "message": "overloaded",
                "code": "server_error",
                "sequence_number": 51,
            }
        )
    )
    assert isinstance(accumulator.error, ResponsesErrorEvent)
    assert accumulator.error.message == "overloaded"
    assert accumulator.event_count == 5
    assert accumulator.snapshot().status == "in_progress"


def test_text_stream_helper_and_type_check() -> None:
    texts = [responses_text(frame(event)) for event in stream()]
    assert [text for text in texts if text is not None] == TEXT_PIECES
    with pytest.raises(TypeError, match="ResponsesStreamFrame"):
        ResponseAccumulator().add(json.dumps({}))  # type: ignore[arg-type]
