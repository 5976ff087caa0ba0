"""Chat on Azure AI: ``POST /models/chat/completions`` (the api-version query parameter is
added by the Azure client's sender). Google Cloud's Vertex AI needs no resource of its
own: its client rewrites the paths of the ordinary chat and FIM declarations."""

from __future__ import annotations

from typing_extensions import Unpack

from .._streaming import AsyncStreamContext
from ..models import ChatCompletionResponse
from ..models.cloud import AzureChatCompletionRequest
from ._base import JSON, Call, EndRule, Resource, StreamCall
from .chat import (
    ChatCompletionStream,
    ChatCompletionStreamAsync,
    MessagesParams,
    decode_completion_event,
)

__all__ = ["AZURE_CHAT_COMPLETE", "AZURE_CHAT_STREAM", "AzureChat", "AzureChatParams"]

AZURE_CHAT_PATH = "/models/chat/completions"


class AzureChatParams(MessagesParams, total=False):
    """Keyword arguments of ``MistralAzure.chat``: those of ``Mistral.chat``, with
    ``model`` optional (``"azureai"``, the deployment's model, when not given)."""

    model: str
    temperature: float | None
    top_p: float | None
    safe_prompt: bool | None


class AzureChat(Resource):
    """Chat completions on an Azure AI deployment."""

    __slots__ = ()

    def stream(self, **params: Unpack[AzureChatParams]) -> ChatCompletionStream:
        """Stream a chat completion (see :meth:`levante.resources.Chat.stream`)."""
        return self._sender.stream(AZURE_CHAT_STREAM, params)

    def stream_async(
        self, **params: Unpack[AzureChatParams]
    ) -> AsyncStreamContext[ChatCompletionStreamAsync]:
        """Async twin of :meth:`stream`."""
        return self._sender.stream_async(AZURE_CHAT_STREAM, params)

    def complete(self, **params: Unpack[AzureChatParams]) -> ChatCompletionResponse:
        """Create a chat completion in one response."""
        return self._sender.request(AZURE_CHAT_COMPLETE, params)

    async def complete_async(self, **params: Unpack[AzureChatParams]) -> ChatCompletionResponse:
        """Async twin of :meth:`complete`."""
        return await self._sender.request_async(AZURE_CHAT_COMPLETE, params)


AZURE_CHAT_STREAM = StreamCall(
    name="chat.stream",
    method="POST",
    path=AZURE_CHAT_PATH,
    body=JSON(AzureChatCompletionRequest),
    stream=ChatCompletionStream,
    stream_async=ChatCompletionStreamAsync,
    decode=decode_completion_event,
    end=EndRule.at_sentinel("[DONE]"),
)
AZURE_CHAT_COMPLETE = Call(
    name="chat.complete",
    method="POST",
    path=AZURE_CHAT_PATH,
    body=JSON(AzureChatCompletionRequest),
    response=ChatCompletionResponse,
)
