"""chat.parse and chat.parse_stream on the wire: the same calls as the official SDK send the
same request (the strict json_schema response format byte for byte) and give the same
parsed objects from the same answer bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistralai.client import Mistral as OfficialMistral
from pydantic import BaseModel

from levante import Mistral
from official_compare import assert_same_attributes
from wire import Recorder, json_answer, same_request, sse_answer, sse_body


class Step(BaseModel):
    explanation: str
    output: str


class MathDemonstration(BaseModel):
    steps: list[Step]
    final_answer: str


ANSWER = MathDemonstration(
    steps=[Step(explanation="Subtract 7", output="8x = -30"), Step(explanation="/8", output="x")],
    final_answer="x = -15/4",
).model_dump_json()
USAGE = {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
COMPLETION = {
    "id": "p1",
    "object": "chat.completion",
    "created": 1,
    "model": "mistral-large-latest",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
    ],
    "usage": USAGE,
}
PIECES = [ANSWER[i : i + 7] for i in range(0, len(ANSWER), 7)]


def chunk(content: str | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "p1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mistral-large-latest",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


STREAM = sse_body(
    (None, chunk("")),
    *[(None, chunk(piece)) for piece in PIECES],
    (None, chunk(None, "stop", usage=USAGE)),
    (None, "[DONE]"),
)
CALL: dict[str, Any] = {
    "model": "mistral-large-latest",
    "messages": [
        {"role": "system", "content": "You are a math tutor."},
        {"role": "user", "content": "How can I solve 8x + 7 = -23"},
    ],
    "temperature": 0,
    "max_tokens": 300,
}


def pair(recorder: Recorder) -> tuple[OfficialMistral, Mistral]:
    theirs = OfficialMistral(api_key="k", server_url="http://wire.test", client=recorder.client())
    ours = Mistral(api_key="k", server_url="http://wire.test", client=recorder.client())
    return theirs, ours


def async_pair(recorder: Recorder) -> tuple[OfficialMistral, Mistral]:
    theirs = OfficialMistral(
        api_key="k", server_url="http://wire.test", async_client=recorder.async_client()
    )
    ours = Mistral(api_key="k", server_url="http://wire.test", async_client=recorder.async_client())
    return theirs, ours


def test_parse_wire() -> None:
    recorder = Recorder(json_answer(COMPLETION))
    theirs, ours = pair(recorder)
    their_reply = theirs.chat.parse(response_format=MathDemonstration, **CALL)
    my_reply = ours.chat.parse(MathDemonstration, **CALL)
    same_request(*recorder.requests)
    sent = json.loads(recorder.last.content)["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "MathDemonstration"
    assert_same_attributes(my_reply, their_reply)
    mine = my_reply.choices[0].message
    assert mine is not None and isinstance(mine.parsed, MathDemonstration)
    assert mine.parsed == their_reply.choices[0].message.parsed


def test_parse_stream_wire() -> None:
    recorder = Recorder(sse_answer(STREAM))
    theirs, ours = pair(recorder)
    with theirs.chat.parse_stream(response_format=MathDemonstration, **CALL) as stream:
        their_chunks = list(stream)
    with ours.chat.parse_stream(response_format=MathDemonstration, **CALL) as stream:
        my_chunks = list(stream)
    same_request(*recorder.requests)
    for mine, their in zip(my_chunks, their_chunks, strict=True):
        assert_same_attributes(mine, their)
    final = stream.final_response()
    message = final.choices[0].message
    assert message is not None and message.parsed == MathDemonstration.model_validate_json(ANSWER)
    assert final.usage.total_tokens == 14


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the official async path is asyncio-only
async def test_parse_async_wire() -> None:
    recorder = Recorder(json_answer(COMPLETION))
    theirs, ours = async_pair(recorder)
    their_reply = await theirs.chat.parse_async(response_format=MathDemonstration, **CALL)
    my_reply = await ours.chat.parse_async(response_format=MathDemonstration, **CALL)
    assert_same_attributes(my_reply, their_reply)
    recorder.answer = sse_answer(STREAM)
    their_stream = await theirs.chat.parse_stream_async(response_format=MathDemonstration, **CALL)
    their_chunks = [event async for event in their_stream]
    async with ours.chat.parse_stream_async(MathDemonstration, **CALL) as stream:
        my_chunks = [event async for event in stream]
    for mine, their in zip(my_chunks, their_chunks, strict=True):
        assert_same_attributes(mine, their)
    same_request(*recorder.requests[:2])
    same_request(*recorder.requests[2:])
    assert isinstance(stream.partial, MathDemonstration)


def test_per_call_options_wire() -> None:
    recorder = Recorder(json_answer(COMPLETION))
    theirs, ours = pair(recorder)
    options: dict[str, Any] = {
        "server_url": "http://other.test",
        "timeout_ms": 4321,
        "http_headers": {"x-trace": "t"},
        "retries": None,
    }
    theirs.chat.parse(response_format=MathDemonstration, **CALL, **options)
    ours.chat.parse(MathDemonstration, **CALL, **options)
    same_request(*recorder.requests)
    assert str(recorder.last.url) == "http://other.test/v1/chat/completions"
    assert recorder.requests[0].extensions["timeout"] == recorder.requests[1].extensions["timeout"]
    assert recorder.last.headers["x-trace"] == "t"
