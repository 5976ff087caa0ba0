"""``client.models``: the models the server offers (``GET /v1/models``)."""

from __future__ import annotations

from typing_extensions import Unpack

from ..models import ModelList
from ._base import Call, RequestParams, Resource

__all__ = ["Models", "ModelsListParams"]

MODELS_PATH = "/v1/models"


class ModelsListParams(RequestParams, total=False):
    """Keyword arguments of ``models.list``: optional ``provider`` and ``model`` filters."""

    provider: str | None
    model: str | None


LIST = Call(
    name="models.list",
    method="GET",
    path=MODELS_PATH,
    query=("provider", "model"),
    response=ModelList,
)


class Models(Resource):
    """The models endpoint."""

    __slots__ = ()

    def list(self, **params: Unpack[ModelsListParams]) -> ModelList:
        """List the models available to this key."""
        return self._sender.request(LIST, params)

    async def list_async(self, **params: Unpack[ModelsListParams]) -> ModelList:
        """Async twin of :meth:`list`."""
        return await self._sender.request_async(LIST, params)
