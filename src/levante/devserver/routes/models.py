"""The model catalogue and the server's own counters.

``GET /v1/models``, ``GET /v1/models/{id}`` (an unknown id is 404, as the API answers);
``GET /_levante/stats``: ``{"open": n, "completed": n, "aborted": n}`` over streamed
responses (see :class:`levante.devserver.ServerStreamCounts`); ``GET /_levante/resumes``:
``{"resumes": [{"path", "last_event_id"}, ...]}``, the resume cursor each resumable stream
request carried (``null`` when none), oldest first.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...models import MistralModel, ModelCapabilities, ModelCard, ModelList
from ..context import Reject, begin
from ..engine import MODELS, ModelSpec, resolve_model
from ..state import State

__all__ = ["get_model", "list_models", "resumes", "stats"]


def _card(spec: ModelSpec, model_id: str) -> ModelCard:
    alias = model_id != spec.id
    return ModelCard(
        id=model_id,
        created=1700000000,
        owned_by="levante",
        name=model_id,
        description=f"Alias of {spec.id}: {spec.description}" if alias else spec.description,
        aliases=[spec.id] if alias else list(spec.aliases),
        default_model_temperature=0.3,
        capabilities=ModelCapabilities(
            completion_chat=True, completion_fim=spec.fim, function_calling=True
        ),
    )


def _model_json(model: MistralModel) -> Response:
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


async def list_models(request: Request) -> Response:
    """``GET /v1/models``: every built-in model and alias."""
    await begin(request, needs_body=False)
    cards = [_card(spec, name) for spec in MODELS for name in (spec.id, *spec.aliases)]
    return _model_json(ModelList(data=cards))


async def get_model(request: Request) -> Response:
    """``GET /v1/models/{model_id}``."""
    await begin(request, needs_body=False)
    name = request.path_params["model_id"]
    spec = resolve_model(name)
    if spec is None:
        raise Reject(404, f"Model {name} not found", "not_found", code="1500")
    return _model_json(_card(spec, name))


async def stats(request: Request) -> Response:
    """``GET /_levante/stats``."""
    state: State = request.app.state.levante
    return JSONResponse(state.stats.as_dict())


async def resumes(request: Request) -> Response:
    """``GET /_levante/resumes``."""
    state: State = request.app.state.levante
    return JSONResponse({"resumes": state.resumes})
