"""``client.models``: the models the server offers (``GET /v1/models``)."""

from __future__ import annotations

from typing_extensions import Unpack

from ..client import APIRequest
from ..models import ModelList
from ._base import RequestParams, Resource, build_request

__all__ = ["Models", "ModelsListParams"]

MODELS_PATH = "/v1/models"


class ModelsListParams(RequestParams, total=False):
    """Keyword arguments of ``models.list``: optional ``provider`` and ``model`` filters."""

    provider: str | None
    model: str | None


def _list(params: ModelsListParams, where: str) -> APIRequest:
    query = {"provider": params.pop("provider", None), "model": params.pop("model", None)}
    return build_request(
        "GET", MODELS_PATH, params, None, where=where, streaming=False, query=query
    )


class Models(Resource):
    """The models endpoint."""

    __slots__ = ()

    def list(self, **params: Unpack[ModelsListParams]) -> ModelList:
        """List the models available to this key."""
        return self._client._request(_list(params, "models.list"), ModelList)

    async def list_async(self, **params: Unpack[ModelsListParams]) -> ModelList:
        """Async twin of :meth:`list`."""
        return await self._client._request_async(_list(params, "models.list_async"), ModelList)
