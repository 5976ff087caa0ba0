"""The Mistral wire format of the dev server's replies, built from :mod:`levante.models`.

Every body and event is a levante model serialized with ``model_dump_json(by_alias=True)``,
so the server emits exactly what the client parses (the models' wire rule keeps
``"finish_reason": null`` and leaves unset fields out).  A chat stream's first chunk
carries ``role`` with the first token, each later chunk one token or one piece of a tool
call's arguments (``id``, ``type`` and ``name`` only in a call's first delta; later deltas
have ``"name": ""`` and no ``id``); a reasoning reply first streams its thinking, one
token per chunk, as ``content: [{"type": "thinking", "thinking": [{"type": "text",
"text": ...}]}]``, and its non-streamed message content is that thinking chunk then a text
chunk; ``finish_reason`` is
``null`` until the last chunk, and the last chunk holds ``usage``.  Conversation streams
are ``event: <type>`` + ``data: <json>`` blocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ..models import (
    AssistantMessage,
    ChatCompletionChoice,
    ChatCompletionResponse,
    CompletionChunk,
    CompletionResponseStreamChoice,
    ConversationResponse,
    ConversationUsageInfo,
    DeltaMessage,
    FunctionCall,
    FunctionCallEntry,
    FunctionCallEvent,
    MessageOutputEntry,
    MessageOutputEvent,
    MistralModel,
    ResponseDoneEvent,
    ResponseErrorEvent,
    ResponseStartedEvent,
    TextChunk,
    ThinkChunk,
    ToolCall,
    UsageInfo,
)
from .engine import Reply, split_arguments

__all__ = [
    "DONE_BLOCK",
    "chat_blocks",
    "chat_response",
    "conversation_blocks",
    "conversation_done_block",
    "conversation_error_block",
    "conversation_response",
    "data_block",
    "error_body",
    "event_block",
    "output_entries",
]

DONE_BLOCK = b"data: [DONE]\n\n"

_NO_CALL_ID: Any = {"choices": {0: {"delta": {"tool_calls": {0: {"id", "type"}}}}}}

# A stand-in token whose JSON spelling cannot occur elsewhere in a chunk.
_MARK = "\x00levante-token\x00"


def _json(model: MistralModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode()


def data_block(model: MistralModel) -> bytes:
    """One ``data:`` SSE event carrying ``model`` as JSON."""
    return b"data: " + _json(model) + b"\n\n"


def event_block(event: str, model: MistralModel) -> bytes:
    """One SSE event with an ``event:`` type line and ``model`` as JSON data."""
    return b"event: " + event.encode() + b"\ndata: " + _json(model) + b"\n\n"


def error_body(message: str, error_type: str, code: str | None = None) -> dict[str, Any]:
    """A Mistral-shaped error object, as sent in error responses and ``event: error``."""
    return {"object": "error", "message": message, "type": error_type, "param": None, "code": code}


def _usage(reply: Reply) -> UsageInfo:
    completion = reply.completion_tokens
    return UsageInfo(
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=completion,
        total_tokens=reply.prompt_tokens + completion,
    )


def chat_blocks(reply: Reply, *, id: str, model: str, created: int) -> Iterator[bytes]:
    """The ``data:`` events of a streamed chat, FIM or agents reply (without ``[DONE]``)."""

    def chunk(delta: DeltaMessage, finish_reason: str | None = None) -> CompletionChunk:
        choice = CompletionResponseStreamChoice(index=0, delta=delta, finish_reason=finish_reason)
        return CompletionChunk(
            id=id, object="chat.completion.chunk", created=created, model=model, choices=[choice]
        )

    role: str | None = "assistant"
    for token in reply.thinking:
        thought = ThinkChunk(thinking=[TextChunk(text=token)])
        yield data_block(chunk(DeltaMessage(role=role, content=[thought])))
        role = None
    if reply.tool_calls:
        yield data_block(chunk(DeltaMessage(role=role, content="")))
        for index, call in enumerate(reply.tool_calls):
            for number, piece in enumerate(split_arguments(call.arguments)):
                if number == 0:
                    first = FunctionCall(name=call.name, arguments=piece)
                    tool_call = ToolCall(id=call.id, function=first, index=index)
                    yield data_block(chunk(DeltaMessage(tool_calls=[tool_call])))
                    continue
                # Later deltas carry no id: OpenAI-style accumulators concatenate every string
                # field, so a repeated (or default "null") id would corrupt the call's id.
                function = FunctionCall(name="", arguments=piece)
                delta = DeltaMessage(tool_calls=[ToolCall(function=function, index=index)])
                json_ = chunk(delta).model_dump_json(by_alias=True, exclude=_NO_CALL_ID)
                yield b"data: " + json_.encode() + b"\n\n"
    else:
        tokens = reply.tokens or [""]
        yield data_block(chunk(DeltaMessage(role=role, content=tokens[0])))
        # One model serialization for the whole stream: a token chunk differs from the
        # template only by its content string, so splice that in (long streams stay cheap).
        template = data_block(chunk(DeltaMessage(content=_MARK)))
        head, tail = template.split(json.dumps(_MARK).encode())
        for token in tokens[1:]:
            yield head + json.dumps(token, ensure_ascii=False).encode() + tail
    last = chunk(DeltaMessage(content=""), reply.finish_reason)
    last.usage = _usage(reply)
    yield data_block(last)


def _tool_calls(reply: Reply) -> list[ToolCall]:
    return [
        ToolCall(
            id=call.id, function=FunctionCall(name=call.name, arguments=call.arguments), index=i
        )
        for i, call in enumerate(reply.tool_calls)
    ]


def chat_response(reply: Reply, *, id: str, model: str, created: int) -> bytes:
    """The ``chat.completion`` JSON body of a non-streamed chat, FIM or agents reply."""
    message = AssistantMessage(content=reply.text)
    if reply.thinking:
        thought = ThinkChunk(thinking=[TextChunk(text="".join(reply.thinking))])
        message.content = [thought, TextChunk(text=reply.text)]
    if reply.tool_calls:
        message.tool_calls = _tool_calls(reply)
    choice = ChatCompletionChoice(index=0, message=message, finish_reason=reply.finish_reason)
    response = ChatCompletionResponse(
        id=id, object="chat.completion", created=created, model=model, choices=[choice],
        usage=_usage(reply),
    )  # fmt: skip
    return _json(response)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def output_entries(reply: Reply, *, entry_id: str, model: str) -> list[dict[str, Any]]:
    """The conversation entries (``message.output`` or ``function.call``) of ``reply``, as
    the JSON objects the history stores and the API returns."""
    stamp = _now()
    entries: list[MistralModel]
    if reply.tool_calls:
        entries = [
            FunctionCallEntry(
                tool_call_id=call.id,
                name=call.name,
                arguments=call.arguments,
                created_at=stamp,
                completed_at=stamp,
                id=f"{entry_id}_{index}",
                model=model,
            )
            for index, call in enumerate(reply.tool_calls)
        ]
    else:
        entries = [
            MessageOutputEntry(
                content=reply.text, created_at=stamp, completed_at=stamp, id=entry_id, model=model
            )
        ]
    return [entry.model_dump(mode="json", by_alias=True) for entry in entries]


def _conversation_usage(reply: Reply) -> ConversationUsageInfo:
    usage = _usage(reply)
    return ConversationUsageInfo(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


def conversation_response(
    reply: Reply, *, conversation_id: str, outputs: list[dict[str, Any]]
) -> bytes:
    """The ``conversation.response`` JSON body of a non-streamed conversation request."""
    response = ConversationResponse.model_validate(
        {
            "conversation_id": conversation_id,
            "outputs": outputs,
            "usage": _conversation_usage(reply),
        }
    )
    return _json(response)


def conversation_blocks(
    reply: Reply, *, conversation_id: str, entry_id: str, model: str
) -> Iterator[bytes]:
    """The events of a streamed conversation reply, without the final
    ``conversation.response.done`` (see :func:`conversation_done_block`)."""
    started = ResponseStartedEvent(conversation_id=conversation_id, created_at=_now())
    yield event_block(started.type, started)
    for index, call in enumerate(reply.tool_calls):
        for piece in split_arguments(call.arguments):
            delta = FunctionCallEvent(
                id=f"{entry_id}_{index}",
                name=call.name,
                tool_call_id=call.id,
                arguments=piece,
                created_at=_now(),
                output_index=index,
                model=model,
            )
            yield event_block(delta.type, delta)
    for token in reply.tokens:
        output = MessageOutputEvent(id=entry_id, content=token, created_at=_now(), model=model)
        yield event_block(output.type, output)


def conversation_done_block(reply: Reply) -> bytes:
    """The ``conversation.response.done`` event that ends a conversation stream."""
    done = ResponseDoneEvent(usage=_conversation_usage(reply), created_at=_now())
    return event_block(done.type, done)


def conversation_error_block(message: str, code: int) -> bytes:
    """A ``conversation.response.error`` event."""
    error = ResponseErrorEvent(message=message, code=code, created_at=_now())
    return event_block(error.type, error)
