"""The Azure and Google Cloud (Vertex AI) spellings of chat and FIM.

- Azure AI: ``POST /models/chat/completions?api-version=...`` (the ``api-version`` query
  parameter is required, as Azure requires it), streamed when the body says
  ``stream: true``; the reply is the same as ``/v1/chat/completions``.
- Vertex AI: ``POST /v1/projects/{project}/locations/{region}/publishers/mistralai/models/
  {model}:rawPredict`` (a whole reply) and ``...:streamRawPredict`` (a stream).  A body
  with a ``prompt`` and no ``messages`` is FIM, anything else chat; the model is the one in
  the path.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..context import Reject, begin, field, stream_flag
from .chat import chat_for, fim_for

__all__ = ["GCP_PATH", "azure_chat", "gcp_predict"]

GCP_PATH = "/v1/projects/{project}/locations/{region}/publishers/mistralai/models/{target}"
_SPECIFIERS = {"rawPredict": False, "streamRawPredict": True}


async def azure_chat(request: Request) -> Response:
    """``POST /models/chat/completions?api-version=...``."""
    if not request.query_params.get("api-version"):
        raise Reject(
            400,
            "Missing required query parameter: api-version",
            "invalid_request_error",
            code="MissingApiVersionParameter",
        )
    ctx = await begin(request)
    name: str = field(ctx.body, "model", (str,)) or "mistral-large-latest"
    return await chat_for(ctx, name, stream_flag(ctx.body))


async def gcp_predict(request: Request) -> Response:
    """``POST .../publishers/mistralai/models/{model}:rawPredict`` or ``:streamRawPredict``."""
    model, _, specifier = request.path_params["target"].rpartition(":")
    if not model or specifier not in _SPECIFIERS:
        raise Reject(
            404, f"No route for {request.url.path}: expected {{model}}:rawPredict or "
            "{model}:streamRawPredict", "not_found", code="404",
        )  # fmt: skip
    ctx = await begin(request)
    stream = _SPECIFIERS[specifier]
    if "prompt" in ctx.body and "messages" not in ctx.body:
        return await fim_for(ctx, model, stream)
    return await chat_for(ctx, model, stream)
