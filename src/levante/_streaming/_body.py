"""How a stream reads its response body: one chunk of bytes per call.

At one event per read, the read is most of what a stream costs. A response from httpx2's
own transport passes every chunk up through five generators (httpx2's bound stream and
response stream, httpcore2's pool stream and connection stream, the connection's body
generator), each resumed per chunk, around one ``h11`` event. So for the plain case the
stream drives the connection's ``h11`` state machine itself, exactly as httpcore2's body
generator does, and the chain is only used to close the response afterwards.

Design rules (keep them when changing this module):

1. The direct reader is taken only when the whole chain is exactly the known httpcore2 /
   httpx2 types (HTTP/1.1 connection, pool, transport, client), the body is unread and
   has no Content-Encoding, and httpcore2 would not trace the read (no ``trace``
   extension, its logger not at DEBUG). Anything else, any other version of those
   internals included, takes the generic path: the response's own byte iterator.
2. It reads what the generic path reads, raises what it raises (httpcore2's errors mapped
   to httpx2's, as httpx2's transport does), and leaves the ``h11`` state where the body
   generator would, so closing the response afterwards returns a fully read connection to
   the pool and drops any other, as usual.
3. Opening a reader does no I/O and starts nothing; a reader that is never called needs
   no cleanup of its own beyond closing the response.
4. A transport whose byte stream is a :class:`~levante._transport.DirectByteStream`
   (levante's aiohttp transport) reads its own bodies one call per chunk: an async
   response from it, under exactly httpx2's client wrapper, with a plain unread body,
   is read through that reader, with the same marking as consumed.
5. An async direct read also comes flat (:func:`async_readers`): the transport's own
   read, with no coroutine of levante's around it, for the stream's hot loop. It reads
   what the direct reader reads; only where its end and its errors are told differs.
"""

from __future__ import annotations

import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Iterator,
)
from typing import Any

import h11
import httpcore2
import httpx2

from .._transport import READ_SIZE, DirectByteStream, FlatRead

__all__ = [
    "AsyncRead",
    "FlatRead",
    "SyncRead",
    "async_chunks",
    "async_direct_reader",
    "async_readers",
    "body_finished",
    "sync_chunks",
    "sync_direct_reader",
]

#: One read of the body: the next chunk, or None at its end.
SyncRead = Callable[[], "bytes | None"]
#: One read of an async body: the next chunk; raises StopAsyncIteration at its end.
AsyncRead = Callable[[], Coroutine[Any, Any, bytes]]

_NEED_DATA = h11.NEED_DATA
_PAUSED = h11.PAUSED
_Data = h11.Data
_EndOfMessage = h11.EndOfMessage
# What a body read may raise below httpx2, which its transport maps to httpx2's errors.
_READ_ERRORS = (
    h11.RemoteProtocolError,
    httpcore2.TimeoutException,
    httpcore2.NetworkError,
    httpcore2.ProtocolError,
)
# httpcore2 traces a body read through this logger (see rule 1).
_TRACE_LOGGER = logging.getLogger("httpcore2.http11")


def _chain_types() -> tuple[tuple[type[Any], ...], tuple[type[Any], ...]] | None:
    """The exact types of the sync and async chains, or None if these internals moved."""
    try:
        from httpcore2._async.connection_pool import PoolByteStream as AsyncPoolStream
        from httpcore2._async.http11 import HTTP11ConnectionByteStream as AsyncConnStream
        from httpcore2._sync.connection_pool import PoolByteStream as SyncPoolStream
        from httpcore2._sync.http11 import HTTP11ConnectionByteStream as SyncConnStream
        from httpx2._client import BoundAsyncStream, BoundSyncStream
        from httpx2._transports.default import AsyncResponseStream, ResponseStream
    except ImportError:
        return None
    return (
        (
            BoundSyncStream,
            ResponseStream,
            SyncPoolStream,
            SyncConnStream,
            httpcore2.HTTP11Connection,
        ),
        (
            BoundAsyncStream,
            AsyncResponseStream,
            AsyncPoolStream,
            AsyncConnStream,
            httpcore2.AsyncHTTP11Connection,
        ),
    )


