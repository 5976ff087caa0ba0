"""EventStreamAsync: the async twin, which reads bytes and releases the response."""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import NoReturn, TypeVar

import anyio
import anyio.lowlevel
import httpx2

from ..errors import APIConnectionError, StreamError
from ._aclose import abort_body, schedule_aclose, uncancellable
from ._body import AsyncRead, async_chunks, async_direct_reader
from ._core import (
    CLOSE_WAIT,
    CLOSED,
    DEADLINE,
    DRAIN_MAX_BYTES,
    DRAIN_TIMEOUT,
    FAIRNESS_MASK,
    Ended,
    StreamCore,
)
from ._interrupt import own_socket, shutdown_socket

__all__ = ["EventStreamAsync"]

T = TypeVar("T")

_monotonic = time.monotonic


class EventStreamAsync(StreamCore[T]):
    """The async twin of :class:`EventStream`, over a response from ``httpx2.AsyncClient``.

    ::

        async with client.stream("POST", url, json=body) as response:
            async with EventStreamAsync(response, decode, sentinel="[DONE]") as s:
                async for chunk in s:
                    ...

    Everything :class:`EventStream` documents holds, with ``aclose()`` for ``close()``.
    Works on asyncio and trio (through anyio).

    ``aclose()`` may be called from another task at any time: a consumer awaiting the next
    event is woken and its ``__anext__`` raises :class:`~levante.errors.StreamClosed`;
    later calls raise ``StopAsyncIteration``. ``aclose()`` releases the connection even
    when cancelled, is safe to call twice, and re-raises the cancellation. Cancelling the
    consumer (task cancel, cancel scopes, ``asyncio.timeout``) releases the connection
    before the cancellation propagates.

    Fairness: before every 32nd event decoded from one read, the stream yields to the event
    loop, so a stream with a large backlog cannot starve the other tasks.
    """

    _byte_stream = httpx2.AsyncByteStream
    _wrong_client = (
        "EventStreamAsync needs a response from an httpx2.AsyncClient; "
        "use EventStream for a sync Client response"
    )

    def _init_io(self, response: httpx2.Response) -> None:
        # The generic reader's generator, created at the first read (see _read).
        self._chunks: AsyncGenerator[bytes] | None = None
        self._read_chunk: AsyncRead | None = async_direct_reader(response)
        # Whether aclose() can wake a read by shutting the socket down (see _read).
        self._socket_wakes = own_socket(response) is not None
        self._reading = False
        self._scope: anyio.CancelScope | None = None
        self._interrupt: str | None = None
        self._released_event: anyio.Event | None = None
        # The event loop to close the response on if the stream is garbage collected.
        try:
            self._token: object = anyio.lowlevel.current_token().native_token
        except Exception:
            self._token = None

    def __aiter__(self) -> EventStreamAsync[T]:
        return self

    async def __aenter__(self) -> EventStreamAsync[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def __anext__(self) -> T:
        pos = self._pos
        pending = self._pending
        if pos < len(pending):
            if pos & FAIRNESS_MASK == FAIRNESS_MASK:
                await self._fair_checkpoint()
            self._pos = pos + 1
            try:
                return self._convert(pending[pos])
            except Ended:
                await self._drain()
                raise StopAsyncIteration from None
            except BaseException:
                await self._release()
                raise
        return await self._next_slow()

    async def _fair_checkpoint(self) -> None:
        try:
            await anyio.lowlevel.checkpoint()
        except BaseException:
            await self._release()
            raise
        if self._closed:
            # aclose() ran in another task while we were yielding: this call was waiting.
            await self._release()
            raise self._closed_error()

    async def _next_slow(self) -> T:
        while True:
            if self._error is not None:
                await self._release()
                raise self._take_error()
            if self._closed:
                raise StopAsyncIteration
            if self._complete:
                await self._drain()  # after a terminal event
                raise StopAsyncIteration
            deadline = self._deadline
            if deadline is None and self._idle_timeout is not None:
                deadline = self._next_deadline()
            data = await self._read(deadline)
            if data is None:
                try:
                    self._finish_body()
                finally:
                    await self._release()
                raise StopAsyncIteration
            events = self._feed(data)
            if events:
                # The fast path of __anext__, inlined: at one event per read this runs
                # once per event.
                self._pos = 1
                try:
                    return self._convert(events[0])
                except Ended:
                    await self._drain()
                    raise StopAsyncIteration from None
                except BaseException:
                    await self._release()
                    raise

    async def _read(self, deadline: float | None) -> bytes | None:
        """One read of the body; None at its end. Releases the response before raising.

        ``aclose()`` from another task must wake a read in progress. Over HTTP/1.1 it shuts
        the socket down, which the event loop sees as the end of the body, so a plain read
        needs nothing per call. A cancel scope (a few microseconds per read on asyncio,
        more on trio) is entered only for reads with a deadline, or when there is no
        socket of our own to shut down (HTTP/2, in-process transports).
        """
        if self._closed:
            await self._release()
            raise StopAsyncIteration
        read = self._read_chunk
        if read is None:
            chunks = self._chunks = async_chunks(self._response)
            read = self._read_chunk = chunks.__anext__
        if deadline is None and self._socket_wakes:
            self._reading = True
            try:
                data = await read()
            except StopAsyncIteration:
                data = None
            except BaseException as exc:
                self._reading = False
                await self._read_failed(exc)
            self._reading = False
            if self._interrupt is not None:
                raise await self._read_interrupted()
            return data
        return await self._read_in_scope(read, deadline)

    async def _read_in_scope(self, read: AsyncRead, deadline: float | None) -> bytes | None:
        if deadline is None:
            scope = anyio.CancelScope()
        else:
            remaining = deadline - _monotonic()
            if remaining <= 0:
                await self._release()
                raise self._timeout_error()
            scope = anyio.CancelScope(deadline=anyio.current_time() + remaining)
        self._scope = scope
        self._reading = True
        data: bytes | None = None
        try:
            with scope:
                try:
                    data = await read()
                except StopAsyncIteration:
                    data = None
        except BaseException as exc:
            self._reading = False
            self._scope = None
            await self._read_failed(exc)
        self._reading = False
        self._scope = None
        if scope.cancelled_caught and self._interrupt is None:
            self._interrupt = DEADLINE
        if self._interrupt is not None:
            raise await self._read_interrupted()
        return data

    async def _read_failed(self, exc: BaseException) -> NoReturn:
        """Release after a failed read and raise what the stream reports instead."""
        interrupt = self._interrupt
        await self._release()
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            raise exc  # an outer cancellation (a scope of ours swallows its own)
        if interrupt == CLOSED:
            raise self._closed_error() from None
        if isinstance(exc, httpx2.RequestError):
            raise self._transport_error(exc) from exc
        raise exc

    async def _read_interrupted(self) -> StreamError:
        """Release after a read that aclose() or a deadline cut short."""
        interrupt = self._interrupt
        await self._release()
        if interrupt == CLOSED:
            return self._closed_error()
        return self._timeout_error()

    async def _drain(self) -> None:
        """After the sentinel: read what is left of the body, within bounds, then release."""
        budget = DRAIN_MAX_BYTES
        deadline = time.monotonic() + DRAIN_TIMEOUT
        try:
            while budget >= 0:
                data = await self._read(deadline)
                if data is None:
                    break
                self._bytes += len(data)
                budget -= len(data)
        except (StopAsyncIteration, StreamError, APIConnectionError):
            pass  # already released; the connection is simply not reused
        await self._release()

    async def _release(self) -> None:
        """Close the response (idempotent), shielded from cancellation."""
        if self._released:
            return
        self._released = True
        self._closed = True
        self._t_end = time.monotonic()
        # Events decoded but not yet delivered are dropped with the stream.
        self._pending = []
        chunks = self._chunks
        try:
            if not self._response.is_closed or (
                chunks is not None and getattr(chunks, "ag_frame", None) is not None
            ):
                with anyio.CancelScope(shield=True):
                    await uncancellable(self._close_response(chunks, self._reading))
            # else: the body was read to its end, which closed the response already.
        finally:
            self._release_finished = True
            event = self._released_event
            if event is not None:
                event.set()

    async def _close_response(self, chunks: AsyncGenerator[bytes] | None, reading: bool) -> None:
        try:
            if chunks is not None and not reading:
                await abort_body(chunks)
            await self._response.aclose()
        except (httpx2.HTTPError, OSError):
            pass  # closing is best effort: the connection is dropped either way

    async def aclose(self) -> None:
        """Release the connection now. Idempotent; safe from any task at any time.

        If another task is awaiting the next event, it is woken (its ``__anext__`` raises
        :class:`~levante.errors.StreamClosed`) and this call waits until it has released
        the connection. The connection is released even if this call is cancelled, and
        the cancellation is re-raised.
        """
        self._closed = True
        if not self._release_finished:
            if self._reading and not self._released:
                if self._interrupt is None:
                    self._interrupt = CLOSED
                scope = self._scope
                if scope is not None:
                    scope.cancel()
                else:
                    shutdown_socket(self._response)
            if self._reading or self._released:
                # Another task is leaving its read, or releasing: it sets the event when
                # done. This wait may be cancelled without leaking anything, since that
                # task releases the connection whether or not anyone waits for it.
                event = self._released_event
                if event is None:
                    event = self._released_event = anyio.Event()
                with anyio.move_on_after(CLOSE_WAIT):
                    await event.wait()
            await self._release()
        await anyio.lowlevel.checkpoint_if_cancelled()

    def __del__(self) -> None:
        if getattr(self, "_released", True):
            return
        self._released = True
        try:
            schedule_aclose(self._token, self._chunks, self._response)
        finally:
            warnings.warn(
                f"unclosed {self!r}: use 'async with' or await aclose()",
                ResourceWarning,
                stacklevel=2,
                source=self,
            )
