"""MistralGCP: Mistral models on Google Cloud Vertex AI, as the official ``MistralGCP`` calls them.

Chat and FIM requests keep their bodies; only the URL changes, to the model's predict
endpoint::

    {server_url}/v1/projects/{project_id}/locations/{region}/publishers/mistralai/
        models/{model}:streamRawPredict     (streamed; ":rawPredict" when not)

``server_url`` defaults to ``https://{region}-aiplatform.googleapis.com``. The bearer token
is ``access_token`` when given, else google-auth's Application Default Credentials (the
``levante[gcp]`` extra), refreshed before they expire (see :mod:`levante._auth`).

One departure: a ``server_url`` with a path (a proxy's prefix) keeps that prefix, where the
official client drops it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx2

from ._auth import GoogleTokens, default_credentials
from ._request import NOT_GIVEN, APIRequest, NotGiven, TimeoutTypes
from ._retry import DEFAULT_RETRIES, RetryConfig, RetryPolicy
from ._send import ApiKey, Sender
from .client import BaseClient
from .resources import Chat, Fim

__all__ = ["GCPSender", "MistralGCP"]


class GCPSender(Sender):
    """A :class:`~levante._send.Sender` for Vertex AI: the model's predict URL, and a
    Google bearer token (refreshed off the event loop on the async path)."""

    def __init__(self, *, project_id: str, region: str, tokens: GoogleTokens, **kwargs: Any):
        super().__init__(**kwargs)
        self.project_id = project_id
        self.region = region
        self.tokens = tokens
        self._prefix = (
            f"/v1/projects/{quote(project_id, safe='')}/locations/{quote(region, safe='')}"
            "/publishers/mistralai/models/"
        )

    def url_for(self, base: str, req: APIRequest) -> str:
        """The predict URL of the request's model (``:streamRawPredict`` when streamed)."""
        if not req.model:
            raise ValueError("Vertex AI needs the model in the URL: pass model=...")
        method = "streamRawPredict" if req.stream else "rawPredict"
        return f"{base}{self._prefix}{quote(req.model, safe='@')}:{method}"

    def auth_headers(self, base: str) -> dict[str, str]:
        """``Authorization: Bearer <Google access token>``."""
        return {"authorization": f"Bearer {self.tokens.token()}"}

    async def send_async(self, req: APIRequest) -> httpx2.Response:
        """Refresh a stale token in a worker thread, then send as usual."""
        await self.tokens.refresh_async()
        return await super().send_async(req)


class MistralGCP(BaseClient):
    """Client for Mistral models on Vertex AI (the official ``MistralGCP``'s calls).

    :param project_id: the Google Cloud project; taken from the default credentials when
        not given.
    :param region: the Vertex AI region (``europe-west4`` by default, as officially).
    :param access_token: a fixed token (no google-auth needed); without it, google-auth's
        Application Default Credentials are used and refreshed before they expire.
    :param credentials: google-auth credentials to use instead of the default ones
        (a levante addition).
    :param server_url: defaults to ``https://{region}-aiplatform.googleapis.com``.
    :param timeout: / :param timeout_ms: / :param retries: / :param retry_config: /
        :param client: / :param async_client: as for :class:`~levante.Mistral`.

    ``chat`` and ``fim`` are served (``stream``, ``complete`` and their async twins), as
    by the official client; ``model`` is required, since it is part of the URL.
    """

    def __init__(
        self,
        project_id: str | None = None,
        region: str = "europe-west4",
        access_token: str | None = None,
        *,
        credentials: Any = None,
        server_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        retries: RetryPolicy = DEFAULT_RETRIES,
        client: httpx2.Client | None = None,
        async_client: httpx2.AsyncClient | None = None,
        timeout_ms: int | None = None,
        retry_config: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> None:
        if not isinstance(region, str) or not region:
            raise TypeError("region must be a non-empty str")
        if access_token is None and credentials is None:
            credentials, detected = default_credentials()
            project_id = project_id or detected
        if not isinstance(project_id, str) or not project_id:
            raise ValueError("project_id must be given or come with the default credentials")
        self._project_id = project_id
        self._region = region
        self._tokens = GoogleTokens(access_token=access_token, credentials=credentials)
        super().__init__(
            api_key=None,
            server_url=server_url or f"https://{region}-aiplatform.googleapis.com",
            timeout=timeout,
            retries=retries,
            client=client,
            async_client=async_client,
            timeout_ms=timeout_ms,
            retry_config=retry_config,
        )
        self.chat: Chat = Chat(self._sender)
        self.fim: Fim = Fim(self._sender)

    @property
    def project_id(self) -> str:
        """The Google Cloud project requests go to."""
        return self._project_id

    @property
    def region(self) -> str:
        """The Vertex AI region requests go to."""
        return self._region

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
        return GCPSender(
            project_id=self._project_id,
            region=self._region,
            tokens=self._tokens,
            api_key=api_key,
            server_url=server_url,
            timeout=timeout,
            retries=retries,
            client=client,
            async_client=async_client,
        )
