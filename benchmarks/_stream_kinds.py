"""The transcription and Responses streams of ``bench_client``: their bytes, and each
SDK's own decoding of them.

``transcription_events(n)`` and ``responses_events(n)`` build the SSE bytes of one stream
(``n`` text deltas plus the events around them), one event per item. The ``*_decode_*``
runners turn a list of such byte chunks into typed events the way each SDK does on a
response: levante's ``SSEDecoder`` and ``decode_*_event``; the official SDK's own
``eventstreaming.stream_events`` and ``unmarshal_json_response`` into its models, over an
``httpx2.Response`` built outside the timed region.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

__all__ = [
    "levante_decoder",
    "official_decoder",
    "responses_events",
    "transcription_events",
]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, separators=(",", ":"))
    return f"event: {event}\ndata: {body}\n\n".encode()


def transcription_events(count: int) -> list[bytes]:
    """A transcription stream: language, ``count`` text deltas, a segment, done."""
    events = [
        _sse("transcription.language", {"type": "transcription.language", "audio_language": "en"})
    ]
    for i in range(count):
        data = {"type": "transcription.text.delta", "text": f" word{i % 1000:03d}"}
        events.append(_sse(data["type"], data))
    segment = {"type": "transcription.segment", "text": "word", "start": 0.0, "end": 0.5}
    events.append(_sse(segment["type"], segment))
    done = {
        "type": "transcription.done",
        "model": "voxtral-mini-latest",
        "text": "words",
        "language": "en",
        "usage": {"prompt_tokens": 4, "completion_tokens": count, "total_tokens": count + 4},
    }
    events.append(_sse(done["type"], done))
    return events


def _response(status: str, output: list[Any]) -> dict[str, Any]:
    return {
        "id": "resp_0123456789",
        "object": "response",
        "created_at": 1764028800,
        "model": "mistral-medium-latest",
        "status": status,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def responses_events(count: int) -> list[bytes]:
    """A Responses stream: created, the message item and part, ``count`` text deltas,
    then the text, part and item done and ``response.completed``."""
    seq = iter(range(count + 100))
    item = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events = [
        {"type": "response.created", "response": _response("in_progress", [])},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {
            "type": "response.content_part.added",
            **where,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    events += [
        {
            "type": "response.output_text.delta",
            **where,
            "delta": f" word{i % 1000:03d}",
            "logprobs": [],
        }
        for i in range(count)
    ]
    text = "".join(f" word{i % 1000:03d}" for i in range(count))
    part = {"type": "output_text", "text": text, "annotations": []}
    done_item = {**item, "status": "completed", "content": [part]}
    events += [
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {"type": "response.completed", "response": _response("completed", [done_item])},
    ]
    for event in events:
        event["sequence_number"] = next(seq)
    return [_sse(str(event["type"]), event) for event in events]


def levante_decoder(kind: str) -> Callable[[list[bytes]], int]:
    """bytes -> levante's SSEDecoder -> typed event, reading each event's text."""
    from levante.models import decode_responses_event, decode_transcription_event
    from levante.sse import SSEDecoder

    decode = decode_transcription_event if kind == "transcription" else decode_responses_event

    def run(chunks: list[bytes]) -> int:
        decoder = SSEDecoder()
        n = 0
        for chunk in chunks:
            for sse in decoder.feed(chunk):
                _data = decode(sse.event, sse.data).data
                n += 1
        return n

    return run


def official_decoder(kind: str) -> Callable[[list[bytes]], int]:
    """bytes -> the official SDK's stream_events -> its typed model, as its streams do."""
    from mistralai.client import models
    from mistralai.client.utils.eventstreaming import stream_events
    from mistralai.client.utils.unmarshal_json_response import unmarshal_json_response

    model = (
        models.TranscriptionStreamEvents if kind == "transcription" else models.ResponsesStreamFrame
    )

    def run(chunks: list[bytes]) -> int:
        response = httpx2.Response(200, content=iter(chunks))
        n = 0
        for event in stream_events(
            response, lambda raw: unmarshal_json_response(model, response, raw)
        ):
            _data = event.data
            n += 1
        return n

    return run
