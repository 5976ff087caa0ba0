"""The sender: builds requests, sends them with retries, maps errors, owns the pools.

Design rules (keep them when changing this module):

1. Building is pure. :meth:`Sender.build` turns an :class:`~levante._request.APIRequest`
   into an ``httpx2.Request`` without I/O; every argument was validated before it.
2. :meth:`Sender.send` and :meth:`Sender.send_async` are the only twins above the stream
   package. They always send with ``stream=True`` so that a body is read with a bound, and
   every response they do not return is closed before they sleep, retry or raise. Whether
   to retry and how long to wait is :class:`~levante._retry.RetryState`'s decision.
3. Every body read is bounded after decompression, the same way on both paths (the
   readers are in :mod:`levante._response`): an error body is cut at 64 KiB (the rest
   discarded), a JSON answer larger than ``max_response_bytes`` is refused. The response
   is closed in every case. An answer that is not what the call expects (a 3xx, a stream
   call answered without ``text/event-stream``, a JSON call answered with HTML) fails
   before its body is read as such, naming the status and the content type.
4. No hidden defaults: :data:`DEFAULT_TIMEOUT` applies only to HTTP clients levante
   creates; a user's client keeps its own timeout unless one is passed explicitly.
5. Secrets never appear in errors or logs: the credentials a request carried are
   redacted from anything quoted from the server or from the HTTP library, and a key
   about to cross the network in clear (``http://`` to a host that is not this machine)
   is warned about once per client.
6. Two hooks make room for other deployments (Azure, Google Cloud): :meth:`Sender.url_for`
   (the URL of one request: path rewriting, fixed query parameters) and
   :meth:`Sender.auth_headers` (credentials, e.g. a token refreshed before it expires).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeAlias, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
from pydantic import BaseModel

from ._build import RequestBuilder, set_headers
from ._checks import SECRET_HEADERS, check_api_key, is_loopback
from ._endpoint import Call, StreamCall, prepare
from ._request import APIRequest
from ._response import (
    RESPONSE_BODY_LIMIT,
    aread_body,
    aread_error_body,
    check_answer,
    connection_error,
    error_for,
    parse,
    read_body,
    read_error_body,
    secrets_of,
    unexpected_answer,
)
from ._retry import RetryConfig, RetryState
from ._streaming import AsyncStreamContext, EventStream, EventStreamAsync
from ._transport import new_async_client, new_sync_client
from ._version import __version__
from .errors import MistralError

__all__ = [
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "OFFICIAL_HOSTS",
    "SERVERS",
    "USER_AGENT",
    "ApiKey",
    "Sender",
]

logger = logging.getLogger("levante")

#: The official Mistral API; ``MISTRAL_SERVER_URL`` replaces this default.
DEFAULT_SERVER_URL: Final = "https://api.mistral.ai"

#: Applied only to the HTTP clients levante creates itself: 10 s to connect, and up to
#: 60 s for any single read, write or pool wait. A stream is never silent that long (the
#: Mistral API sends keep-alive comments), so a stalled server fails within a minute
#: instead of holding a call for five. A non-streamed answer must come within 60 s too:
#: pass ``timeout=`` for longer ones, or stream them. A user-supplied client keeps its own.
DEFAULT_TIMEOUT: Final = httpx2.Timeout(60.0, connect=10.0)

#: The official servers by name, as ``Mistral(server=...)`` takes them (the official SDK's
#: table).
SERVERS: Final[Mapping[str, str]] = {
    "global": DEFAULT_SERVER_URL,
    "eu": "https://api.eu.mistral.ai",
    "us": "https://api.us.mistral.ai",
}

#: Hosts that always need a key (a custom server, e.g. ``levante serve``, may not).
OFFICIAL_HOSTS: Final = frozenset(urlsplit(url).netloc for url in SERVERS.values())

USER_AGENT: Final = f"levante/{__version__}"

ApiKey: TypeAlias = str | Callable[[], str | None] | None

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")
S = TypeVar("S", bound="EventStream[Any]")
A = TypeVar("A", bound="EventStreamAsync[Any]")


class Sender:
    """Sends the requests of one client: what every resource holds.

    :param api_key: a key, a callable returning one (called per request), or None.
    :param server_url: the base URL, already checked (no trailing slash).
    :param timeout: applied to every request when not None; else the HTTP client's own.
    :param retries: the client-wide retry policy.
    :param client: / :param async_client: user-supplied HTTP clients (never closed here);
        when None, one of each is created on first use and closed by :meth:`close` /
        :meth:`aclose`, or at garbage collection.
    :param max_response_bytes: the largest non-streamed (decoded) answer accepted.
    """

    def __init__(
        self,
        *,
        api_key: ApiKey,
        server_url: str,
        timeout: httpx2.Timeout | None,
        retries: RetryConfig,
        client: httpx2.Client | None = None,
        async_client: httpx2.AsyncClient | None = None,
        max_response_bytes: int = RESPONSE_BODY_LIMIT,
    ) -> None:
        self.api_key = api_key
        self.max_response_bytes = max_response_bytes
        self.server_url = server_url
        self.timeout = timeout
        self.retries = retries
        self._client = client
        self._async_client = async_client
        self._owns_client = client is None
        self._owns_async_client = async_client is None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[[], Any] | None = None
        # http:// hosts already checked: loopback ones, and those warned about a key sent
        # in clear (once per client and host).
        self._checked_hosts: set[str] = set()
        self._builder = RequestBuilder()

    # -- hooks -------------------------------------------------------------------------

    def url_for(self, base: str, req: APIRequest) -> str:
        """The URL of ``req`` (query parameters are added by ``build``).

        A subclass rewrites paths here: e.g. Azure's ``/models/chat/completions`` with its
        ``api-version`` query parameter, or Google Cloud's per-model predict path, which
        ``req.model`` and ``req.stream`` give.
        """
        return base + req.path

    def auth_headers(self, base: str) -> dict[str, str]:
        """The credentials of one request to ``base``: ``Authorization: Bearer <key>``.

        Called for every request, so a callable key (or a subclass's token) may change.
        """
        key = self.api_key
        if callable(key):
            key = key()
        if not key:
            if urlsplit(base).hostname in OFFICIAL_HOSTS:
                raise MistralError(
                    "no Mistral API key: pass Mistral(api_key=...) or set MISTRAL_API_KEY "
                    "(a key is optional only for a custom server_url)"
                )
            return {}
        return {"authorization": f"Bearer {check_api_key(key)}"}

    # -- the pools ---------------------------------------------------------------------

    def sync_client(self) -> httpx2.Client:
        """The sync HTTP client: the user's, or one levante creates on first use."""
        client = self._client
        if client is None:
            # Created on first use (an async-only user never opens a sync pool); the lock
            # keeps two threads from each creating one and leaking the other.
            with self._lock:
                client = self._client
                if client is None:
                    client = self._client = new_sync_client(self.timeout or DEFAULT_TIMEOUT)
                    # A sender dropped without close() (a script's module-level client)
                    # still closes its pool, at garbage collection or at exit. Streams
                    # keep their sender alive, so this never cuts a stream being read.
                    self._finalizer = weakref.finalize(self, client.close)
        return client

    def async_client(self) -> httpx2.AsyncClient:
        """The async HTTP client: the user's, or one levante creates on first use."""
        client = self._async_client
        if client is None:
            with self._lock:
                client = self._async_client
                if client is None:
                    # Over aiohttp on asyncio, uncapped: see levante._transport.
                    client = self._async_client = new_async_client(self.timeout or DEFAULT_TIMEOUT)
        return client

    def close(self) -> None:
        """Close the sync HTTP client levante created (a user-supplied one stays open)."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
            if self._finalizer is not None:
                self._finalizer.detach()

    async def aclose(self) -> None:
        """Close both HTTP clients levante created (user-supplied ones stay open)."""
        self.close()
        if self._owns_async_client and self._async_client is not None:
            client, self._async_client = self._async_client, None
            with anyio.CancelScope(shield=True):
                await client.aclose()

    # -- building (no I/O) -------------------------------------------------------------

    def build(self, http: httpx2.Client | httpx2.AsyncClient, req: APIRequest) -> httpx2.Request:
        """The ``httpx2.Request`` of ``req`` for ``http`` (pure: nothing is sent)."""
        opts = req.options
        base = opts.server_url or self.server_url
        headers = {
            "accept": "text/event-stream" if req.stream else "application/json",
            "user-agent": USER_AGENT,
        }
        headers.update(self.auth_headers(base))
        if req.body is not None:
            headers["content-type"] = "application/json"
        if req.headers or opts.http_headers:
            # case-insensitive, so that "User-Agent" replaces levante's "user-agent"
            headers = set_headers(headers, (*req.headers, *(opts.http_headers or ())))
        timeout = opts.timeout if isinstance(opts.timeout, httpx2.Timeout) else self.timeout
        request = self._builder.build(
            http,
            req.method,
            self.url_for(base, req),
            body=req.body,
            data=req.data,
            files=req.files,
            params=req.params,
            headers=headers,
            timeout=timeout,
        )
        sent_to = request.url
        if sent_to.scheme == "http" and sent_to.host not in self._checked_hosts:
            self._warn_in_clear(request)
        return request

    def _warn_in_clear(self, request: httpx2.Request) -> None:
        host = request.url.host
        if is_loopback(host):
            self._checked_hosts.add(host)
            return
        if not any(name in request.headers for name in SECRET_HEADERS):
            return  # no key this time; a later request may carry one
        with self._lock:
            if host in self._checked_hosts:
                return
            self._checked_hosts.add(host)
        logger.warning(
            "the API key is sent over plain http:// to %s, readable by anyone on the way; "
            "use https:// (warned once per client and host)",
            host,
        )

    def _retry_state(self, req: APIRequest) -> RetryState:
        return RetryState(req.options.retries or self.retries)

    # -- the two send paths ------------------------------------------------------------

    def send(self, req: APIRequest) -> httpx2.Response:
        """Send ``req`` with retries; return an open streamed response with a status < 400."""
        client = self.sync_client()
        request = self.build(client, req)
        state = self._retry_state(req)
        while True:
            try:
                response = client.send(request, stream=True)
            except httpx2.TransportError as exc:
                delay = state.after_error(exc)
                if delay is None:
                    raise connection_error(exc, request) from exc
                logger.debug("%s %s: %s, retrying in %.2fs", req.method, req.path, type(exc), delay)
                time.sleep(delay)
                continue
            status = response.status_code
            logger.debug("%s %s -> %d", request.method, req.path, status)
            if status < 400:
                if check_answer(response, req.stream):
                    return response
                raise unexpected_answer(response, read_error_body(response), req.stream)
            delay = state.after_status(status, response.headers)
            raw = read_error_body(response)  # closed; read to the end, it goes back to the pool
            if delay is None:
                raise error_for(response, raw)
            logger.debug("%s %s: HTTP %d, retrying in %.2fs", req.method, req.path, status, delay)
            time.sleep(delay)

    async def send_async(self, req: APIRequest) -> httpx2.Response:
        """Async twin of :meth:`send`."""
        client = self.async_client()
        request = self.build(client, req)
        state = self._retry_state(req)
        while True:
            try:
                response = await client.send(request, stream=True)
            except httpx2.TransportError as exc:
                delay = state.after_error(exc)
                if delay is None:
                    raise connection_error(exc, request) from exc
                logger.debug("%s %s: %s, retrying in %.2fs", req.method, req.path, type(exc), delay)
                await anyio.sleep(delay)
                continue
            status = response.status_code
            logger.debug("%s %s -> %d", request.method, req.path, status)
            if status < 400:
                if check_answer(response, req.stream):
                    return response
                raw = await aread_error_body(response)
                raise unexpected_answer(response, raw, req.stream)
            delay = state.after_status(status, response.headers)
            raw = await aread_error_body(response)
            if delay is None:
                raise error_for(response, raw)
            logger.debug("%s %s: HTTP %d, retrying in %.2fs", req.method, req.path, status, delay)
            await anyio.sleep(delay)

    # -- what resources call -----------------------------------------------------------

    def request(self, call: Call[R], params: Mapping[str, Any]) -> R:
        """Validate, send ``call`` and parse its JSON answer."""
        req = prepare(call, params, call.name)
        response = self.send(req)
        raw = read_body(response, self.max_response_bytes)
        return parse(raw, call.response, req, secrets_of(response.request))

    async def request_async(self, call: Call[R], params: Mapping[str, Any]) -> R:
        """Async twin of :meth:`request`."""
        req = prepare(call, params, call.name + "_async")
        response = await self.send_async(req)
        raw = await aread_body(response, self.max_response_bytes)
        return parse(raw, call.response, req, secrets_of(response.request))

    def stream(self, call: StreamCall[S, A], params: Mapping[str, Any]) -> S:
        """Validate, send ``call`` and return its open stream."""
        req = prepare(call, params, call.name)
        response = self.send(req)
        try:
            extra: dict[str, Any] = {}
            if req.options.reconnect is not None:
                extra = {"reconnect": req.options.reconnect, "reopen": self._reopen(call, params)}
            return self._wrap(response, req, call, call.stream, extra)
        except BaseException:
            response.close()
            raise

    def stream_async(
        self, call: StreamCall[S, A], params: Mapping[str, Any]
    ) -> AsyncStreamContext[A]:
        """Async twin of :meth:`stream`: validates now, sends when awaited or entered."""
        req = prepare(call, params, call.name + "_async")
        return AsyncStreamContext(functools.partial(self._open_stream_async, req, call, params))

    async def _open_stream_async(
        self, req: APIRequest, call: StreamCall[S, A], params: Mapping[str, Any]
    ) -> A:
        response = await self.send_async(req)
        try:
            extra: dict[str, Any] = {}
            if req.options.reconnect is not None:
                reopen = self._reopen_async(call, params)
                extra = {"reconnect": req.options.reconnect, "reopen": reopen}
            return self._wrap(response, req, call, call.stream_async, extra)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await response.aclose()
            raise

    def _resumed(
        self, call: StreamCall[Any, Any], params: Mapping[str, Any], last_id: str
    ) -> APIRequest:
        """The request that resumes ``call`` after event ``last_id`` (validated again)."""
        assert call.resume is not None
        fields = dict(params)
        if last_id:
            fields[call.resume] = last_id
        return prepare(call, fields, call.name)

    def _reopen(
        self, call: StreamCall[Any, Any], params: Mapping[str, Any]
    ) -> Callable[[str], httpx2.Response]:
        # Sent as is: the reconnecting stream decides on statuses, waits and attempts
        # itself (the sender's retries are for obtaining the first response).
        def reopen(last_id: str) -> httpx2.Response:
            client = self.sync_client()
            request = self.build(client, self._resumed(call, params, last_id))
            return client.send(request, stream=True)

        return reopen

    def _reopen_async(
        self, call: StreamCall[Any, Any], params: Mapping[str, Any]
    ) -> Callable[[str], Awaitable[httpx2.Response]]:
        async def reopen(last_id: str) -> httpx2.Response:
            client = self.async_client()
            request = self.build(client, self._resumed(call, params, last_id))
            return await client.send(request, stream=True)

        return reopen

    def _wrap(
        self,
        response: httpx2.Response,
        req: APIRequest,
        call: StreamCall[Any, Any],
        cls: Callable[..., T],
        extra: Mapping[str, Any],
    ) -> T:
        options = req.options
        if not options.accumulate and getattr(cls, "accumulates", False):
            extra = {**extra, "accumulate": False}
        return cls(
            response,
            call.decode,
            sentinel=call.sentinel,
            terminal_events=call.terminal_events,
            end=call.end,
            first_event_timeout=options.first_event_timeout,
            idle_timeout=options.idle_timeout,
            owner=self,  # keeps this sender, and so its pool, alive while streaming
            **extra,
        )
