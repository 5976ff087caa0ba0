"""Request bodies of cloud deployments that differ from the Mistral API's own.

Azure AI's chat body has the official Azure client's field order (``messages`` before
``model``) and its default model ``"azureai"`` (the deployment decides the model), so
that levante sends the same bytes as the official ``MistralAzure``.
"""

from __future__ import annotations

from typing import Any

from pydantic import SerializerFunctionWrapHandler, model_serializer

from ._base import MistralModel
from .chat import ChatCompletionRequest

__all__ = ["AzureChatCompletionRequest"]


class AzureChatCompletionRequest(ChatCompletionRequest):
    """Body of ``POST /models/chat/completions`` on Azure AI (``stream`` follows the
    method, as for every levante request model with a ``stream`` field)."""

    model: str = "azureai"

    @model_serializer(mode="wrap")
    def _serialize_wire(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = MistralModel._serialize_wire(self, handler)
        # the official Azure model declares messages first; JSON keys keep that order
        return {"messages": data.pop("messages"), **data}
