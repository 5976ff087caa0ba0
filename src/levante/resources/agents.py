"""``client.agents``: completions with a configured agent, streamed or not."""

from __future__ import annotations

from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext
from ..models import (
    AgentsCompletionRequest,
    AgentsCompletionStreamRequest,
    ChatCompletionResponse,
)
from ._base import JSON, Call, EndRule, Resource, StreamCall
from .chat import (
    ChatCompletionStream,
    ChatCompletionStreamAsync,
    MessagesParams,
    decode_completion_event,
)

__all__ = ["AGENTS_COMPLETE", "AGENTS_STREAM", "Agents", "AgentsParams"]

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
        return self._sender.stream(AGENTS_STREAM, params)

    def stream_async(
        self, **params: Unpack[AgentsParams]
    ) -> AsyncStreamContext[ChatCompletionStreamAsync]:
        """Async twin of :meth:`stream`."""
        return self._sender.stream_async(AGENTS_STREAM, params)

    def complete(self, **params: Unpack[AgentsParams]) -> ChatCompletionResponse:
        """Create an agent completion in one response."""
        return self._sender.request(AGENTS_COMPLETE, params)

    async def complete_async(self, **params: Unpack[AgentsParams]) -> ChatCompletionResponse:
        """Async twin of :meth:`complete`."""
        return await self._sender.request_async(AGENTS_COMPLETE, params)


AGENTS_STREAM = StreamCall(
    name="agents.stream",
    method="POST",
    path=AGENTS_PATH,
    body=JSON(AgentsCompletionStreamRequest),
    stream=ChatCompletionStream,
    stream_async=ChatCompletionStreamAsync,
    decode=decode_completion_event,
    end=EndRule.at_sentinel("[DONE]"),
)
AGENTS_COMPLETE = Call(
    name="agents.complete",
    method="POST",
    path=AGENTS_PATH,
    body=JSON(AgentsCompletionRequest),
    response=ChatCompletionResponse,
)
