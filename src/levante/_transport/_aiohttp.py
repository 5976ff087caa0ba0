"""Sending an ``httpx2.Request`` with aiohttp, and reading its response body.

Imported only once a request is sent on asyncio (aiohttp costs a fifth of a second to
import; sync-only and trio programs never pay it).

Design rules (keep them when changing this module):

1. aiohttp only moves bytes. httpx2 builds the request (headers, cookies, auth, body) and
   decodes the response (content encoding, charset), so aiohttp adds no header, keeps no
   cookie, follows no redirect, decompresses nothing and reads nothing from the
   environment (``trust_env`` would look up proxies and ``.netrc`` in a thread for every
   request).
2. Every aiohttp error leaves as the httpx2 error httpx2's own transport raises in the same
   situation (:func:`httpx_error`), so retries and levante's error mapping do not depend
   on the transport.
3. httpx2's timeouts mean what they mean there: ``connect`` bounds opening a connection
   (aiohttp's ``sock_connect``), ``read`` bounds each wait for bytes, response head
   included (``sock_read``), ``pool`` plus ``connect`` bound getting a connection at all.
   aiohttp has no write timeout: a request body is written without one. Past the head,
   the body's ``read`` timeout is kept by one timer per body that looks every quarter of
   it (``_read_timeout``), not by aiohttp's, which is re-armed at every chunk: a stalled
   body fails 1x to 1.25x the timeout after its last bytes.
4. A body is read with one ``read(READ_SIZE)`` per chunk: it returns what is buffered, up
   to 64 KiB, so a stream that falls behind catches up in few reads. A body read to its
   end gives its connection back to the pool at once (aiohttp does so at the end of the
   payload); a body closed before its end closes its connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any, Final

import aiohttp
import httpx2
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict

from ._base import READ_SIZE, AsyncRead, DirectByteStream, FlatRead, PoolStats, shut_down
from ._read_timeout import BodyWatch, watch_body

__all__ = [
    "AiohttpResponseStream",
    "httpx_error",
    "open_session",
    "pool_stats",
    "send",
]


# The headers aiohttp would add when the request lacks them; httpx2 has already set the
# ones it wants (rule 1).
_SKIP_AUTO_HEADERS: Final = frozenset({"Accept", "Accept-Encoding", "User-Agent", "Content-Type"})

#: aiohttp errors -> httpx2 errors, most specific first (rule 2).
_ERRORS: Final[tuple[tuple[type[BaseException], type[httpx2.TransportError]], ...]] = (
    (aiohttp.ConnectionTimeoutError, httpx2.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx2.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx2.ReadTimeout),
    (aiohttp.ClientProxyConnectionError, httpx2.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx2.ProxyError),
    (aiohttp.ClientConnectorError, httpx2.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx2.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx2.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx2.RemoteProtocolError),
    (HttpProcessingError, httpx2.RemoteProtocolError),
    (aiohttp.NonHttpUrlClientError, httpx2.UnsupportedProtocol),
    (aiohttp.InvalidURL, httpx2.UnsupportedProtocol),
    (aiohttp.ClientOSError, httpx2.ReadError),
    (aiohttp.ClientConnectionError, httpx2.ReadError),
    (asyncio.TimeoutError, httpx2.ReadTimeout),
    (aiohttp.ClientError, httpx2.TransportError),
)
#: What a send or a read may raise that :func:`httpx_error` maps.
MAPPED: Final = (aiohttp.ClientError, HttpProcessingError, asyncio.TimeoutError)


def httpx_error(exc: BaseException) -> httpx2.TransportError:
    """The httpx2 error standing for aiohttp's ``exc`` (rule 2)."""
    for source, target in _ERRORS:
        if isinstance(exc, source):
            message = str(exc) or type(exc).__name__
            return target(message)
    return httpx2.TransportError(str(exc) or type(exc).__name__)


