"""``client.agents``: completions with a configured agent, streamed or not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext
from ..models import (
    AgentsCompletionRequest,
    AgentsCompletionStreamRequest,
    ChatCompletionResponse,
    Message,
    Prediction,
    ResponseFormat,
    Tool,
    ToolChoice,
)
from ._base import CompletionEndpoint, Resource, StreamParams
from .chat import ChatCompletionStream, ChatCompletionStreamAsync, decode_completion_event

__all__ = ["Agents", "AgentsParams"]

AGENTS_PATH = "/v1/agents/completions"


class AgentsParams(StreamParams, total=False):
    """Keyword arguments of ``agents.stream`` / ``agents.complete`` (as in the official SDK).

    ``agent_id`` and ``messages`` are required; the rest mirrors :class:`ChatParams`
    without ``model``, ``temperature``, ``top_p`` and ``safe_prompt``.
    """

    messages: Required[Sequence[Message | Mapping[str, Any] | BaseModel]]
    agent_id: Required[str]
    max_tokens: int | None
    stream: bool | None
    stop: str | Sequence[str] | None
    random_seed: int | None
    metadata: Mapping[str, Any] | None
    response_format: ResponseFormat | Mapping[str, Any] | BaseModel | None
    tools: Sequence[Tool | Mapping[str, Any] | BaseModel] | None
    tool_choice: ToolChoice | str | Mapping[str, Any] | BaseModel | None
    presence_penalty: float | None
    frequency_penalty: float | None
    min_tokens: int | None
    repetition_penalty: float | None
    top_k: int | None
    logprobs: bool | None
    top_logprobs: int | None
    prompt_logprobs: bool | None
    top_prompt_logprobs: int | None
    n: int | None
    prediction: Prediction | Mapping[str, Any] | BaseModel | None
    parallel_tool_calls: bool | None
    reasoning_effort: str | None
    prompt_mode: str | None
    guardrails: Sequence[Mapping[str, Any]] | None
    prompt_cache_key: str | None
    service_tier: str | None


class Agents(Resource):
    """Agent completions: ``POST /v1/agents/completions``."""

    __slots__ = ()

    def stream(self, **params: Unpack[AgentsParams]) -> ChatCompletionStream:
        """Stream an agent completion (a chat stream: ``text_stream``, ``final_response()``)."""
        return _AGENTS.stream(self._client, params)

    def stream_async(
        self, **params: Unpack[AgentsParams]
    ) -> AsyncStreamContext[ChatCompletionStreamAsync]:
        """Async twin of :meth:`stream`."""
        return _AGENTS.stream_async(self._client, params)

    def complete(self, **params: Unpack[AgentsParams]) -> ChatCompletionResponse:
        """Create an agent completion in one response."""
        return _AGENTS.complete(self._client, params)

    async def complete_async(self, **params: Unpack[AgentsParams]) -> ChatCompletionResponse:
        """Async twin of :meth:`complete`."""
        return await _AGENTS.complete_async(self._client, params)


_AGENTS = CompletionEndpoint(
    "agents",
    AGENTS_PATH,
    AgentsCompletionStreamRequest,
    AgentsCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStream,
    ChatCompletionStreamAsync,
    decode_completion_event,
)
