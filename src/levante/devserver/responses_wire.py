"""The Responses API wire format of the dev server's replies: the ``response`` object and
the ``response.*`` events, with the official SDK's field names.

A streamed response numbers its events with ``sequence_number`` from 0 and ends with
``response.completed`` (or ``response.incomplete`` when ``max_output_tokens`` cut the
text).  Between ``response.created`` / ``response.in_progress`` and that end, each output
item opens with ``response.output_item.added`` and closes with
``response.output_item.done``: a reasoning item (``content_part.added``,
``reasoning_text.delta``..., ``reasoning_text.done``, ``content_part.done``), a message
(the same with ``output_text``), or function calls (``function_call_arguments.delta``...,
``function_call_arguments.done``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .engine import Reply, split_arguments, tokenize

__all__ = ["Plan", "Sequencer", "response_events", "response_object"]


@dataclass
class Plan:
    """What a response says and the request fields it echoes back."""

    id: str
    model: str
    reply: Reply
    reasoning: str | None
    echo: dict[str, Any]
    created_at: float = field(default_factory=time.time)

    def item_id(self, kind: str, index: int = 0) -> str:
        """The id of an output item (``rs_``, ``msg_`` or ``fc_`` plus the response's)."""
        suffix = self.id.removeprefix("resp_")
        return f"{kind}_{suffix}" if index == 0 else f"{kind}_{suffix}_{index}"


class Sequencer:
    """Numbers the events of one stream and writes them as SSE blocks."""

    def __init__(self) -> None:
        self.next = 0

    def block(self, kind: str, data: dict[str, Any]) -> bytes:
        """``event: kind`` with ``data`` plus its ``type`` and ``sequence_number``."""
        payload = {"type": kind, **data, "sequence_number": self.next}
        self.next += 1
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return f"event: {kind}\ndata: {text}\n\n".encode()


def _reasoning_item(plan: Plan, done: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": plan.item_id("rs"), "type": "reasoning", "summary": []}
    if done:
        item["content"] = [{"type": "reasoning_text", "text": plan.reasoning}]
    item["status"] = "completed" if done else "in_progress"
    return item


def _message_item(plan: Plan, done: bool) -> dict[str, Any]:
    content = [_text_part(plan.reply.text)] if done else []
    status = "in_progress"
    if done:
        status = "incomplete" if plan.reply.finish_reason == "length" else "completed"
    return {
        "id": plan.item_id("msg"),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _call_items(plan: Plan, done: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": plan.item_id("fc", index),
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments if done else "",
            "status": "completed" if done else "in_progress",
        }
        for index, call in enumerate(plan.reply.tool_calls)
    ]


def _output(plan: Plan, done: bool) -> list[dict[str, Any]]:
    items = [_reasoning_item(plan, done)] if plan.reasoning is not None else []
    if plan.reply.tool_calls:
        return items + _call_items(plan, done)
    return [*items, _message_item(plan, done)]


def _usage(plan: Plan) -> dict[str, Any]:
    reasoning = len(tokenize(plan.reasoning or ""))
    output = plan.reply.completion_tokens + reasoning
    return {
        "input_tokens": plan.reply.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": plan.reply.prompt_tokens + output,
    }


def response_object(plan: Plan, status: str) -> dict[str, Any]:
    """The ``response`` object: ``in_progress`` (no output yet) or finished."""
    done = status != "in_progress"
    if done and plan.reply.finish_reason == "length":
        status = "incomplete"
    response: dict[str, Any] = {
        "id": plan.id,
        "object": "response",
        "created_at": plan.created_at,
        "model": plan.model,
        "status": status,
        "output": _output(plan, True) if done else [],
        **plan.echo,
    }
    if done:
        response["completed_at"] = time.time()
        response["usage"] = _usage(plan)
    if status == "incomplete":
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    return response


def _part_events(
    seq: Sequencer, item_id: str, index: int, kind: str, tokens: list[str]
) -> Iterator[bytes]:
    """The content part of one item: added, its deltas, its text done, done."""
    text = "".join(tokens)
    where = {"item_id": item_id, "output_index": index, "content_index": 0}
    extra: dict[str, Any] = {"logprobs": []} if kind == "output_text" else {}
    empty = _text_part("") if kind == "output_text" else {"type": kind, "text": ""}
    whole = _text_part(text) if kind == "output_text" else {"type": kind, "text": text}
    yield seq.block("response.content_part.added", {**where, "part": empty})
    for token in tokens:
        yield seq.block(f"response.{kind}.delta", {**where, "delta": token, **extra})
    yield seq.block(f"response.{kind}.done", {**where, "text": text, **extra})
    yield seq.block("response.content_part.done", {**where, "part": whole})


def response_events(plan: Plan, seq: Sequencer) -> Iterator[bytes]:
    """Every event of a streamed response but the last (see :func:`response_object`)."""
    yield seq.block("response.created", {"response": response_object(plan, "in_progress")})
    yield seq.block("response.in_progress", {"response": response_object(plan, "in_progress")})
    openings, closings = _output(plan, False), _output(plan, True)
    for index, (opening, closing) in enumerate(zip(openings, closings, strict=True)):
        yield seq.block("response.output_item.added", {"output_index": index, "item": opening})
        if opening["type"] == "reasoning":
            tokens = tokenize(plan.reasoning or "")
            yield from _part_events(seq, opening["id"], index, "reasoning_text", tokens)
        elif opening["type"] == "message":
            yield from _part_events(seq, opening["id"], index, "output_text", plan.reply.tokens)
        else:
            where = {"item_id": opening["id"], "output_index": index}
            for piece in split_arguments(closing["arguments"]):
                yield seq.block("response.function_call_arguments.delta", {**where, "delta": piece})
            done = {**where, "name": closing["name"], "arguments": closing["arguments"]}
            yield seq.block("response.function_call_arguments.done", done)
        yield seq.block("response.output_item.done", {"output_index": index, "item": closing})