def read_error(exc: BaseException) -> BaseException:
    """What a body read raising ``exc`` raises instead (rule 2); anything aiohttp would
    not raise (a cancellation, an interrupt) is itself."""
    if isinstance(exc, MAPPED):
        error: BaseException = httpx_error(exc)
    elif isinstance(exc, RuntimeError):
        # aiohttp's reader found its connection already gone: a lost connection.
        error = httpx2.ReadError(str(exc))
    else:
        return exc
    error.__cause__ = exc
    return error


def open_session(
    ssl_context: ssl.SSLContext, limits: httpx2.Limits, *, max_field_size: int = 65536
) -> aiohttp.ClientSession:
    """A session for one event loop (call it on that loop), with a pool of ``limits``.

    aiohttp's pool finds a connection by its key in a dict and counts the ones in use, so
    the cost of a request does not grow with the number of open connections.
    """
    connector = aiohttp.TCPConnector(
        ssl=ssl_context,
        limit=limits.max_connections or 0,  # 0: no cap
        limit_per_host=0,
        keepalive_timeout=limits.keepalive_expiry,
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
        skip_auto_headers=_SKIP_AUTO_HEADERS,
        # httpcore2 accepts response heads much larger than aiohttp's 8 KB default lines.
        max_line_size=max_field_size,
        max_field_size=max_field_size,
    )


def pool_stats(session: aiohttp.ClientSession) -> PoolStats:
    """The connections ``session``'s pool holds (aiohttp has no public count of them)."""
    connector = session.connector
    if connector is None or connector.closed:
        return PoolStats(0, 0)
    acquired = getattr(connector, "_acquired", ())
    idle = getattr(connector, "_conns", {})
    return PoolStats(len(acquired), sum(len(conns) for conns in idle.values()))


_TIMEOUTS: dict[tuple[Any, Any, Any], aiohttp.ClientTimeout] = {}


def _timeout(extensions: dict[str, Any]) -> aiohttp.ClientTimeout:
    """aiohttp's timeout for httpx2's ``timeout`` request extension (rule 3), cached."""
    config = extensions.get("timeout") or {}
    connect = config.get("connect")
    read = config.get("read")
    pool = config.get("pool")
    key = (connect, read, pool)
    timeout = _TIMEOUTS.get(key)
    if timeout is None:
        acquire = None if connect is None or pool is None else connect + pool
        timeout = aiohttp.ClientTimeout(
            total=None, connect=acquire, sock_connect=connect, sock_read=read
        )
        if len(_TIMEOUTS) < 64:  # a handful of distinct settings in any real program
            _TIMEOUTS[key] = timeout
    return timeout


