"""``client.agents``: completions with a configured agent, streamed or not."""

from __future__ import annotations

from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext
from ..models import (
    AgentsCompletionRequest,
    AgentsCompletionStreamRequest,
    ChatCompletionResponse,
)
from ._base import CompletionEndpoint, Resource
from .chat import (
    ChatCompletionStream,
    ChatCompletionStreamAsync,
    MessagesParams,
    decode_completion_event,
)

__all__ = ["Agents", "AgentsParams"]

AGENTS_PATH = "/v1/agents/completions"


class AgentsParams(MessagesParams, total=False):
    """Keyword arguments of ``agents.stream`` / ``agents.complete`` (as in the official SDK):
    :class:`~levante.resources.chat.MessagesParams` plus ``agent_id`` (required)."""

    agent_id: Required[str]


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