_CHAINS = _chain_types()


def _plain_body(response: httpx2.Response) -> bool:
    """Whether the raw body is the body: no Content-Encoding to undo, nothing read yet."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    return (
        encoding in ("", "identity") and not response.is_stream_consumed and not response.is_closed
    )


def _connection(response: httpx2.Response, chain: tuple[type[Any], ...]) -> tuple[Any, Any] | None:
    """The httpcore2 HTTP/1.1 connection and request behind ``response``, if the chain
    from the response down to it is exactly ``chain`` and the read would not be traced."""
    if not _plain_body(response):
        return None
    bound, transport, pool, conn_stream, connection_type = chain
    try:
        stream: Any = response.stream
        if type(stream) is not bound:
            return None
        stream = stream._stream
        if type(stream) is not transport:
            return None
        stream = stream._httpcore_stream
        if type(stream) is not pool:
            return None
        stream = stream._stream
        if type(stream) is not conn_stream or stream._closed:
            return None
        connection = stream._connection
        request = stream._request
        if type(connection) is not connection_type:
            return None
        if connection._h11_state.their_state is not h11.SEND_BODY:
            return None
        if "trace" in request.extensions or _TRACE_LOGGER.isEnabledFor(logging.DEBUG):
            return None
    except AttributeError:
        return None
    return connection, request


def _httpx_error(exc: Exception) -> httpx2.TransportError:
    """httpcore2's (or h11's) error as the httpx2 error its transport would raise."""
    if isinstance(exc, h11.RemoteProtocolError):
        return httpx2.RemoteProtocolError(str(exc))
    # httpx2 mirrors httpcore2's exception names, each under TransportError.
    mapped = getattr(httpx2, type(exc).__name__, None)
    if isinstance(mapped, type) and issubclass(mapped, httpx2.TransportError):
        return mapped(str(exc))
    return httpx2.TransportError(str(exc))


def _direct_parts(response: httpx2.Response, sync: bool) -> tuple[Any, ...] | None:
    """What a direct reader needs from ``response``'s connection, or None (see rule 1)."""
    if _CHAINS is None:
        return None
    found = _connection(response, _CHAINS[0 if sync else 1])
    if found is None:
        return None
    connection, request = found
    state = connection._h11_state
    timeouts = request.extensions.get("timeout", {})
    response.is_stream_consumed = True
    return (
        state.next_event,
        state.receive_data,
        connection._network_stream.read,
        connection.READ_NUM_BYTES,
        timeouts.get("read", None),
    )


def sync_direct_reader(response: httpx2.Response) -> SyncRead | None:
    """A reader driving ``response``'s ``h11`` connection directly, or None (see rule 1).

    Taking it marks the response consumed, as ``iter_raw()`` would.
    """
    parts = _direct_parts(response, sync=True)
    if parts is None:
        return None
    next_event, receive_data, network_read, size, timeout = parts
    ended = False

    def read() -> bytes | None:
        nonlocal ended
        while True:
            try:
                event = next_event()
                if event is _NEED_DATA:
                    if ended:
                        return None
                    receive_data(network_read(size, timeout))
                    continue
            except _READ_ERRORS as exc:
                raise _httpx_error(exc) from exc
            if type(event) is _Data:
                return bytes(event.data)
            if event is _PAUSED or type(event) is _EndOfMessage:
                # Past its end h11 waits for the next response: the end must stay the end.
                ended = True
                return None
            # Anything else (none is expected in a body) is skipped, as httpcore2 does.

    return read


