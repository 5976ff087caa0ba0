"""Chat, FIM and agents completions.

``POST /v1/chat/completions``, ``/v1/fim/completions``, ``/v1/agents/completions``:
``stream: true`` gives ``data: {chunk}`` events then ``data: [DONE]``.  An agent's
behaviour is the built-in model named by ``agent_id`` when there is one, else
``levante-chat``.  A ``json_schema`` response format gets a deterministic instance of the
schema; ``reasoning_effort`` (but ``"none"``) or ``prompt_mode: "reasoning"`` adds a thinking
phase before the answer (see :mod:`levante.devserver.wire`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import wire
from ..context import Context, begin, field, max_tokens, messages, stream_flag, tool_options
from ..engine import Reply, chat_reply, fim_reply, resolve_model
from ..streaming import EventStream, Whole, finish

__all__ = [
    "agents_completions",
    "chat_completions",
    "chat_for",
    "fim_completions",
    "fim_for",
]

_CHAT_ERROR = (
    b"event: error\ndata: "
    + json.dumps(
        wire.error_body("Internal server error (injected)", "internal_server_error", "3000")
    ).encode()
    + b"\n\n"
)


def _completion(ctx: Context, reply: Reply, model: str, stream: bool) -> Response | Whole:
    completion_id = uuid.uuid4().hex
    created = int(time.time())
    if stream:
        blocks = wire.chat_blocks(reply, id=completion_id, model=model, created=created)
        return EventStream(ctx, blocks, lambda: wire.DONE_BLOCK, lambda: _CHAT_ERROR)
    payload = wire.chat_response(reply, id=completion_id, model=model, created=created)
    return Whole(payload, reply.completion_tokens)


def thinks(body: Mapping[str, Any]) -> bool:
    """Whether a chat request asks for reasoning: a ``reasoning_effort`` other than
    ``"none"``, or ``prompt_mode: "reasoning"``."""
    effort = field(body, "reasoning_effort", (str,))
    mode = field(body, "prompt_mode", (str,))
    return effort not in (None, "none") or mode == "reasoning"


async def chat_for(ctx: Context, name: str, stream: bool) -> Response:
    """The chat reply of model ``name`` to the request in ``ctx``."""
    spec = ctx.model(name)
    reply = chat_reply(
        spec,
        messages(ctx.body),
        max_tokens=max_tokens(ctx.body),
        random_seed=field(ctx.body, "random_seed", (int,)),
        response_format=field(ctx.body, "response_format", (dict,)),
        think=thinks(ctx.body),
        **tool_options(ctx.body),
    )
    return await finish(ctx, _completion(ctx, reply, name, stream))


async def fim_for(ctx: Context, name: str, stream: bool) -> Response:
    """The FIM reply of model ``name`` to the request in ``ctx``."""
    spec = ctx.model(name)
    prompt: str = field(ctx.body, "prompt", (str,), required=True)
    suffix: str | None = field(ctx.body, "suffix", (str,))
    reply = fim_reply(spec, prompt, suffix, max_tokens=max_tokens(ctx.body))
    return await finish(ctx, _completion(ctx, reply, name, stream))


async def chat_completions(request: Request) -> Response:
    """``POST /v1/chat/completions``."""
    ctx = await begin(request)
    name: str = field(ctx.body, "model", (str,), required=True)
    return await chat_for(ctx, name, stream_flag(ctx.body))


async def fim_completions(request: Request) -> Response:
    """``POST /v1/fim/completions``."""
    ctx = await begin(request)
    name: str = field(ctx.body, "model", (str,), required=True)
    return await fim_for(ctx, name, stream_flag(ctx.body))


async def agents_completions(request: Request) -> Response:
    """``POST /v1/agents/completions``: the agent behaves as the model its id names."""
    ctx = await begin(request)
    agent_id: str = field(ctx.body, "agent_id", (str,), required=True)
    spec = resolve_model(agent_id) or ctx.model("levante-chat")
    reply = chat_reply(
        spec,
        messages(ctx.body),
        max_tokens=max_tokens(ctx.body),
        random_seed=field(ctx.body, "random_seed", (int,)),
        response_format=field(ctx.body, "response_format", (dict,)),
        think=thinks(ctx.body),
        **tool_options(ctx.body),
    )
    return await finish(ctx, _completion(ctx, reply, spec.id, stream_flag(ctx.body)))
