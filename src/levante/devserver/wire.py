"""The Mistral wire format for the dev server's replies: JSON bodies and SSE event blocks.

Shapes follow the Mistral API as the official SDK parses it: a chat stream's first chunk
carries ``role`` with the first token, each later chunk one token (or one piece of a tool
call's arguments: ``id``, ``type`` and ``name`` only in a call's first delta, ``name`` is
``""`` afterwards), ``finish_reason`` is ``null`` until the last chunk, and the last chunk
holds ``usage``.  Conversation streams are ``event: <type>`` + ``data: <json>`` blocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from .engine import Reply, split_arguments

__all__ = [
    "DONE_BLOCK",
    "chat_chunks",
    "chat_response",
    "conversation_done",
    "conversation_events",
    "conversation_response",
    "data_block",
    "error_body",
    "event_block",
    "now_iso",
    "output_entries",
    "usage",
]

DONE_BLOCK = b"data: [DONE]\n\n"


def _dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def data_block(payload: Any) -> bytes:
    """One ``data:`` SSE event carrying ``payload`` as JSON."""
    return f"data: {_dumps(payload)}\n\n".encode()


def event_block(event: str, payload: Any) -> bytes:
    """One SSE event with an ``event:`` type line and ``payload`` as JSON data."""
    return f"event: {event}\ndata: {_dumps(payload)}\n\n".encode()


def error_body(message: str, error_type: str, code: str | None = None) -> dict[str, Any]:
    """A Mistral-shaped error object, as sent in error responses and ``event: error``."""
    return {"object": "error", "message": message, "type": error_type, "param": None, "code": code}


def usage(reply: Reply) -> dict[str, int]:
    """The ``usage`` object for ``reply``."""
    completion = reply.completion_tokens
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.prompt_tokens + completion,
    }


def chat_chunks(reply: Reply, *, id: str, model: str, created: int) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed chat, FIM or agents reply."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    first: dict[str, Any] = {"role": "assistant", "content": ""}
    if reply.tool_calls:
        yield chunk(first)
        for index, call in enumerate(reply.tool_calls):
            for number, piece in enumerate(split_arguments(call.arguments)):
                function = {"name": call.name if number == 0 else "", "arguments": piece}
                tool_call: dict[str, Any] = {"index": index, "function": function}
                if number == 0:
                    tool_call = {"id": call.id, "type": "function", **tool_call}
                yield chunk({"tool_calls": [tool_call]})
    else:
        tokens = reply.tokens or [""]
        yield chunk({**first, "content": tokens[0]})
        for token in tokens[1:]:
            yield chunk({"content": token})
    last = chunk({"content": ""}, reply.finish_reason)
    last["usage"] = usage(reply)
    yield last


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
            "index": index,
        }
        for index, call in enumerate(reply.tool_calls)
    ]


def chat_response(reply: Reply, *, id: str, model: str, created: int) -> dict[str, Any]:
    """The ``chat.completion`` object of a non-streamed chat, FIM or agents reply."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply)
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": usage(reply),
    }


def now_iso() -> str:
    """The current UTC time as the API writes ``created_at`` fields."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def output_entries(reply: Reply, *, entry_id: str, model: str) -> list[dict[str, Any]]:
    """The conversation entries (``message.output`` or ``function.call``) of ``reply``."""
    stamp = now_iso()
    if reply.tool_calls:
        return [
            {
                "object": "entry",
                "type": "function.call",
                "created_at": stamp,
                "completed_at": stamp,
                "id": f"{entry_id}_{index}",
                "model": model,
                "tool_call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
            }
            for index, call in enumerate(reply.tool_calls)
        ]
    return [
        {
            "object": "entry",
            "type": "message.output",
            "created_at": stamp,
            "completed_at": stamp,
            "id": entry_id,
            "model": model,
            "role": "assistant",
            "content": reply.text,
        }
    ]


def conversation_response(
    reply: Reply, *, conversation_id: str, outputs: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``conversation.response`` object of a non-streamed conversation request."""
    return {
        "object": "conversation.response",
        "conversation_id": conversation_id,
        "outputs": outputs,
        "usage": usage(reply),
    }


def conversation_events(
    reply: Reply, *, conversation_id: str, entry_id: str, model: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event type, data)`` of a streamed conversation reply, without the final
    ``conversation.response.done`` (see :func:`conversation_done`)."""
    stamp = now_iso()
    yield (
        "conversation.response.started",
        {
            "type": "conversation.response.started",
            "conversation_id": conversation_id,
            "created_at": stamp,
        },
    )
    for index, call in enumerate(reply.tool_calls):
        for piece in split_arguments(call.arguments):
            yield (
                "function.call.delta",
                {
                    "type": "function.call.delta",
                    "created_at": stamp,
                    "output_index": index,
                    "id": f"{entry_id}_{index}",
                    "model": model,
                    "name": call.name,
                    "tool_call_id": call.id,
                    "arguments": piece,
                },
            )
    for token in reply.tokens:
        yield (
            "message.output.delta",
            {
                "type": "message.output.delta",
                "created_at": stamp,
                "output_index": 0,
                "content_index": 0,
                "id": entry_id,
                "model": model,
                "role": "assistant",
                "content": token,
            },
        )


def conversation_done(reply: Reply) -> tuple[str, dict[str, Any]]:
    """The ``conversation.response.done`` event that ends a conversation stream."""
    return (
        "conversation.response.done",
        {"type": "conversation.response.done", "created_at": now_iso(), "usage": usage(reply)},
    )
