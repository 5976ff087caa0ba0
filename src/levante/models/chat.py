"""Chat completions: request bodies, streamed chunks and events, the final response.

The streamed models are on the hot path: :meth:`CompletionEvent.from_sse_data` turns the
``data`` of one SSE event into a typed event with a single JSON parse (by the chunk's
validator). Enum-like fields (``finish_reason``, ``role``) are plain ``str`` so that a value the API
adds tomorrow is accepted instead of failing the stream.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field

from ._base import MistralModel, Nullable, RequestModel, SentAsNull
from ._events import HasData, data_decoder, merging_data_decoder, wrap_event
from .messages import (
    AssistantMessage,
    Message,
    MessageContent,
    Prediction,
    ResponseFormat,
    ToolCall,
    ToolChoice,
    ToolChoiceEnum,
    ToolLike,
)

A = TypeVar("A")

__all__ = [
    "ChatCompletionChoice",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionResponseChoiceLogprobs",
    "ChatCompletionResponseTokenLogprobs",
    "ChatCompletionStreamRequest",
    "CompletionChunk",
    "CompletionEvent",
    "CompletionResponseStreamChoice",
    "DeltaMessage",
    "UsageInfo",
]


# --- requests -------------------------------------------------------------------------


class ChatCompletionRequest(RequestModel):
    """Body of ``POST /v1/chat/completions`` without streaming (``"stream": false``).

    Build it from keyword arguments; messages, tools, ``response_format`` and
    ``tool_choice`` may be plain dicts. Serialize it with
    :func:`levante.models.request_body`.
    """

    model: str
    messages: list[Message]
    temperature: Nullable[float] = None
    top_p: Nullable[float] = None
    max_tokens: Nullable[int] = None
    stream: bool = False
    stop: Nullable[str | list[str]] = None
    random_seed: Nullable[int] = None
    metadata: Nullable[dict[str, Any]] = None
    response_format: ResponseFormat | None = None
    tools: Nullable[list[ToolLike]] = None
    tool_choice: ToolChoice | ToolChoiceEnum | None = None
    presence_penalty: Nullable[float] = None
    frequency_penalty: Nullable[float] = None
    min_tokens: Nullable[int] = None
    repetition_penalty: Nullable[float] = None
    top_k: Nullable[int] = None
    logprobs: Nullable[bool] = None
    top_logprobs: Nullable[int] = None
    prompt_logprobs: Nullable[bool] = None
    top_prompt_logprobs: Nullable[int] = None
    n: Nullable[int] = None
    prediction: Prediction | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Nullable[str] = None
    """``"none"``, ``"minimal"``, ``"low"``, ``"medium"`` or ``"high"``."""
    prompt_mode: Nullable[str] = None
    """``"reasoning"`` to use the reasoning system prompt."""
    guardrails: Nullable[list[dict[str, Any]]] = None
    prompt_cache_key: Nullable[str] = None
    service_tier: Nullable[str] = None
    """``"auto"`` or ``"standard_only"`` (other strings pass through)."""
    safe_prompt: bool | None = None
    """Prepend the safety prompt."""


class ChatCompletionStreamRequest(ChatCompletionRequest):
    """Body of a streamed ``POST /v1/chat/completions``: the same fields, ``"stream": true``."""

    stream: bool = True


# --- streamed chunks ------------------------------------------------------------------


class UsageInfo(MistralModel):
    """Token counts of a completion (sent in the last chunk of a stream)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_audio_seconds: Nullable[int] = None
    service_tier: Nullable[str] = None
    """The tier the request was served at (``"standard"`` or ``"priority"``)."""


class ChatCompletionResponseTokenLogprobs(MistralModel):
    """Log probability of one generated token, with its top alternatives."""

    token: str
    logprob: float
    bytes_: list[int] | None = Field(default=None, alias="bytes")
    token_id: int | None = None
    top_logprobs: "Nullable[list[ChatCompletionResponseTokenLogprobs]]" = None


