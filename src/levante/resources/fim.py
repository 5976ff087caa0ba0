"""``client.fim``: fill-in-the-middle (code) completions, streamed or not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import Required, Unpack

from .._streaming import EventStream, EventStreamAsync
from ..models import (
    CompletionEvent,
    FIMCompletionRequest,
    FIMCompletionResponse,
    FIMCompletionStreamRequest,
)
from ._base import Resource, StreamParams, build_request
from .chat import decode_completion_event

__all__ = ["FIMParams", "Fim"]

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
        req = build_request(
            "POST",
            FIM_PATH,
            params,
            FIMCompletionStreamRequest,
            where="fim.stream",
            streaming=True,
        )
        return self._client._stream(
            req, EventStream[CompletionEvent], decode_completion_event, sentinel="[DONE]"
        )

    async def stream_async(self, **params: Unpack[FIMParams]) -> EventStreamAsync[CompletionEvent]:
        """Async twin of :meth:`stream`."""
        req = build_request(
            "POST",
            FIM_PATH,
            params,
            FIMCompletionStreamRequest,
            where="fim.stream_async",
            streaming=True,
        )
        return await self._client._stream_async(
            req, EventStreamAsync[CompletionEvent], decode_completion_event, sentinel="[DONE]"
        )

    def complete(self, **params: Unpack[FIMParams]) -> FIMCompletionResponse:
        """Create a FIM completion in one response."""
        req = build_request(
            "POST", FIM_PATH, params, FIMCompletionRequest, where="fim.complete", streaming=False
        )
        return self._client._request(req, FIMCompletionResponse)

    async def complete_async(self, **params: Unpack[FIMParams]) -> FIMCompletionResponse:
        """Async twin of :meth:`complete`."""
        req = build_request(
            "POST",
            FIM_PATH,
            params,
            FIMCompletionRequest,
            where="fim.complete_async",
            streaming=False,
        )
        return await self._client._request_async(req, FIMCompletionResponse)
