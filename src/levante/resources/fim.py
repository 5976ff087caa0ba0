"""``client.fim``: fill-in-the-middle (code) completions, streamed or not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext, EventStream, EventStreamAsync
from ..models import (
    CompletionEvent,
    FIMCompletionRequest,
    FIMCompletionResponse,
    FIMCompletionStreamRequest,
)
from ._base import JSON, Call, EndRule, Resource, StreamCall, StreamParams
from .chat import decode_completion_event

__all__ = ["FIM_COMPLETE", "FIM_STREAM", "FIMParams", "Fim"]

FIM_PATH = "/v1/fim/completions"


class FIMParams(StreamParams, total=False):
    """Keyword arguments of ``fim.stream`` / ``fim.complete`` (as in the official SDK).

    ``model`` and ``prompt`` are required; ``suffix`` is the code after the cursor.
    """

    model: Required[str]
    prompt: Required[str]
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    stream: bool | None
    stop: str | Sequence[str] | None
    random_seed: int | None
    metadata: Mapping[str, Any] | None
    suffix: str | None
    min_tokens: int | None
    prompt_cache_key: str | None


class Fim(Resource):
    """FIM completions: ``POST /v1/fim/completions``."""

    __slots__ = ()

    def stream(self, **params: Unpack[FIMParams]) -> EventStream[CompletionEvent]:
        """Stream a FIM completion (chunks as in chat, ending at ``data: [DONE]``)."""
        return self._sender.stream(FIM_STREAM, params)

    def stream_async(
        self, **params: Unpack[FIMParams]
    ) -> AsyncStreamContext[EventStreamAsync[CompletionEvent]]:
        """Async twin of :meth:`stream`."""
        return self._sender.stream_async(FIM_STREAM, params)

    def complete(self, **params: Unpack[FIMParams]) -> FIMCompletionResponse:
        """Create a FIM completion in one response."""
        return self._sender.request(FIM_COMPLETE, params)

    async def complete_async(self, **params: Unpack[FIMParams]) -> FIMCompletionResponse:
        """Async twin of :meth:`complete`."""
        return await self._sender.request_async(FIM_COMPLETE, params)


FIM_STREAM = StreamCall(
    name="fim.stream",
    method="POST",
    path=FIM_PATH,
    body=JSON(FIMCompletionStreamRequest),
    stream=EventStream[CompletionEvent],
    stream_async=EventStreamAsync[CompletionEvent],
    decode=decode_completion_event,
    end=EndRule.at_sentinel("[DONE]"),
)
FIM_COMPLETE = Call(
    name="fim.complete",
    method="POST",
    path=FIM_PATH,
    body=JSON(FIMCompletionRequest),
    response=FIMCompletionResponse,
)