class ChatCompletionResponseChoiceLogprobs(MistralModel):
    """Per-token log probabilities of a choice (when ``logprobs=True`` was requested)."""

    content: list[ChatCompletionResponseTokenLogprobs] = Field(default_factory=list)


class DeltaMessage(MistralModel):
    """What one chunk adds to a choice: a piece of content, tool-call deltas, the role.

    ``content`` is usually a string; reasoning models send a list of chunks instead.
    """

    role: Nullable[str] = None
    content: Nullable[MessageContent] = None
    tool_calls: Nullable[list[ToolCall]] = None
    tool_call_id: Nullable[str] = None
    index: Nullable[int] = None
    metadata: Nullable[dict[str, Any]] = None


class CompletionResponseStreamChoice(MistralModel):
    """One choice inside a streamed chunk.

    ``finish_reason`` is ``None`` until the last chunk of the choice, then usually
    ``"stop"``, ``"length"``, ``"model_length"``, ``"error"`` or ``"tool_calls"``; any
    other string is accepted as is.
    """

    index: int
    delta: DeltaMessage
    finish_reason: SentAsNull[str] = None
    logprobs: Nullable[ChatCompletionResponseChoiceLogprobs] = None
    prompt_logprobs: Nullable[ChatCompletionResponseChoiceLogprobs] = None


class CompletionChunk(MistralModel):
    """The JSON of one ``data:`` line of a chat, FIM or agents stream."""

    id: str
    object: str | None = None
    created: int | None = None
    model: str
    choices: list[CompletionResponseStreamChoice]
    usage: UsageInfo | None = None


class CompletionEvent(MistralModel):
    """One event of a chat, FIM or agents stream: the chunk is ``event.data``.

    As in the official SDK: ``event.data.choices[0].delta.content``.
    """

    data: CompletionChunk

    @classmethod
    def from_sse_data(cls, data: str | bytes) -> "CompletionEvent":
        """Decode the ``data`` field of one SSE event with a single JSON parse.

        Raises :class:`pydantic.ValidationError` when ``data`` is not a valid chunk.
        """
        # The chunk goes to its validator directly: model_validate_json's Python wrapper
        # costs 1.3 us. The event around it is not validated again (wrap_event): in a
        # stream of distinct chunks that costs 2.6 us where the event's own validator,
        # with the chunk passing through, costs 4.2 us, and model_construct more.
        chunk = CompletionChunk.__pydantic_validator__.validate_json(data)
        return wrap_event(cls, {"data": chunk})


def completion_event_decoder() -> Callable[[HasData], CompletionEvent]:
    """A decoder of one SSE event of a chat, FIM or agents stream into a
    :class:`CompletionEvent`, as :meth:`CompletionEvent.from_sse_data` decodes its data
    (one call per token instead of two)."""
    return data_decoder(CompletionEvent, CompletionChunk.__pydantic_validator__.validate_json)


def merging_completion_event_decoder(
    merge: Callable[[A, CompletionChunk], None],
) -> Callable[[A, HasData], CompletionEvent]:
    """:func:`completion_event_decoder` that also calls ``merge(target, chunk)`` on every
    chunk first (a chat stream's accumulator, bound per stream with
    ``functools.partial``)."""
    validate = CompletionChunk.__pydantic_validator__.validate_json
    return merging_data_decoder(CompletionEvent, validate, merge)


# --- non-streamed response ------------------------------------------------------------


class ChatCompletionChoice(MistralModel):
    """One choice of a complete (non-streamed or accumulated) chat completion."""

    index: int
    message: AssistantMessage | None = None
    finish_reason: SentAsNull[str] = None
    messages: list[DeltaMessage] | None = None
    logprobs: Nullable[ChatCompletionResponseChoiceLogprobs] = None
    prompt_logprobs: Nullable[ChatCompletionResponseChoiceLogprobs] = None


class ChatCompletionResponse(MistralModel):
    """A complete chat completion: the body of a non-streamed response, or the result of
    :class:`levante.ChatCompletionAccumulator` over a stream."""

    id: str
    object: str = "chat.completion"
    created: int | None = None
    model: str
    choices: list[ChatCompletionChoice]
    usage: UsageInfo | None = None
