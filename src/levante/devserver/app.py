"""The dev server's Starlette app: Mistral-compatible endpoints over the fake models.

Endpoints (all JSON in, JSON or ``text/event-stream`` out, like the Mistral API):

- ``POST /v1/chat/completions``, ``/v1/fim/completions``, ``/v1/agents/completions``:
  ``stream: true`` gives ``data: {chunk}`` events then ``data: [DONE]``.  An agent's
  behaviour is the built-in model named by ``agent_id`` when there is one, else
  ``levante-chat``.
- ``POST /v1/conversations`` (start), ``/v1/conversations/{id}`` (append),
  ``/v1/conversations/{id}/restart`` (a new conversation: the history before
  ``from_entry_id``, then the new inputs); ``GET /v1/conversations/{id}/history``.  Streamed
  replies are ``event: <type>`` + ``data: {...}`` blocks ending with
  ``conversation.response.done``.  History lives in memory for the life of the app.
- ``GET /v1/models``, ``GET /v1/models/{id}``.
- ``GET /_levante/stats``: ``{"open": n, "completed": n, "aborted": n}`` over streamed
  responses.  A stream is *completed* when it ran to its planned end and *aborted* when
  the client went away or a fault (``disconnect-after``, ``error-after``) cut it short.

Errors use Mistral's body ``{"object": "error", "message", "type", "param", "code"}``:
401 for a missing or wrong key (when the app has one), 400 for an unknown model
(``type: invalid_model``, as the API does) or a bad ``X-Levante-*`` header, 404 for an
unknown conversation, path or entry, 422 (with a ``detail`` list) for a malformed body.

Timing: ``ttft`` seconds before the first event and ``tokens_per_second`` between events
(``None``: as fast as possible), server-wide or per request with the ``X-Levante-TTFT`` and
``X-Levante-Tokens-Per-Second`` headers.  Faults: see :mod:`levante.devserver.faults`;
per request with ``X-Levante-Fault``, or server-wide with ``create_app(faults=...)``.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..models import MistralModel, ModelCapabilities, ModelCard, ModelList
from . import wire
from .engine import MODELS, ModelSpec, Reply, chat_reply, fim_reply, message_text, resolve_model
from .faults import FAULT_HEADER, FaultError, FaultPlan, parse_faults

__all__ = ["TPS_HEADER", "TTFT_HEADER", "ServerStreamCounts", "create_app"]

TTFT_HEADER = "x-levante-ttft"
TPS_HEADER = "x-levante-tokens-per-second"

# Set by a response that drops its connection on purpose, so that uvicorn's complaint about
# the unfinished response (logged from the same task) can be silenced for that request only.
_dropping: contextvars.ContextVar[bool] = contextvars.ContextVar("levante_dropping", default=False)


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and "without completing response" in record.getMessage())


_DROP_FILTER = _DropFilter()


@dataclass
class ServerStreamCounts:
    """Counters over streamed responses (see the module docstring)."""

    open: int = 0
    completed: int = 0
    aborted: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as the stats endpoint serves them."""
        return {"open": self.open, "completed": self.completed, "aborted": self.aborted}


@dataclass(frozen=True)
class _Timing:
    ttft: float
    tokens_per_second: float | None


@dataclass
class _Conversation:
    id: str
    model: ModelSpec
    model_name: str
    instructions: str | None
    tools: list[Any]
    completion_args: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _State:
    api_key: str | None
    timing: _Timing
    faults: str | None = None
    stats: ServerStreamCounts = field(default_factory=ServerStreamCounts)
    conversations: dict[str, _Conversation] = field(default_factory=dict)
    fault_hits: dict[str, int] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.counter):012x}"


