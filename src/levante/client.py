"""The Mistral client: reads its configuration and wires the resources, nothing else.

Sending lives in :mod:`levante._send` (one :class:`~levante._send.Sender` per client,
held by every resource); what a call sends is declared in :mod:`levante.resources`.
The API key never appears in ``repr``, logs or error messages.
"""

from __future__ import annotations

import os
from types import TracebackType

import httpx2
from typing_extensions import Self

from ._checks import check_api_key, check_server_url, check_timeout_ms
from ._request import NOT_GIVEN, APIRequest, NotGiven, RequestOptions, TimeoutTypes, coerce_timeout
from ._response import ERROR_BODY_LIMIT, RESPONSE_BODY_LIMIT
from ._retry import DEFAULT_RETRIES, RetryConfig, RetryPolicy, resolve_retries
from ._send import DEFAULT_SERVER_URL, DEFAULT_TIMEOUT, SERVERS, ApiKey, Sender
from .resources import (
    Agents,
    Audio,
    Beta,
    Chat,
    Conversations,
    Fim,
    Models,
    Responses,
    Workflows,
    WorkflowsEvents,
)

__all__ = [
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "ERROR_BODY_LIMIT",
    "NOT_GIVEN",
    "RESPONSE_BODY_LIMIT",
    "SERVERS",
    "APIRequest",
    "BaseClient",
    "Mistral",
    "RequestOptions",
    "RetryConfig",
]


def _named_server(server: str | None) -> str:
    if server is None:
        return os.environ.get("MISTRAL_SERVER_URL") or DEFAULT_SERVER_URL
    if not isinstance(server, str):
        raise TypeError(f"server must be a str, not {type(server).__name__}")
    url = SERVERS.get(server)
    if url is None:
        raise ValueError(f"unknown server {server!r}: expected one of {', '.join(SERVERS)}")
    return url