def _own_stream(response: httpx2.Response) -> DirectByteStream | None:
    """The transport's byte stream with a reader of its own (rule 4), under exactly
    httpx2's client wrapper, or None."""
    stream: Any = response.stream
    if _CHAINS is None or type(stream) is not _CHAINS[1][0]:  # httpx2's BoundAsyncStream
        return None
    inner = getattr(stream, "_stream", None)
    return inner if isinstance(inner, DirectByteStream) else None


def body_finished(response: httpx2.Response) -> Callable[[], bool] | None:
    """For a body from a transport with a reader of its own (rule 4): whether it was read
    to its end, so that closing it waits for nothing. None for any other body."""
    inner = _own_stream(response)
    return None if inner is None else inner.finished


def async_direct_reader(response: httpx2.Response) -> AsyncRead | None:
    """The async twin of :func:`sync_direct_reader`; its end is StopAsyncIteration.

    A body from a transport with a reader of its own (levante's aiohttp transport) is
    read with that reader instead (rule 4).
    """
    return async_readers(response)[0]


def async_readers(response: httpx2.Response) -> tuple[AsyncRead | None, FlatRead | None]:
    """:func:`async_direct_reader`'s reader, and the same reads flattened (rule 5).

    Both are None for the generic path. The flat read of a transport with a reader of its
    own is the transport's (``b""`` at the end, its errors mapped by the second callable);
    for httpx2's own transport it is the direct reader itself, whose errors are already
    httpx2's and whose end is StopAsyncIteration.
    """
    inner = _own_stream(response)
    if inner is not None:
        if not _plain_body(response):
            return None, None
        response.is_stream_consumed = True
        return inner.direct_reader(), inner.flat_reader()
    parts = _direct_parts(response, sync=False)
    if parts is None:
        return None, None
    next_event, receive_data, network_read, size, timeout = parts
    ended = False

    async def read(_size: int = READ_SIZE) -> bytes:
        # The size is the flat read's (FlatRead); h11 hands over what it has, up to the
        # network read's own size.
        nonlocal ended
        while True:
            try:
                event = next_event()
                if event is _NEED_DATA:
                    if ended:
                        raise StopAsyncIteration
                    receive_data(await network_read(size, timeout))
                    continue
            except _READ_ERRORS as exc:
                raise _httpx_error(exc) from exc
            if type(event) is _Data:
                if event.data:  # never empty: to a flat read, empty is the end
                    return bytes(event.data)
            elif event is _PAUSED or type(event) is _EndOfMessage:
                ended = True
                raise StopAsyncIteration

    return read, (read, _unmapped)


def _unmapped(exc: BaseException) -> BaseException:
    return exc


def sync_chunks(response: httpx2.Response) -> Generator[bytes]:
    """The generic path: the transport's byte stream, or ``iter_bytes()`` to decode.

    Always a generator, so the stream can close it, whatever the transport's ``__iter__``
    returns.
    """
    if _plain_body(response):
        stream = response.stream
        if isinstance(stream, httpx2.SyncByteStream):
            # Without iter_raw's generator layers, and marked consumed as iter_raw would,
            # so a second reader gets StreamConsumed, not half a body.
            response.is_stream_consumed = True
            return _as_generator(iter(stream))
    return _as_generator(response.iter_bytes())


def async_chunks(response: httpx2.Response) -> AsyncGenerator[bytes]:
    """The async twin of :func:`sync_chunks`."""
    if _plain_body(response):
        stream = response.stream
        if isinstance(stream, httpx2.AsyncByteStream):
            response.is_stream_consumed = True
            return _as_async_generator(aiter(stream))
    return response.aiter_bytes()


def _as_generator(chunks: Iterator[bytes]) -> Generator[bytes]:
    return chunks if isinstance(chunks, Generator) else _generator(chunks)


def _generator(chunks: Iterator[bytes]) -> Generator[bytes]:
    yield from chunks


def _as_async_generator(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes]:
    return chunks if isinstance(chunks, AsyncGenerator) else _async_generator(chunks)


async def _async_generator(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes]:
    async for chunk in chunks:
        yield chunk
