"""MistralAzure: Mistral models deployed on Azure AI, as the official ``MistralAzure`` calls them.

The wire differences from the Mistral API, all the official Azure client's: chat goes to
``POST {server_url}/models/chat/completions?api-version=<api_version>``, the body's model
defaults to ``"azureai"`` and its ``messages`` come first, and the key is sent as
``Authorization: Bearer <key>`` (a key is always required). Streams and answers are
decoded exactly as :class:`~levante.Mistral`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlencode

import httpx2

from ._request import NOT_GIVEN, APIRequest, NotGiven, TimeoutTypes
from ._retry import DEFAULT_RETRIES, RetryConfig, RetryPolicy
from ._send import ApiKey, Sender
from .client import BaseClient
from .errors import MistralError
from .resources.cloud import AzureChat

__all__ = ["AZURE_API_VERSION", "AzureSender", "MistralAzure"]

#: The ``api-version`` the official Azure client sends unless told otherwise.
AZURE_API_VERSION: Final = "2024-05-01-preview"


class AzureSender(Sender):
    """A :class:`~levante._send.Sender` that adds ``api-version`` to every URL and always
    requires a key."""

    def __init__(self, *, api_version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_version = api_version
        self._query = urlencode({"api-version": api_version})

    def url_for(self, base: str, req: APIRequest) -> str:
        """``base + path`` with the ``api-version`` query parameter."""
        return f"{base}{req.path}?{self._query}"

    def auth_headers(self, base: str) -> dict[str, str]:
        """``Authorization: Bearer <key>``; an Azure deployment always needs its key."""
        headers = super().auth_headers(base)
        if not headers:
            raise MistralError("no Azure API key: pass MistralAzure(api_key=...)")
        return headers


class MistralAzure(BaseClient):
    """Client for Mistral models deployed on Azure AI (the official ``MistralAzure``'s calls).

    :param api_key: the deployment's key, or a callable returning it (called per request).
    :param server_url: the deployment's endpoint, e.g.
        ``https://<name>.<region>.models.ai.azure.com``.
    :param api_version: the ``api-version`` query parameter sent with every request.
    :param timeout: / :param timeout_ms: / :param retries: / :param retry_config: /
        :param client: / :param async_client: as for :class:`~levante.Mistral`.

    Only ``chat`` (``stream``, ``complete`` and their async twins) is served, as by the
    official Azure client.
    """

    def __init__(
        self,
        api_key: str | Callable[[], str | None],
        *,
        server_url: str,
        api_version: str = AZURE_API_VERSION,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        retries: RetryPolicy = DEFAULT_RETRIES,
        client: httpx2.Client | None = None,
        async_client: httpx2.AsyncClient | None = None,
        timeout_ms: int | None = None,
        retry_config: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> None:
        if not isinstance(api_version, str) or not api_version:
            raise TypeError("api_version must be a non-empty str")
        self._api_version = api_version
        super().__init__(
            api_key=api_key,
            server_url=server_url,
            timeout=timeout,
            retries=retries,
            client=client,
            async_client=async_client,
            timeout_ms=timeout_ms,
            retry_config=retry_config,
        )
        self.chat: AzureChat = AzureChat(self._sender)

    @property
    def api_version(self) -> str:
        """The ``api-version`` query parameter sent with every request."""
        return self._api_version

    def _create_sender(
        self,
        *,
        api_key: ApiKey,
        server_url: str,
        timeout: httpx2.Timeout | None,
        retries: RetryConfig,
        client: httpx2.Client | None,
        async_client: httpx2.AsyncClient | None,
    ) -> Sender:
        return AzureSender(
            api_version=self._api_version,
            api_key=api_key,
            server_url=server_url,
            timeout=timeout,
            retries=retries,
            client=client,
            async_client=async_client,
        )
