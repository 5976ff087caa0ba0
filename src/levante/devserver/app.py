"""The dev server's Starlette app: every route of :mod:`levante.devserver.routes` over the
fake models, with Mistral-shaped errors.

Endpoints (JSON or multipart in, JSON or ``text/event-stream`` out, like the Mistral API);
each route module's docstring gives its paths and event sequences:

- :mod:`~levante.devserver.routes.chat`: chat, FIM and agents completions;
- :mod:`~levante.devserver.routes.conversations`: conversations and their history;
- :mod:`~levante.devserver.routes.audio`: transcription (multipart) and speech;
- :mod:`~levante.devserver.routes.responses`: the Responses API;
- :mod:`~levante.devserver.routes.cloud`: the Azure and Vertex AI paths of chat and FIM;
- :mod:`~levante.devserver.routes.workflows`: workflow event and log streams (GET,
  resumable, ending with the body);
- :mod:`~levante.devserver.routes.models`: the model list, ``/_levante/stats`` and
  ``/_levante/resumes``;
- :mod:`~levante.devserver.routes.events`: ``/_levante/events``, a generic resumable
  stream (ids, ``retry:``, ``Last-Event-ID``).

Request handling shared by every route (key check, ``X-Levante-*`` headers, errors):
:mod:`levante.devserver.context`; pacing and fault injection while writing:
:mod:`levante.devserver.streaming`.  Faults: see :mod:`levante.devserver.faults`; per
request with ``X-Levante-Fault``, or server-wide with ``create_app(faults=...)``.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .context import TPS_HEADER, TTFT_HEADER, Reject
from .faults import parse_faults
from .routes import audio, chat, cloud, conversations, events, models, responses, workflows
from .state import ServerStreamCounts, State, Timing
from .streaming import DROP_FILTER

__all__ = ["TPS_HEADER", "TTFT_HEADER", "ServerStreamCounts", "create_app"]


async def _on_reject(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Reject)
    return exc.response


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        message = f"Method {request.method} not allowed on {request.url.path}"
        return Reject(405, message, "invalid_request_error").response
    return Reject(
        exc.status_code, f"No route for {request.url.path}", "not_found", code=str(exc.status_code)
    ).response


def _routes() -> list[Route]:
    conv = "/v1/conversations/{conversation_id}"
    flows = "/v1/workflows"
    return [
        Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
        Route("/v1/fim/completions", chat.fim_completions, methods=["POST"]),
        Route("/v1/agents/completions", chat.agents_completions, methods=["POST"]),
        Route("/v1/conversations", conversations.conversations_start, methods=["POST"]),
        Route(conv, conversations.conversations_append, methods=["POST"]),
        Route(f"{conv}/restart", conversations.conversations_restart, methods=["POST"]),
        Route(f"{conv}/history", conversations.conversations_history, methods=["GET"]),
        Route("/v1/audio/transcriptions", audio.transcriptions, methods=["POST"]),
        Route("/v1/audio/speech", audio.speech, methods=["POST"]),
        Route("/v1/responses", responses.create_response, methods=["POST"]),
        Route("/models/chat/completions", cloud.azure_chat, methods=["POST"]),
        Route(cloud.GCP_PATH, cloud.gcp_predict, methods=["POST"]),
        Route(f"{flows}/executions/{{execution_id}}/stream", workflows.execution_stream),
        Route(f"{flows}/executions/{{execution_id}}/logs/stream", workflows.execution_logs),
        Route(f"{flows}/deployments/{{name}}/logs/stream", workflows.deployment_logs),
        Route(f"{flows}/events/stream", workflows.events_stream),
        Route("/v1/models", models.list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", models.get_model, methods=["GET"]),
        Route("/_levante/stats", models.stats, methods=["GET"]),
        Route("/_levante/resumes", models.resumes, methods=["GET"]),
        Route("/_levante/events", events.events, methods=["GET"]),
    ]


def create_app(
    *,
    api_key: str | None = None,
    tokens_per_second: float | None = None,
    ttft: float = 0.0,
    faults: str | None = None,
    strict_models: bool = False,
) -> Starlette:
    """Build the dev server app.

    ``api_key``: when set, every ``/v1`` request must send ``Authorization: Bearer <key>``
    (else 401).  ``tokens_per_second``: the pace of streamed events (``None``: no pause).
    ``ttft``: seconds before the first event.  Requests may override both with the
    ``X-Levante-Tokens-Per-Second`` and ``X-Levante-TTFT`` headers.  ``faults``: an
    ``X-Levante-Fault`` value applied to every request that does not send the header (for
    clients that cannot set headers); a malformed value raises :class:`FaultError`.
    ``strict_models``: refuse a model name the server does not know with the API's 400
    ``invalid_model`` (by default any name is served by ``levante-chat``).
    """
    parse_faults(faults)
    if tokens_per_second is not None and not tokens_per_second > 0:
        raise ValueError("tokens_per_second must be > 0 (or None for no pacing)")
    if not ttft >= 0:
        raise ValueError("ttft must be >= 0")
    if DROP_FILTER not in logging.getLogger("uvicorn.error").filters:
        logging.getLogger("uvicorn.error").addFilter(DROP_FILTER)
    app = Starlette(
        routes=_routes(),
        exception_handlers={Reject: _on_reject, HTTPException: _on_http_error},
    )
    app.state.levante = State(
        api_key=api_key,
        timing=Timing(ttft, tokens_per_second),
        faults=faults,
        strict_models=strict_models,
    )
    return app
