"""Agents completions: request bodies (``/v1/agents/completions``).

Responses are :class:`~levante.models.ChatCompletionResponse` and streams yield
:class:`~levante.models.CompletionEvent`, as for chat.
"""

from typing import Any

from ._base import Nullable, RequestModel
from .messages import Message, Prediction, ResponseFormat, ToolChoice, ToolChoiceEnum, ToolLike

__all__ = ["AgentsCompletionRequest", "AgentsCompletionStreamRequest"]


class AgentsCompletionRequest(RequestModel):
    """Body of ``POST /v1/agents/completions`` without streaming.

    Like a chat request, but the agent (``agent_id``) fixes the model, the instructions and
    the sampling temperature.
    """

    messages: list[Message]
    agent_id: str
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
    prompt_mode: Nullable[str] = None
    guardrails: Nullable[list[dict[str, Any]]] = None
    prompt_cache_key: Nullable[str] = None
    service_tier: Nullable[str] = None


class AgentsCompletionStreamRequest(AgentsCompletionRequest):
    """Body of a streamed ``POST /v1/agents/completions`` (``"stream": true``)."""

    stream: bool = True
