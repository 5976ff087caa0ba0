"""Fill-in-the-middle (code completion): request bodies and the response.

A FIM stream yields the same :class:`~levante.models.CompletionEvent` chunks as chat.
"""

from typing import Any

from ._base import Nullable, RequestModel
from .chat import ChatCompletionResponse

__all__ = ["FIMCompletionRequest", "FIMCompletionResponse", "FIMCompletionStreamRequest"]


class FIMCompletionRequest(RequestModel):
    """Body of ``POST /v1/fim/completions`` without streaming: complete between
    ``prompt`` and the optional ``suffix``."""

    model: str
    prompt: str
    temperature: Nullable[float] = None
    top_p: Nullable[float] = None
    max_tokens: Nullable[int] = None
    stream: bool = False
    stop: Nullable[str | list[str]] = None
    random_seed: Nullable[int] = None
    metadata: Nullable[dict[str, Any]] = None
    suffix: Nullable[str] = None
    min_tokens: Nullable[int] = None
    prompt_cache_key: Nullable[str] = None


class FIMCompletionStreamRequest(FIMCompletionRequest):
    """Body of a streamed ``POST /v1/fim/completions`` (``"stream": true``)."""

    stream: bool = True


class FIMCompletionResponse(ChatCompletionResponse):
    """A complete FIM completion; the same shape as a chat completion."""
