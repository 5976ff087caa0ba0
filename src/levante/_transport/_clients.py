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
"""

from __future__ import annotations

import importlib.util
import urllib.request

import httpx2

from ._base import HTTPX_UNCAPPED_LIMITS
from ._transport import AiohttpTransport

__all__ = ["new_async_client", "new_sync_client"]


def new_sync_client(timeout: httpx2.Timeout) -> httpx2.Client:
    """The sync client levante creates: httpx2's pool, uncapped (rule 1)."""
    return httpx2.Client(timeout=timeout, limits=HTTPX_UNCAPPED_LIMITS)


def new_async_client(timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """The async client levante creates: over aiohttp where it can be (rule 2)."""
    if _proxied() or importlib.util.find_spec("aiohttp") is None:
        return httpx2.AsyncClient(timeout=timeout, limits=HTTPX_UNCAPPED_LIMITS)
    return httpx2.AsyncClient(timeout=timeout, transport=AiohttpTransport())


def _proxied() -> bool:
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