async def _body_chunks(request: httpx2.Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream:  # type: ignore[union-attr]
        yield chunk


def _headers(headers: httpx2.Headers) -> CIMultiDict[str]:
    # The names as given, not lowercased: what goes on the wire is what httpx2 would send.
    # aiohttp writes header lines as UTF-8.
    return CIMultiDict(
        (name.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
        for name, value in headers.raw
    )


async def send(session: aiohttp.ClientSession, request: httpx2.Request) -> httpx2.Response:
    """Send ``request`` on ``session``; the response head is read, the body is not."""
    data: Any
    try:
        data = request.content or None
    except httpx2.RequestNotRead:
        # A streamed body (a multipart upload, say): streamed on, with the length httpx2
        # computed, or chunked where it had none.
        data = _body_chunks(request)
    extensions = request.extensions
    timeout = _timeout(extensions)
    try:
        response = await session.request(
            request.method,
            str(request.url),
            headers=_headers(request.headers),
            data=data,
            allow_redirects=False,
            timeout=timeout,
            server_hostname=extensions.get("sni_hostname"),
        )
    except MAPPED as exc:
        raise httpx_error(exc) from exc
    connection = response.connection
    if connection is not None and connection.protocol is not None:
        _fail_body_with_protocol(connection.protocol, response.content)
    stream = AiohttpResponseStream(response, watch_body(response, timeout.sock_read))
    return httpx2.Response(
        status_code=response.status,
        headers=response.raw_headers,
        stream=stream,
        extensions={
            "http_version": b"HTTP/1.1",
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            "network_stream": _NetworkStream(response),
        },
    )


def _fail_body_with_protocol(protocol: Any, body: aiohttp.StreamReader) -> None:
    """Make a parse error in the body reach the body's reader.

    aiohttp's compiled parser (3.14) reports an invalid chunk in the middle of a body to
    the connection's protocol only: the body's reader is neither failed nor ended, and
    the read timeout is dropped, so a read waits forever (a hostile server's invalid
    chunk size held a stream for good). The protocol's ``set_exception`` is wrapped, on
    this connection and for this body, to fail the body as well.
    """
    fail_protocol = type(protocol).set_exception

    def set_exception(*args: Any) -> None:
        fail_protocol(protocol, *args)
        if not body.is_eof() and body.exception() is None:
            body.set_exception(*args)

    protocol.set_exception = set_exception


class _Socket:
    """A connection's socket as the ``socket`` extra gives it: everything delegated but
    ``shutdown``, which works on uvloop too."""

    __slots__ = ("_sock",)

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def shutdown(self, how: int) -> None:
        shut_down(self._sock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _NetworkStream:
    """httpx2's ``network_stream`` extension: the socket, so a blocked read can be woken by
    shutting it down (the stream layer's ``aclose`` does that)."""

    __slots__ = ("_transport",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        connection = response.connection
        self._transport = None if connection is None else connection.transport

    def get_extra_info(self, name: str) -> Any:
        transport = self._transport
        info = None if transport is None else transport.get_extra_info(name)
        return _Socket(info) if name == "socket" and info is not None else info


class AiohttpResponseStream(DirectByteStream):
    """The body of an aiohttp response, as an httpx2 byte stream (rule 4)."""

    __slots__ = ("_response", "_watch")

    def __init__(self, response: aiohttp.ClientResponse, watch: BodyWatch | None = None) -> None:
        self._response = response
        self._watch = watch  # the body's read timeout, if levante keeps it (rule 3)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = self.direct_reader()
        while True:
            try:
                chunk = await read()
            except StopAsyncIteration:
                return
            yield chunk
            # A read of buffered bytes does not yield to the loop, so without a checkpoint
            # a cancellation (an abort of the iteration) would wait for the whole body.
            await asyncio.sleep(0)

    def direct_reader(self) -> AsyncRead:
        """One ``read()`` per call, errors mapped (rule 2); StopAsyncIteration at the end."""
        content_read = self._response.content.read

        async def read() -> bytes:
            try:
                chunk = await content_read(READ_SIZE)
            except BaseException as exc:
                error = read_error(exc)
                if error is exc:
                    raise
                raise error from exc
            if chunk:
                return chunk
            raise StopAsyncIteration

        return read

    def flat_reader(self) -> FlatRead:
        """aiohttp's own ``read``, and :func:`read_error` to map its errors."""
        return self._response.content.read, read_error

    def finished(self) -> bool:
        """The end of the body was read and nothing is left buffered."""
        return self._response.content.at_eof()

    async def aclose(self) -> None:
        # Nothing here awaits when the body is finished (see finished()): the stream layer
        # relies on that to release a finished body without a shielded task.
        response = self._response
        watch = self._watch
        if watch is not None:
            watch.stop()
        if response.content.is_eof():
            response.release()  # read to its end: the connection is reusable
            return
        # Unread bytes left: the connection cannot be reused. asyncio closes a socket only
        # at its loop's next turn; shutting it down first tells the server now, as
        # httpx2's own transport does by closing the socket within aclose().
        connection = response.connection
        transport = None if connection is None else connection.transport
        sock = None if transport is None else transport.get_extra_info("socket")
        if sock is not None:
            shut_down(sock)
        response.close()