class BaseClient:
    """What every client shares: the checked configuration, the sender, the lifecycle.

    :class:`Mistral`, :class:`~levante.MistralAzure` and :class:`~levante.MistralGCP` derive
    from it: each resolves its own defaults, may return a :class:`~levante._send.Sender`
    subclass from :meth:`_create_sender` (URL rewriting, credentials), and hangs its
    resources on the sender. Use a client as a context manager (``with`` or ``async
    with``) or call :meth:`close` / :meth:`aclose` to close the HTTP clients it created.
    """

    def __init__(
        self,
        *,
        api_key: ApiKey,
        server_url: str,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        retries: RetryPolicy = DEFAULT_RETRIES,
        client: httpx2.Client | None = None,
        async_client: httpx2.AsyncClient | None = None,
        timeout_ms: int | None = None,
        retry_config: RetryPolicy | NotGiven = NOT_GIVEN,
        max_response_bytes: int = RESPONSE_BODY_LIMIT,
    ) -> None:
        if api_key is not None and not isinstance(api_key, str) and not callable(api_key):
            raise TypeError(f"api_key must be a str or a callable, not {type(api_key).__name__}")
        if isinstance(api_key, str):
            check_api_key(api_key)  # a callable's keys are checked as each request is built
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
            raise TypeError(
                f"max_response_bytes must be an int, not {type(max_response_bytes).__name__}"
            )
        if max_response_bytes <= 0:
            raise ValueError(f"max_response_bytes must be positive, got {max_response_bytes}")
        if timeout_ms is not None:
            if not isinstance(timeout, NotGiven):
                raise TypeError("pass either timeout (seconds) or timeout_ms, not both")
            timeout = check_timeout_ms("timeout_ms", timeout_ms)
        if client is not None and not isinstance(client, httpx2.Client):
            raise TypeError(f"client must be an httpx2.Client, not {type(client).__name__}")
        if async_client is not None and not isinstance(async_client, httpx2.AsyncClient):
            raise TypeError(
                f"async_client must be an httpx2.AsyncClient, not {type(async_client).__name__}"
            )
        self._sender = self._create_sender(
            api_key=api_key,
            server_url=check_server_url(server_url),
            timeout=None if isinstance(timeout, NotGiven) else coerce_timeout(timeout),
            retries=resolve_retries(
                retries if isinstance(retry_config, NotGiven) else retry_config
            ),
            client=client,
            async_client=async_client,
        )
        self._sender.max_response_bytes = max_response_bytes

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
        # A client for another deployment (Azure, Google Cloud) overrides this to return a
        # Sender subclass that rewrites URLs or supplies its own credentials.
        return Sender(
            api_key=api_key,
            server_url=server_url,
            timeout=timeout,
            retries=retries,
            client=client,
            async_client=async_client,
        )

    # -- configuration -------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        """The base URL requests go to (without a trailing slash)."""
        return self._sender.server_url

    @property
    def retries(self) -> RetryConfig:
        """The client-wide retry policy."""
        return self._sender.retries

    def __repr__(self) -> str:
        key = "unset" if self._sender.api_key is None else "set"
        return f"<{type(self).__name__} server_url={self.server_url!r} api_key={key}>"

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync HTTP client levante created (a user-supplied one stays open)."""
        self._sender.close()

    async def aclose(self) -> None:
        """Close both HTTP clients levante created (user-supplied ones stay open)."""
        await self._sender.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Mistral(BaseClient):
    """Client for the Mistral API (and any server speaking its wire format).

    :param api_key: the API key, or a callable returning it; ``MISTRAL_API_KEY`` when
        ``None``. A key is required only for the official API: a custom ``server_url``
        (e.g. ``levante serve``) may be used without one.
    :param server_url: base URL; when ``None``, the official server named by ``server``,
        else ``MISTRAL_SERVER_URL``, else :data:`DEFAULT_SERVER_URL`.
    :param server: an official server by name: ``"global"`` (``api.mistral.ai``), ``"eu"``
        or ``"us"`` (see :data:`SERVERS`); ``server_url`` wins when both are given.
    :param timeout: seconds or an ``httpx2.Timeout``. When not passed, clients levante
        creates use :data:`DEFAULT_TIMEOUT` and a user-supplied client keeps its own; when
        passed (``None`` disables timeouts) it applies to every request.
    :param retries: an int (number of retries), a :class:`~levante.RetryConfig`, ``None``
        (no retries) or the official SDK's ``RetryConfig``; default ``RetryConfig()``.
    :param client: an ``httpx2.Client`` to use for sync calls (never closed by levante).
    :param async_client: an ``httpx2.AsyncClient`` for async calls (never closed by levante).
    :param timeout_ms: the official SDK's spelling of ``timeout``, in milliseconds.
    :param retry_config: the official SDK's spelling of ``retries``.
    :param max_response_bytes: the largest non-streamed answer levante reads, in bytes
        after decompression (default :data:`RESPONSE_BODY_LIMIT`, 64 MiB); a larger one
        raises :class:`~levante.errors.ResponseTooLarge`. Streams are bounded per event
        instead (``max_event_size``), and error bodies are cut at 64 KiB.

    Use it as a context manager (``with`` or ``async with``) or call :meth:`close` /
    :meth:`aclose` to close the HTTP clients it created.
    """

    def __init__(
        self,
        api_key: ApiKey = None,
        *,
        server_url: str | None = None,
        server: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        retries: RetryPolicy = DEFAULT_RETRIES,
        client: httpx2.Client | None = None,
        async_client: httpx2.AsyncClient | None = None,
        timeout_ms: int | None = None,
        retry_config: RetryPolicy | NotGiven = NOT_GIVEN,
        max_response_bytes: int = RESPONSE_BODY_LIMIT,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("MISTRAL_API_KEY") or None
        super().__init__(
            api_key=api_key,
            server_url=_named_server(server) if server_url is None else server_url,
            timeout=timeout,
            retries=retries,
            client=client,
            async_client=async_client,
            timeout_ms=timeout_ms,
            retry_config=retry_config,
            max_response_bytes=max_response_bytes,
        )
        sender = self._sender
        self.chat: Chat = Chat(sender)
        self.fim: Fim = Fim(sender)
        self.agents: Agents = Agents(sender)
        self.beta: Beta = Beta(sender)
        #: Alias of ``beta.conversations``.
        self.conversations: Conversations = self.beta.conversations
        self.models: Models = Models(sender)
        self.audio: Audio = Audio(sender)
        self.responses: Responses = Responses(sender)
        self.workflows: Workflows = Workflows(sender)
        #: Alias of ``workflows.events``.
        self.events: WorkflowsEvents = self.workflows.events