class _Reject(Exception):
    """Abort the request with a Mistral-shaped error response."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        detail: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        body = wire.error_body(message, error_type, code)
        if detail is not None:
            body["detail"] = detail
        self.response = JSONResponse(body, status_code=status, headers=headers)


def _invalid(name: str, message: str) -> _Reject:
    detail = [{"type": "value_error", "loc": ["body", name], "msg": message}]
    return _Reject(422, f"{name}: {message}", "invalid_request_error", detail=detail)


# ---------------------------------------------------------------- request parsing


def _get(
    body: Mapping[str, Any], name: str, kinds: tuple[type, ...], required: bool = False
) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise _invalid(name, "field required")
        return None
    # bool is an int subclass; a JSON true is never a valid count.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(kind.__name__ for kind in kinds)
        raise _invalid(name, f"expected {wanted}, got {type(value).__name__}")
    return value


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    value: int | None = _get(body, "max_tokens", (int,))
    if value is not None and value < 0:
        raise _invalid("max_tokens", "must be >= 0")
    return value


def _messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[Any] = _get(body, "messages", (list,), required=True)
    if not messages:
        raise _invalid("messages", "at least one message is required")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
            "tool",
        ):
            raise _invalid("messages", "each message needs a role: system, user, assistant or tool")
    return messages


def _model(name: str) -> ModelSpec:
    spec = resolve_model(name)
    if spec is None:
        known = ", ".join(model.id for model in MODELS)
        raise _Reject(
            400,
            f"Invalid model: {name} (this dev server knows {known})",
            "invalid_model",
            code="1500",
        )
    return spec


def _seconds_header(request: Request, name: str, default: float | None) -> float | None:
    raw = request.headers.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise _Reject(400, f"{name} must be a number >= 0, got {raw!r}", "invalid_request_error")
    return value


class _Context:
    """What every API request shares: its state, JSON body, faults and timing."""

    def __init__(self, state: _State, body: dict[str, Any], faults: FaultPlan, timing: _Timing):
        self.state = state
        self.body = body
        self.faults = faults
        self.timing = timing


async def _begin(request: Request, *, needs_body: bool = True) -> _Context:
    state: _State = request.app.state.levante
    key = state.api_key
    if key is not None and request.headers.get("authorization") != f"Bearer {key}":
        raise _Reject(401, "Unauthorized: missing or invalid API key", "unauthorized")
    header = request.headers.get(FAULT_HEADER, state.faults)
    try:
        faults = parse_faults(header)
    except FaultError as exc:
        raise _Reject(400, f"X-Levante-Fault: {exc}", "invalid_request_error") from None
    timing = _Timing(
        ttft=_seconds_header(request, TTFT_HEADER, state.timing.ttft) or 0.0,
        tokens_per_second=_seconds_header(request, TPS_HEADER, state.timing.tokens_per_second),
    )
    if faults.status is not None:
        hits = state.fault_hits.get(header or "", 0)
        if faults.times is None or hits < faults.times:
            state.fault_hits[header or ""] = hits + 1
            headers = {}
            if faults.retry_after is not None:
                headers["retry-after"] = f"{faults.retry_after:g}"
            raise _fault_status(faults.status, headers)
    body: Any = {}
    if needs_body:
        try:
            body = await request.json()
        except ValueError:
            raise _Reject(
                422,
                "the request body is not valid JSON",
                "invalid_request_error",
                detail=[{"type": "json_invalid", "loc": ["body"], "msg": "invalid JSON"}],
            ) from None
        if not isinstance(body, dict):
            raise _invalid("body", "expected a JSON object")
    return _Context(state, body, faults, timing)


_STATUS_TEXT = {
    400: ("Bad request (injected by X-Levante-Fault)", "invalid_request_error"),
    401: ("Unauthorized (injected by X-Levante-Fault)", "unauthorized"),
    403: ("Forbidden (injected by X-Levante-Fault)", "forbidden"),
    404: ("Not found (injected by X-Levante-Fault)", "not_found"),
    429: ("Requests rate limit exceeded (injected by X-Levante-Fault)", "rate_limited"),
}


def _fault_status(status: int, headers: Mapping[str, str]) -> _Reject:
    default = ("Internal server error (injected by X-Levante-Fault)", "internal_server_error")
    message, error_type = _STATUS_TEXT.get(status, default)
    if status < 500 and status not in _STATUS_TEXT:
        message, error_type = f"Error {status} (injected by X-Levante-Fault)", "api_error"
    return _Reject(status, message, error_type, code=str(status), headers=headers)


# ---------------------------------------------------------------- responses


class _EventStream(Response):
    """A ``text/event-stream`` response paced, faulted and counted as the request asks.

    A watcher task listens for ``http.disconnect`` and cancels generation as soon as the
    client goes away (uvicorn silently drops writes after a disconnect, so writing alone
    would never notice).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        ctx: _Context,
        blocks: Iterable[bytes],
        end: Callable[[], bytes],
        error: Callable[[], bytes],
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._ctx = ctx
        self._blocks = blocks
        self._end = end
        self._error = error
        self._client_gone = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stats = self._ctx.state.stats
        stats.open += 1
        outcome = "aborted"
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watch, receive, tg.cancel_scope)
                outcome = await self._produce(send)
                tg.cancel_scope.cancel()
            if self._client_gone:
                outcome = "aborted"
            elif outcome == "drop":
                _dropping.set(True)
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            stats.open -= 1
            if outcome == "completed":
                stats.completed += 1
            else:
                stats.aborted += 1

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self._client_gone = True
                scope.cancel()
                return

    async def _write(self, send: Send, data: bytes) -> None:
        if self._ctx.faults.byte_writes:
            for i in range(len(data)):
                await send(
                    {"type": "http.response.body", "body": data[i : i + 1], "more_body": True}
                )
        else:
            await send({"type": "http.response.body", "body": data, "more_body": True})

    async def _pause(self, seconds: float, send: Send) -> None:
        """Sleep, sending a ``: ping`` comment every ``ping`` seconds if asked to."""
        ping = self._ctx.faults.ping
        if ping is None:
            await anyio.sleep(seconds)
            return
        deadline = anyio.current_time() + seconds
        while (left := deadline - anyio.current_time()) > ping:
            await anyio.sleep(ping)
            await self._write(send, b": ping\n\n")
        await anyio.sleep(max(left, 0.0))

    async def _fault(self, sent: int, send: Send) -> str | None:
        """Fire the faults due after ``sent`` events; return an outcome to stop early."""
        faults = self._ctx.faults
        if faults.malformed_after == sent:
            await self._write(send, b"data: {this is not json\n\n")
        if faults.error_after == sent:
            await self._write(send, self._error())
            return "fault"
        if faults.disconnect_after == sent:
            return "drop"
        return None

    async def _produce(self, send: Send) -> str:
        faults, timing = self._ctx.faults, self._ctx.timing
        # Headers are out already: a stall shows up as a late first event, not a late response.
        if faults.stall + timing.ttft > 0:
            await self._pause(faults.stall + timing.ttft, send)
        interval = 1.0 / timing.tokens_per_second if timing.tokens_per_second else 0.0
        clock = anyio.current_time()
        sent = 0
        for block in self._blocks:
            if (outcome := await self._fault(sent, send)) is not None:
                return outcome
            if faults.stall_after is not None and faults.stall_after[0] == sent:
                await self._pause(faults.stall_after[1], send)
                clock = anyio.current_time()
            elif sent and interval:
                # Pace against a clock, not by sleeping a fixed interval, so the rate holds.
                clock += interval
                delay = clock - anyio.current_time()
                if delay > 0:
                    await self._pause(delay, send)
            await self._write(send, block)
            sent += 1
        if not faults.no_done:
            # The end marker follows the last token at once (it is not a token).
            if (outcome := await self._fault(sent, send)) is not None:
                return outcome
            if faults.stall_after is not None and faults.stall_after[0] == sent:
                await self._pause(faults.stall_after[1], send)
            await self._write(send, self._end())
            sent += 1
        return await self._fault(sent, send) or "completed"


