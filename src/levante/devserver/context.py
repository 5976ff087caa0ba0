"""What every request shares: the key check, fault and pacing headers, the JSON body, and
the Mistral-shaped errors (:class:`Reject`) raised while reading it.

Errors use Mistral's body ``{"object": "error", "message", "type", "param", "code"}``:
401 for a missing or wrong key (when the app has one), 400 for an unknown model under
``strict_models`` (``type: invalid_model``, as the API does) or a bad ``X-Levante-*``
header, 404 for an unknown conversation, path or entry, 422 (with a ``detail`` list) for a
malformed body.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import wire
from .engine import MODELS, ModelSpec, resolve_model
from .faults import FAULT_HEADER, FaultError, FaultPlan, parse_faults
from .state import State, Timing

__all__ = [
    "TPS_HEADER",
    "TTFT_HEADER",
    "Context",
    "Reject",
    "begin",
    "field",
    "invalid",
    "max_tokens",
    "messages",
    "model_spec",
    "stream_flag",
    "tool_options",
]

TTFT_HEADER = "x-levante-ttft"
TPS_HEADER = "x-levante-tokens-per-second"
_DEFAULT_MODEL = "levante-chat"


class Reject(Exception):
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


def invalid(name: str, message: str) -> Reject:
    """A 422 naming the body field ``name``, with a FastAPI-style ``detail`` list."""
    detail = [{"type": "value_error", "loc": ["body", name], "msg": message}]
    return Reject(422, f"{name}: {message}", "invalid_request_error", detail=detail)


def field(
    body: Mapping[str, Any], name: str, kinds: tuple[type, ...], required: bool = False
) -> Any:
    """``body[name]`` checked against ``kinds`` (``None`` when absent and not required)."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, "field required")
        return None
    # bool is an int subclass; a JSON true is never a valid count.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(kind.__name__ for kind in kinds)
        raise invalid(name, f"expected {wanted}, got {type(value).__name__}")
    return value


def max_tokens(body: Mapping[str, Any], name: str = "max_tokens") -> int | None:
    """The ``max_tokens`` field: a whole number >= 0, or ``None``."""
    value: int | None = field(body, name, (int,))
    if value is not None and value < 0:
        raise invalid(name, "must be >= 0")
    return value


def messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``messages`` list of a chat request, each with a known role."""
    listed: list[Any] = field(body, "messages", (list,), required=True)
    if not listed:
        raise invalid("messages", "at least one message is required")
    for message in listed:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
            "tool",
        ):
            raise invalid("messages", "each message needs a role: system, user, assistant or tool")
    return listed


def stream_flag(body: Mapping[str, Any]) -> bool:
    """The ``stream`` field (absent: ``False``)."""
    return bool(field(body, "stream", (bool,)))


def tool_options(body: Mapping[str, Any]) -> dict[str, Any]:
    """``tools``, ``tool_choice`` and ``parallel_tool_calls`` as the engine takes them."""
    tools = field(body, "tools", (list,)) or []
    tool_choice = body.get("tool_choice", "auto")
    if tool_choice is None:
        tool_choice = "auto"
    if not isinstance(tool_choice, (str, dict)):
        raise invalid("tool_choice", "expected a string or an object")
    parallel = field(body, "parallel_tool_calls", (bool,))
    return {
        "tools": tools,
        "tool_choice": tool_choice,
        "parallel_tool_calls": True if parallel is None else parallel,
    }


def _seconds_header(request: Request, name: str, default: float | None) -> float | None:
    raw = request.headers.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise Reject(400, f"{name} must be a number >= 0, got {raw!r}", "invalid_request_error")
    return value


class Context:
    """What every API request shares: its state, JSON body, faults and timing."""

    def __init__(self, state: State, body: dict[str, Any], faults: FaultPlan, timing: Timing):
        self.state = state
        self.body = body
        self.faults = faults
        self.timing = timing

    def model(self, name: str) -> ModelSpec:
        """The model serving ``name``; see :func:`model_spec`."""
        return model_spec(self.state, name)


def model_spec(state: State, name: str) -> ModelSpec:
    """The built-in model answering to ``name``.

    Any name is accepted and an unknown one is served by ``levante-chat``, so official
    examples run with the model names they use; ``strict_models`` refuses unknown names
    with the API's 400 ``invalid_model`` instead.
    """
    spec = resolve_model(name)
    if spec is not None:
        return spec
    if state.strict_models:
        known = ", ".join(model.id for model in MODELS)
        raise Reject(
            400,
            f"Invalid model: {name} (this dev server knows {known})",
            "invalid_model",
            code="1500",
        )
    default = resolve_model(_DEFAULT_MODEL)
    assert default is not None
    return default


async def begin(request: Request, *, needs_body: bool = True) -> Context:
    """Check the key, read the fault and pacing headers, fire a ``status`` fault, and read
    the JSON body (unless ``needs_body`` is false: GET and multipart requests)."""
    state: State = request.app.state.levante
    key = state.api_key
    if key is not None and request.headers.get("authorization") != f"Bearer {key}":
        raise Reject(401, "Unauthorized: missing or invalid API key", "unauthorized")
    header = request.headers.get(FAULT_HEADER, state.faults)
    try:
        faults = parse_faults(header)
    except FaultError as exc:
        raise Reject(400, f"X-Levante-Fault: {exc}", "invalid_request_error") from None
    timing = Timing(
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
    body = await _json_body(request) if needs_body else {}
    return Context(state, body, faults, timing)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Reject(
            422,
            "the request body is not valid JSON",
            "invalid_request_error",
            detail=[{"type": "json_invalid", "loc": ["body"], "msg": "invalid JSON"}],
        ) from None
    if not isinstance(body, dict):
        raise invalid("body", "expected a JSON object")
    return body


_STATUS_TEXT = {
    400: ("Bad request (injected by X-Levante-Fault)", "invalid_request_error"),
    401: ("Unauthorized (injected by X-Levante-Fault)", "unauthorized"),
    403: ("Forbidden (injected by X-Levante-Fault)", "forbidden"),
    404: ("Not found (injected by X-Levante-Fault)", "not_found"),
    429: ("Requests rate limit exceeded (injected by X-Levante-Fault)", "rate_limited"),
}


def _fault_status(status: int, headers: Mapping[str, str]) -> Reject:
    default = ("Internal server error (injected by X-Levante-Fault)", "internal_server_error")
    message, error_type = _STATUS_TEXT.get(status, default)
    if status < 500 and status not in _STATUS_TEXT:
        message, error_type = f"Error {status} (injected by X-Levante-Fault)", "api_error"
    return Reject(status, message, error_type, code=str(status), headers=headers)
