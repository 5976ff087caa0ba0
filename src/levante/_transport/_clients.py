"""The HTTP clients levante creates when the user supplies none.

Design rules (keep them when changing this module):

1. Nothing caps the number of concurrent streams: a stream holds its connection for
   minutes, so a cap of 100 (httpx2's default) makes the 101st user wait a whole stream
   for a first token. The sync pool is httpx2's with :data:`HTTPX_UNCAPPED_LIMITS`.
2. The async client sends through :class:`AiohttpTransport` (aiohttp on asyncio, httpx2
   uncapped on trio), except where httpx2's own transport must do the work: when the
   environment names a proxy (httpx2 honours ``HTTP(S)_PROXY`` / ``ALL_PROXY`` /
   ``NO_PROXY`` only for its own transport), or when aiohttp is not installed.
3. A user-supplied client is never replaced or changed; these are only the defaults.
4. The async client skips what none of its requests use (see :class:`OwnedAsyncClient`),
   and nothing else: whatever httpx2 does for one request sent on it still happens.
"""

from __future__ import annotations

import importlib.util
import urllib.request
from typing import Any

import httpx2

from ._base import HTTPX_UNCAPPED_LIMITS
from ._transport import AiohttpTransport

__all__ = ["OwnedAsyncClient", "new_async_client", "new_sync_client"]


def new_sync_client(timeout: httpx2.Timeout) -> httpx2.Client:
    """The sync client levante creates: httpx2's pool, uncapped (rule 1)."""
    return httpx2.Client(timeout=timeout, limits=HTTPX_UNCAPPED_LIMITS)


def new_async_client(timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """The async client levante creates: over aiohttp where it can be (rule 2)."""
    if _proxied() or importlib.util.find_spec("aiohttp") is None:
        return OwnedAsyncClient(timeout=timeout, limits=HTTPX_UNCAPPED_LIMITS)
    return OwnedAsyncClient(timeout=timeout, transport=AiohttpTransport())


def _proxied() -> bool:
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


#: httpx2's one-request step (rule 4), if this httpx2 still has it under that name.
_SEND_ONE = getattr(httpx2.AsyncClient, "_send_single_request", None)


class OwnedAsyncClient(httpx2.AsyncClient):
    """The ``httpx2.AsyncClient`` levante creates for itself (rule 4).

    ``send`` passes a request through httpx2's auth flow (an async generator), its
    redirect loop and its event-hook loops before the one step that sends it, which
    records the time, keeps cookies and logs. Levante never gives its own client auth,
    hooks or redirects to follow, so a streamed request goes to that step directly: the
    layers around it cost as much as building the request, at thousands of streams
    opened at once. With any of those set, or with another httpx2 that lacks that step,
    ``send`` is httpx2's own.
    """

    async def send(
        self,
        request: httpx2.Request,
        *,
        stream: bool = False,
        auth: Any = httpx2.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx2.USE_CLIENT_DEFAULT,
    ) -> httpx2.Response:
        """httpx2's ``send``; a streamed request without auth, hooks or redirects to
        follow skips the layers that would do nothing for it."""
        if (
            _SEND_ONE is None
            or not stream
            or auth is not httpx2.USE_CLIENT_DEFAULT
            or follow_redirects is not httpx2.USE_CLIENT_DEFAULT
            or self.auth is not None
            or self.follow_redirects
            or self.is_closed
            or "timeout" not in request.extensions
            or any(self.event_hooks.values())
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        response: httpx2.Response = await _SEND_ONE(self, request)
        return response