class _Drop(Response):
    """Send the headers of a 200, then drop the connection before the body."""

    def __init__(self) -> None:
        self.status_code = 200
        self.background = None
        self.media_type = "application/json"
        self.init_headers({"content-length": "1024"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        _dropping.set(True)


async def _reply_json(ctx: _Context, payload: bytes, reply: Reply) -> Response:
    """A non-streamed reply: it takes as long as the stream would have."""
    if ctx.faults.disconnect_after is not None:
        return _Drop()
    tps = ctx.timing.tokens_per_second
    delay = ctx.faults.stall + ctx.timing.ttft + (reply.completion_tokens / tps if tps else 0.0)
    if delay > 0:
        await anyio.sleep(delay)
    return Response(payload, media_type="application/json")


_CHAT_ERROR = (
    b"event: error\ndata: "
    + json.dumps(
        wire.error_body("Internal server error (injected)", "internal_server_error", "3000")
    ).encode()
    + b"\n\n"
)


def _completion(ctx: _Context, reply: Reply, model: str, stream: bool) -> Response | _Whole:
    completion_id = uuid.uuid4().hex
    created = int(time.time())
    if stream:
        blocks = wire.chat_blocks(reply, id=completion_id, model=model, created=created)
        return _EventStream(ctx, blocks, lambda: wire.DONE_BLOCK, lambda: _CHAT_ERROR)
    return _Whole(wire.chat_response(reply, id=completion_id, model=model, created=created), reply)


@dataclass
class _Whole:
    """A non-streamed reply, sent by :func:`_finish` once its simulated generation time
    has passed."""

    payload: bytes
    reply: Reply


async def _finish(ctx: _Context, result: Response | _Whole) -> Response:
    if isinstance(result, _Whole):
        return await _reply_json(ctx, result.payload, result.reply)
    return result


def _stream_flag(body: Mapping[str, Any]) -> bool:
    return bool(_get(body, "stream", (bool,)))


def _tool_options(body: Mapping[str, Any]) -> dict[str, Any]:
    tools = _get(body, "tools", (list,)) or []
    tool_choice = body.get("tool_choice", "auto")
    if tool_choice is None:
        tool_choice = "auto"
    if not isinstance(tool_choice, (str, dict)):
        raise _invalid("tool_choice", "expected a string or an object")
    parallel = _get(body, "parallel_tool_calls", (bool,))
    return {
        "tools": tools,
        "tool_choice": tool_choice,
        "parallel_tool_calls": True if parallel is None else parallel,
    }


# ---------------------------------------------------------------- endpoints


async def chat_completions(request: Request) -> Response:
    ctx = await _begin(request)
    name: str = _get(ctx.body, "model", (str,), required=True)
    spec = _model(name)
    reply = chat_reply(
        spec,
        _messages(ctx.body),
        max_tokens=_max_tokens(ctx.body),
        random_seed=_get(ctx.body, "random_seed", (int,)),
        response_format=_get(ctx.body, "response_format", (dict,)),
        **_tool_options(ctx.body),
    )
    return await _finish(ctx, _completion(ctx, reply, name, _stream_flag(ctx.body)))


async def fim_completions(request: Request) -> Response:
    ctx = await _begin(request)
    name: str = _get(ctx.body, "model", (str,), required=True)
    spec = _model(name)
    prompt: str = _get(ctx.body, "prompt", (str,), required=True)
    suffix: str | None = _get(ctx.body, "suffix", (str,))
    reply = fim_reply(spec, prompt, suffix, max_tokens=_max_tokens(ctx.body))
    return await _finish(ctx, _completion(ctx, reply, name, _stream_flag(ctx.body)))


async def agents_completions(request: Request) -> Response:
    ctx = await _begin(request)
    agent_id: str = _get(ctx.body, "agent_id", (str,), required=True)
    spec = resolve_model(agent_id) or _model("levante-chat")
    reply = chat_reply(
        spec,
        _messages(ctx.body),
        max_tokens=_max_tokens(ctx.body),
        random_seed=_get(ctx.body, "random_seed", (int,)),
        response_format=_get(ctx.body, "response_format", (dict,)),
        **_tool_options(ctx.body),
    )
    return await _finish(ctx, _completion(ctx, reply, spec.id, _stream_flag(ctx.body)))


# ---- conversations

_ENTRY_TYPES = ("message.input", "message.output", "function.call", "function.result")


def _input_entries(state: _State, inputs: Any) -> list[dict[str, Any]]:
    stamp = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(inputs, str):
        inputs = [{"role": "user", "content": inputs}]
    if not isinstance(inputs, list) or not inputs:
        raise _invalid("inputs", "expected a string or a non-empty list of entries")
    entries = []
    for item in inputs:
        if not isinstance(item, dict):
            raise _invalid("inputs", "each entry must be an object")
        kind = item.get("type", "message.input")
        if kind not in _ENTRY_TYPES:
            raise _invalid("inputs", f"unknown entry type {kind!r}")
        if kind == "function.result" and not isinstance(item.get("tool_call_id"), str):
            raise _invalid("inputs", "a function.result entry needs a tool_call_id")
        if kind == "message.input" and item.get("role") not in ("user", "assistant"):
            raise _invalid("inputs", "a message entry needs role user or assistant")
        entry = {"object": "entry", "type": kind, "created_at": stamp, **item}
        entry["id"] = state.new_id("msg")
        entries.append(entry)
    return entries


def _as_messages(conversation: _Conversation, entries: Sequence[Mapping[str, Any]]) -> list[Any]:
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
    args = _get(body, "completion_args", (dict,)) or {}
    return dict(args)


def _converse(
    ctx: _Context, conversation: _Conversation, new_entries: list[dict[str, Any]]
) -> Response | _Whole:
    body = ctx.body
    args = {**conversation.completion_args, **_completion_args(body)}
    history = conversation.entries + new_entries
    max_tokens = args.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 0):
        raise _invalid("completion_args", "max_tokens must be an integer >= 0")
    tool_choice = args.get("tool_choice") or "auto"
    reply = chat_reply(
        conversation.model,
        _as_messages(conversation, history),
        max_tokens=max_tokens,
        tools=[tool for tool in conversation.tools if isinstance(tool, dict)],
        tool_choice=tool_choice,
        random_seed=args.get("random_seed"),
    )
    entry_id = ctx.state.new_id("msg")
    outputs = wire.output_entries(reply, entry_id=entry_id, model=conversation.model_name)
    conversation.entries = history + outputs
    store = _get(body, "store", (bool,))
    if store is not False:
        ctx.state.conversations[conversation.id] = conversation
    if _stream_flag(body):
        blocks = wire.conversation_blocks(
            reply, conversation_id=conversation.id, entry_id=entry_id, model=conversation.model_name
        )

        # Built when sent, so that their created_at follows the deltas'.
        def end() -> bytes:
            return wire.conversation_done_block(reply)

        def error() -> bytes:
            return wire.conversation_error_block("Internal server error (injected)", 3000)

        return _EventStream(ctx, blocks, end, error)
    payload = wire.conversation_response(reply, conversation_id=conversation.id, outputs=outputs)
    return _Whole(payload, reply)


def _conversation(ctx: _Context, conversation_id: str) -> _Conversation:
    conversation = ctx.state.conversations.get(conversation_id)
    if conversation is None:
        raise _Reject(404, f"Conversation {conversation_id} not found", "not_found", code="3404")
    return conversation


async def conversations_start(request: Request) -> Response:
    ctx = await _begin(request)
    body = ctx.body
    agent_id: str | None = _get(body, "agent_id", (str,))
    name: str | None = _get(body, "model", (str,))
    if name is not None:
        spec = _model(name)
    elif agent_id is not None:
        spec = resolve_model(agent_id) or _model("levante-chat")
        name = spec.id
    else:
        raise _invalid("model", "a conversation needs a model or an agent_id")
    conversation = _Conversation(
        id=ctx.state.new_id("conv"),
        model=spec,
        model_name=name,
        instructions=_get(body, "instructions", (str,)),
        tools=_get(body, "tools", (list,)) or [],
        completion_args=_completion_args(body),
    )
    entries = _input_entries(ctx.state, body.get("inputs"))
    return await _finish(ctx, _converse(ctx, conversation, entries))


async def conversations_append(request: Request) -> Response:
    ctx = await _begin(request)
    conversation = _conversation(ctx, request.path_params["conversation_id"])
    entries = _input_entries(ctx.state, ctx.body.get("inputs"))
    return await _finish(ctx, _converse(ctx, conversation, entries))


async def conversations_restart(request: Request) -> Response:
    ctx = await _begin(request)
    old = _conversation(ctx, request.path_params["conversation_id"])
    from_entry: str = _get(ctx.body, "from_entry_id", (str,), required=True)
    index = next((i for i, e in enumerate(old.entries) if e.get("id") == from_entry), None)
    if index is None:
        raise _Reject(404, f"Entry {from_entry} not found in {old.id}", "not_found", code="3404")
    conversation = _Conversation(
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
    return await _finish(ctx, _converse(ctx, conversation, entries))


async def conversations_history(request: Request) -> Response:
    ctx = await _begin(request, needs_body=False)
    conversation = _conversation(ctx, request.path_params["conversation_id"])
    return JSONResponse(
        {
            "object": "conversation.history",
            "conversation_id": conversation.id,
            "entries": conversation.entries,
        }
    )


# ---- models


def _card(spec: ModelSpec, model_id: str) -> ModelCard:
    alias = model_id != spec.id
    return ModelCard(
        id=model_id,
        created=1700000000,
        owned_by="levante",
        name=model_id,
        description=f"Alias of {spec.id}: {spec.description}" if alias else spec.description,
        aliases=[spec.id] if alias else list(spec.aliases),
        default_model_temperature=0.3,
        capabilities=ModelCapabilities(
            completion_chat=True, completion_fim=spec.fim, function_calling=True
        ),
    )


def _model_json(model: MistralModel) -> Response:
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


async def list_models(request: Request) -> Response:
    await _begin(request, needs_body=False)
    cards = [_card(spec, name) for spec in MODELS for name in (spec.id, *spec.aliases)]
    return _model_json(ModelList(data=cards))


async def get_model(request: Request) -> Response:
    await _begin(request, needs_body=False)
    name = request.path_params["model_id"]
    spec = resolve_model(name)
    if spec is None:
        raise _Reject(404, f"Model {name} not found", "not_found", code="1500")
    return _model_json(_card(spec, name))


async def stats(request: Request) -> Response:
    state: _State = request.app.state.levante
    return JSONResponse(state.stats.as_dict())


# ---------------------------------------------------------------- app


async def _on_reject(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Reject)
    return exc.response


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = f"Method {request.method} not allowed on {request.url.path}"
        return _Reject(405, message, "invalid_request_error").response
    return _Reject(
        exc.status_code, f"No route for {request.url.path}", "not_found", code=str(exc.status_code)
    ).response


def create_app(
    *,
    api_key: str | None = None,
    tokens_per_second: float | None = None,
    ttft: float = 0.0,
    faults: str | None = None,
) -> Starlette:
    """Build the dev server app.

    ``api_key``: when set, every ``/v1`` request must send ``Authorization: Bearer <key>``
    (else 401).  ``tokens_per_second``: the pace of streamed events (``None``: no pause).
    ``ttft``: seconds before the first event.  Requests may override both with the
    ``X-Levante-Tokens-Per-Second`` and ``X-Levante-TTFT`` headers.  ``faults``: an
    ``X-Levante-Fault`` value applied to every request that does not send the header (for
    clients that cannot set headers); a malformed value raises :class:`FaultError`.
    """
    parse_faults(faults)
    if tokens_per_second is not None and not tokens_per_second > 0:
        raise ValueError("tokens_per_second must be > 0 (or None for no pacing)")
    if not ttft >= 0:
        raise ValueError("ttft must be >= 0")
    if _DROP_FILTER not in logging.getLogger("uvicorn.error").filters:
        logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/fim/completions", fim_completions, methods=["POST"]),
        Route("/v1/agents/completions", agents_completions, methods=["POST"]),
        Route("/v1/conversations", conversations_start, methods=["POST"]),
        Route("/v1/conversations/{conversation_id}", conversations_append, methods=["POST"]),
        Route(
            "/v1/conversations/{conversation_id}/restart",
            conversations_restart,
            methods=["POST"],
        ),
        Route(
            "/v1/conversations/{conversation_id}/history",
            conversations_history,
            methods=["GET"],
        ),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
        Route("/_levante/stats", stats, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={_Reject: _on_reject, HTTPException: _on_http_error},
    )
    app.state.levante = _State(
        api_key=api_key, timing=_Timing(ttft, tokens_per_second), faults=faults
    )
    return app
