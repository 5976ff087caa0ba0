"""The async transport of the clients levante creates: aiohttp on asyncio, httpx2 elsewhere.

Why aiohttp: a backend holds one stream per user, thousands at once. httpx2's pool
(httpcore2) scans every connection whenever a request starts or ends, which is quadratic
in the number of streams, and parses each body chunk through ``h11`` in Python. aiohttp's
pool looks connections up by key and its HTTP parser is compiled. Over aiohttp, levante
holds 1,000 token-rate streams at close to the wall time and CPU of raw aiohttp
(``benchmarks/bench_concurrency.py``).

Design rules (keep them when changing this module):

1. One transport serves every event loop. On asyncio it sends with aiohttp, one session
   per running loop; on any other loop (trio) it sends with httpx2's own transport,
   uncapped (:data:`HTTPX_UNCAPPED_LIMITS`). Nothing asks the caller which loop it runs.
2. Nothing happens at construction: the SSL context, the aiohttp import and the session
   are made at the first request, on the loop that sends it.
3. A session belongs to its loop, and is closed on it: by ``aclose()``, when the loop
   shuts down, or when the transport is garbage-collected without ``aclose()`` (see
   :func:`_guard`). A request from another loop (a second ``asyncio.run``) gets a new
   session. None of these leaves a socket open or warns about an unclosed session.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Final

import httpx2

from ._base import HTTPX_UNCAPPED_LIMITS, PoolStats

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AIOHTTP_LIMITS", "AiohttpTransport"]

#: aiohttp's pool: no cap on connections (its cost per request does not grow with them);
#: idle ones are kept 5 s, as httpx2 keeps them.
AIOHTTP_LIMITS: Final = httpx2.Limits(max_connections=None, keepalive_expiry=5.0)


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """An ``httpx2`` async transport that sends with aiohttp on asyncio (see the module doc).

    ::

        client = httpx2.AsyncClient(transport=AiohttpTransport())

    ``verify`` is httpx2's (True, False or an ``ssl.SSLContext``); ``limits`` bound the
    aiohttp pool (``max_connections``, ``keepalive_expiry``; ``None`` connections means no
    cap). On a loop other than asyncio, requests go through ``httpx2.AsyncHTTPTransport``
    with ``fallback_limits``. aiohttp has no write timeout: httpx2's ``write`` timeout is
    not applied to requests sent with it.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        trust_env: bool = True,
        limits: httpx2.Limits = AIOHTTP_LIMITS,
        fallback_limits: httpx2.Limits = HTTPX_UNCAPPED_LIMITS,
    ) -> None:
        self._verify = verify
        self._trust_env = trust_env
        self._limits = limits
        self._fallback_limits = fallback_limits
        self._ssl_context: ssl.SSLContext | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guard: AsyncGenerator[None] | None = None
        self._fallback: httpx2.AsyncHTTPTransport | None = None
        self._send: Callable[
            [aiohttp.ClientSession, httpx2.Request], Awaitable[httpx2.Response]
        ] = _unopened

    def __repr__(self) -> str:
        state = "open" if self._session is not None else "idle"
        return f"<AiohttpTransport {state} max_connections={self._limits.max_connections}>"

    def _ssl(self) -> ssl.SSLContext:
        context = self._ssl_context
        if context is None:
            context = self._ssl_context = httpx2.create_ssl_context(
                verify=self._verify, trust_env=self._trust_env
            )
        return context

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send ``request`` and return the response with its body still unread."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return await self._httpx_transport().handle_async_request(request)
        session = self._session
        if session is None or self._loop is not loop:
            session = await self._open(loop)
        return await self._send(session, request)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        from . import _aiohttp

        self._send = _aiohttp.send
        session = self._session = _aiohttp.open_session(self._ssl(), self._limits)
        self._loop = loop
        # Rule 3. A session on another loop is left to its guard: closed already if that
        # loop was shut down, or when the guard is collected (on its own loop).
        guard = self._guard = _guard(session)
        await guard.asend(None)
        return session

    def _httpx_transport(self) -> httpx2.AsyncHTTPTransport:
        transport = self._fallback
        if transport is None:
            transport = self._fallback = httpx2.AsyncHTTPTransport(
                verify=self._ssl(), limits=self._fallback_limits
            )
        return transport

    def pool_stats(self) -> PoolStats:
        """How many connections this transport holds now, over both of its pools (the
        aiohttp session of the current loop, httpx2's pool on other loops); for tests and
        diagnostics."""
        in_use = idle = 0
        session = self._session
        if session is not None:
            from . import _aiohttp

            in_use, idle = _aiohttp.pool_stats(session)
        pool = getattr(self._fallback, "_pool", None)
        for connection in getattr(pool, "connections", ()):
            if connection.is_idle():
                idle += 1
            else:
                in_use += 1
        return PoolStats(in_use, idle)

    async def aclose(self) -> None:
        """Close every connection this transport holds."""
        guard, self._guard = self._guard, None
        fallback, self._fallback = self._fallback, None
        self._session = self._loop = None
        try:
            if guard is not None:
                await guard.aclose()
        finally:
            if fallback is not None:
                await fallback.aclose()


async def _guard(session: aiohttp.ClientSession) -> AsyncGenerator[None]:
    """Closes ``session`` on its loop when its transport closes it, when the loop shuts
    down, or when the transport is garbage-collected (rule 3).

    An async generator, because asyncio already finalizes those at all three moments:
    ``aclose()``; ``loop.shutdown_asyncgens()``, which ``asyncio.run`` (and uvloop's and
    anyio's runners) call before closing the loop; and the loop's finalizer hook, which
    schedules ``aclose()`` on the loop when one is collected unfinished.
    """
    try:
        yield
    finally:
        await session.close()


async def _unopened(session: aiohttp.ClientSession, request: httpx2.Request) -> httpx2.Response:
    raise AssertionError("no session was opened")  # pragma: no cover - _open sets _send
