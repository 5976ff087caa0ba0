"""The HTTP transports of the clients levante creates, and what streams need from them.

``Mistral()`` sends async requests through :class:`AiohttpTransport` (aiohttp on asyncio,
httpx2's own transport on trio) and sync requests through httpx2's pool with
:data:`HTTPX_UNCAPPED_LIMITS` (:func:`new_async_client`, :func:`new_sync_client`). A
user-supplied ``httpx2`` client is used as given.
"""

from __future__ import annotations

from ._base import (
    HTTPX_UNCAPPED_LIMITS,
    READ_SIZE,
    AsyncRead,
    DirectByteStream,
    FlatRead,
    PoolStats,
    shut_down,
)
from ._clients import new_async_client, new_sync_client
from ._transport import AIOHTTP_LIMITS, AiohttpTransport

__all__ = [
    "AIOHTTP_LIMITS",
    "HTTPX_UNCAPPED_LIMITS",
    "READ_SIZE",
    "AiohttpTransport",
    "AsyncRead",
    "DirectByteStream",
    "FlatRead",
    "PoolStats",
    "new_async_client",
    "new_sync_client",
    "shut_down",
]
