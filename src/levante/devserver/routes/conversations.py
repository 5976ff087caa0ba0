"""Conversations: start, append, restart and history, kept in memory for the life of the app.

``POST /v1/conversations`` (start), ``/v1/conversations/{id}`` (append),
``/v1/conversations/{id}/restart`` (a new conversation: the history before
``from_entry_id``, then the new inputs); ``GET /v1/conversations/{id}/history``.  Streamed
replies are ``event: <type>`` + ``data: {...}`` blocks ending with
``conversation.response.done``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import wire
from ..context import Context, Reject, begin, field, invalid, stream_flag
from ..engine import chat_reply, message_text, resolve_model
from ..state import Conversation, State
from ..streaming import EventStream, Whole, finish

__all__ = [
    "conversations_append",
    "conversations_history",
    "conversations_restart",
    "conversations_start",
]

_ENTRY_TYPES = ("message.input", "message.output", "function.call", "function.result")


def _entry(state: State, item: Any, stamp: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid("inputs", "each entry must be an object")
    kind = item.get("type", "message.input")
    if kind not in _ENTRY_TYPES:
        raise invalid("inputs", f"unknown entry type {kind!r}")
    if kind == "function.result" and not isinstance(item.get("tool_call_id"), str):
        raise invalid("inputs", "a function.result entry needs a tool_call_id")
    if kind == "message.input" and item.get("role") not in ("user", "assistant"):
        raise invalid("inputs", "a message entry needs role user or assistant")
    entry = {"object": "entry", "type": kind, "created_at": stamp, **item}
    entry["id"] = state.new_id("msg")
    return entry


def _input_entries(state: State, inputs: Any) -> list[dict[str, Any]]:
    stamp = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(inputs, str):
        inputs = [{"role": "user", "content": inputs}]
    if not isinstance(inputs, list) or not inputs:
        raise invalid("inputs", "expected a string or a non-empty list of entries")
    return [_entry(state, item, stamp) for item in inputs]


def _as_messages(conversation: Conversation, entries: Sequence[Mapping[str, Any]]) -> list[Any]:
    messages: list[dict[str, Any]] = []
    if conversation.instructions:
        messages.append({"role": "system", "content": conversation.instructions})
    names: dict[str, str] = {}
    for entry in entries:
        kind = entry.get("type")
        if kind == "function.call":
            names[str(entry.get("tool_call_id"))] = str(entry.get("name", ""))
            messages.append({"role": "assistant", "content": "", "tool_calls": [entry]})
        elif kind == "function.result":
            call_id = str(entry.get("tool_call_id"))
            result = entry.get("result", "")
            messages.append({"role": "tool", "name": names.get(call_id), "content": str(result)})
        else:
            role = (
                "user" if kind == "message.input" and entry.get("role") == "user" else "assistant"
            )
            messages.append({"role": role, "content": message_text(entry.get("content"))})
    return messages


def _completion_args(body: Mapping[str, Any]) -> dict[str, Any]:
    args = field(body, "completion_args", (dict,)) or {}
    return dict(args)


def _converse(
    ctx: Context, conversation: Conversation, new_entries: list[dict[str, Any]]
) -> Response | Whole:
    body = ctx.body
    args = {**conversation.completion_args, **_completion_args(body)}
    history = conversation.entries + new_entries
    max_tokens = args.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 0):
        raise invalid("completion_args", "max_tokens must be an integer >= 0")
    reply = chat_reply(
        conversation.model,
        _as_messages(conversation, history),
        max_tokens=max_tokens,
        tools=[tool for tool in conversation.tools if isinstance(tool, dict)],
        tool_choice=args.get("tool_choice") or "auto",
        random_seed=args.get("random_seed"),
    )
    entry_id = ctx.state.new_id("msg")
    outputs = wire.output_entries(reply, entry_id=entry_id, model=conversation.model_name)
    conversation.entries = history + outputs
    if field(body, "store", (bool,)) is not False:
        ctx.state.conversations[conversation.id] = conversation
    if stream_flag(body):
        blocks = wire.conversation_blocks(
            reply, conversation_id=conversation.id, entry_id=entry_id, model=conversation.model_name
        )

        # Built when sent, so that their created_at follows the deltas'.
        def end() -> bytes:
            return wire.conversation_done_block(reply)

        def error() -> bytes:
            return wire.conversation_error_block("Internal server error (injected)", 3000)

        return EventStream(ctx, blocks, end, error)
    payload = wire.conversation_response(reply, conversation_id=conversation.id, outputs=outputs)
    return Whole(payload, reply.completion_tokens)


def _conversation(ctx: Context, conversation_id: str) -> Conversation:
    conversation = ctx.state.conversations.get(conversation_id)
    if conversation is None:
        raise Reject(404, f"Conversation {conversation_id} not found", "not_found", code="3404")
    return conversation


async def conversations_start(request: Request) -> Response:
    """``POST /v1/conversations``."""
    ctx = await begin(request)
    body = ctx.body
    agent_id: str | None = field(body, "agent_id", (str,))
    name: str | None = field(body, "model", (str,))
    if name is not None:
        spec = ctx.model(name)
    elif agent_id is not None:
        spec = resolve_model(agent_id) or ctx.model("levante-chat")
        name = spec.id
    else:
        raise invalid("model", "a conversation needs a model or an agent_id")
    conversation = Conversation(
        id=ctx.state.new_id("conv"),
        model=spec,
        model_name=name,
        instructions=field(body, "instructions", (str,)),
        tools=field(body, "tools", (list,)) or [],
        completion_args=_completion_args(body),
    )
    entries = _input_entries(ctx.state, body.get("inputs"))
    return await finish(ctx, _converse(ctx, conversation, entries))


async def conversations_append(request: Request) -> Response:
    """``POST /v1/conversations/{conversation_id}``."""
    ctx = await begin(request)
    conversation = _conversation(ctx, request.path_params["conversation_id"])
    entries = _input_entries(ctx.state, ctx.body.get("inputs"))
    return await finish(ctx, _converse(ctx, conversation, entries))


async def conversations_restart(request: Request) -> Response:
    """``POST /v1/conversations/{conversation_id}/restart``."""
    ctx = await begin(request)
    old = _conversation(ctx, request.path_params["conversation_id"])
    from_entry: str = field(ctx.body, "from_entry_id", (str,), required=True)
    index = next((i for i, e in enumerate(old.entries) if e.get("id") == from_entry), None)
    if index is None:
        raise Reject(404, f"Entry {from_entry} not found in {old.id}", "not_found", code="3404")
    conversation = Conversation(
        id=ctx.state.new_id("conv"),
        model=old.model,
        model_name=old.model_name,
        instructions=old.instructions,
        tools=old.tools,
        completion_args=old.completion_args,
        entries=old.entries[:index],
    )
    inputs = ctx.body.get("inputs")
    entries = _input_entries(ctx.state, inputs) if inputs is not None else []
    return await finish(ctx, _converse(ctx, conversation, entries))


async def conversations_history(request: Request) -> Response:
    """``GET /v1/conversations/{conversation_id}/history``."""
    ctx = await begin(request, needs_body=False)
    conversation = _conversation(ctx, request.path_params["conversation_id"])
    return JSONResponse(
        {
            "object": "conversation.history",
            "conversation_id": conversation.id,
            "entries": conversation.entries,
        }
    )
