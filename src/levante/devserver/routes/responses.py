"""The Responses API: ``POST /v1/responses``, streamed (``stream: true``) or not.

The reply is the chat model's (:mod:`levante.devserver.engine`) to the ``input`` (a string,
or a list of messages, ``function_call`` and ``function_call_output`` items) after the
``instructions``.  Function ``tools`` are called as in chat; ``reasoning: {"effort": ...}``
(anything but ``"none"``) adds a reasoning item before the answer.  The events and the
``response`` object: :mod:`levante.devserver.responses_wire`; an injected error
(``error-after``) is an ``error`` event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..context import Context, begin, field, invalid, max_tokens, stream_flag
from ..engine import chat_reply, thinking_text
from ..responses_wire import Plan, Sequencer, response_events, response_object
from ..streaming import EventStream, Whole, finish

__all__ = ["create_response"]

_ECHOED = ("instructions", "temperature", "top_p", "max_output_tokens", "metadata", "reasoning")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    raise invalid("input", "a message's content must be a string or a list of parts")


def _item_message(item: Any, names: dict[str, str]) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        raise invalid("input", "each input item must be an object")
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise invalid("input", "a message needs role user, assistant, system or developer")
        role = "system" if role == "developer" else role
        return {"role": role, "content": _text(item.get("content"))}
    if kind == "function_call":
        names[str(item.get("call_id"))] = str(item.get("name", ""))
        call = {"id": item.get("call_id"), "function": {"name": item.get("name")}}
        return {"role": "assistant", "content": "", "tool_calls": [call]}
    if kind == "function_call_output":
        name = names.get(str(item.get("call_id")))
        return {"role": "tool", "name": name, "content": str(item.get("output", ""))}
    return None  # reasoning and other items do not change what the fake model says


def _messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    given = body.get("input")
    if isinstance(given, str):
        given = [{"role": "user", "content": given}]
    if not isinstance(given, list) or not given:
        raise invalid("input", "expected a string or a non-empty list of items")
    instructions = field(body, "instructions", (str,))
    messages = [{"role": "system", "content": instructions}] if instructions else []
    names: dict[str, str] = {}
    converted = (_item_message(item, names) for item in given)
    messages.extend(message for message in converted if message is not None)
    return messages


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    tools = field(body, "tools", (list,)) or []
    as_chat = [
        {"type": "function", "function": {"name": t.get("name"), "parameters": t.get("parameters")}}
        for t in tools
        if isinstance(t, Mapping) and t.get("type") == "function"
    ]
    choice = body.get("tool_choice") or "auto"
    if isinstance(choice, Mapping):
        return as_chat, {"type": "function", "function": {"name": choice.get("name")}}
    if choice not in ("auto", "none", "required"):
        raise invalid("tool_choice", "expected auto, none, required or a function")
    return as_chat, "any" if choice == "required" else choice


def _plan(ctx: Context, name: str) -> Plan:
    body = ctx.body
    messages = _messages(body)
    tools, tool_choice = _tools(body)
    parallel = field(body, "parallel_tool_calls", (bool,))
    reply = chat_reply(
        ctx.model(name),
        messages,
        max_tokens=max_tokens(body, "max_output_tokens"),
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel is not False,
    )
    reasoning = field(body, "reasoning", (dict,)) or {}
    thinks = reasoning.get("effort") not in (None, "none")
    echo = {key: body.get(key) for key in _ECHOED}
    echo["tools"] = field(body, "tools", (list,)) or []
    echo["tool_choice"] = body.get("tool_choice") or "auto"
    echo["parallel_tool_calls"] = parallel is not False
    return Plan(
        id=ctx.state.new_id("resp"),
        model=name,
        reply=reply,
        reasoning=thinking_text(messages) if thinks else None,
        echo=echo,
    )


async def create_response(request: Request) -> Response:
    """``POST /v1/responses``."""
    ctx = await begin(request)
    name: str = field(ctx.body, "model", (str,), required=True)
    plan = _plan(ctx, name)
    if stream_flag(ctx.body):
        seq = Sequencer()

        def end() -> bytes:
            kind = "incomplete" if plan.reply.finish_reason == "length" else "completed"
            return seq.block(f"response.{kind}", {"response": response_object(plan, kind)})

        def error() -> bytes:
            failure = {"message": "Internal server error (injected)", "code": "server_error"}
            return seq.block("error", {**failure, "param": None})

        return EventStream(ctx, response_events(plan, seq), end, error)
    payload = json.dumps(response_object(plan, "completed"), ensure_ascii=False).encode()
    return await finish(ctx, Whole(payload, plan.reply.completion_tokens))
