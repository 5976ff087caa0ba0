"""EventStreamAsync: the async twin, which reads bytes and releases the response."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import AsyncGenerator, Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import anyio
import anyio.lowlevel
import httpx2

from .._transport import READ_SIZE
from ._aclose import abort_body, schedule_aclose, uncancellable
from ._base import BaseEventStream
from ._body import AsyncRead, async_chunks, async_readers, body_finished
from ._interrupt import own_socket, shutdown_socket
from ._state import (
    CHECKPOINT,
    CLOSE_WAIT,
    CLOSED,
    DEADLINE,
    DRAIN,
    FAIL,
    FAIRNESS_MASK,
    LOST,
    READ,
    STOP,
    State,
    Step,
)

__all__ = ["EventStreamAsync"]

# A member looked up on an enum class costs ~1 us (EnumType attribute access), more
# than a whole read at times: paths that run per read use these names.
_CLOSING = State.CLOSING
_RELEASING = State.RELEASING
_RELEASED = State.RELEASED

T = TypeVar("T")
R = TypeVar("R")

_monotonic = time.monotonic
_running_asyncio_loop = asyncio._get_running_loop


class EventStreamAsync(BaseEventStream[T]):
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
    _fair_mask = FAIRNESS_MASK

    def _init_io(self, response: httpx2.Response) -> None:
        self._set_reader(response)
        self._reading = False
        self._scope: anyio.CancelScope | None = None
        self._released_event: anyio.Event | None = None
        # The event loop to close the response on if the stream is garbage collected. On
        # asyncio that is the running loop, found in 0.4 us; anyio's token costs 12 us,
        # which at thousands of streams opened at once is worth saving.
        self._token: object = _running_asyncio_loop()
        if self._token is None:
            try:
                self._token = anyio.lowlevel.current_token().native_token
            except Exception:
                self._token = None

    def _set_reader(self, response: httpx2.Response) -> None:
        # The generic reader's generator, created at the first read (see _read).
        self._chunks: AsyncGenerator[bytes] | None = None
        direct, flat = async_readers(response)
        self._read_chunk: AsyncRead | None = direct
        # Whether the body was read to its end, for transports that can tell (see _release).
        self._finished = body_finished(response)
        # Whether aclose() can wake a read by shutting the socket down (see _read).
        self._socket_wakes = own_socket(response) is not None
        # The read __anext__ makes itself when no cancel scope is needed (see there), and
        # what maps its errors; two attributes, not the pair, for one object less per read.
        self._flat: Callable[[int], Awaitable[bytes]] | None = None
        self._flat_error: Callable[[BaseException], BaseException] | None = None
        if flat is not None and self._socket_wakes:
            self._flat, self._flat_error = flat

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
        # The hot loop. Delivering a pending event, which is _step's first branch, is
        # inlined as in the sync twin (bench_stream A/B, async: within noise, 1.5% less
        # CPU at one event per write); at a fairness position _step decides. Every other
        # decision is the core's _step.
        step: Step | None
        while True:
            pos = self._pos
            pending = self._pending
            if pos < len(pending) and pos & FAIRNESS_MASK != FAIRNESS_MASK:
                self._pos = pos + 1
                try:
                    item = self._convert(pending[pos])
                except BaseException:
                    await self._release()  # decode raised something that is not an Exception
                    raise
                if item.__class__ is not Step:
                    return item  # type: ignore[no-any-return]
                step = item
            else:
                del pending  # not kept alive across the wait below (see _step)
                try:
                    result = self._step()
                except BaseException:
                    await self._release()
                    raise
                if result is READ:
                    flat = self._flat
                    if flat is None or self._deadline is not None or self._state >= _CLOSING:
                        step = await self._read(self._deadline)
                    else:
                        # _read's plain case, inlined with the transport's own read: every
                        # coroutine between this one and the wait for bytes is created per
                        # event and alive while the stream waits, which at thousands of
                        # streams is what the garbage collector spends its time scanning.
                        self._reading = True
                        try:
                            data = await flat(READ_SIZE)
                        except StopAsyncIteration:
                            data = b""
                        except BaseException as exc:
                            self._reading = False
                            mapped = self._flat_error(exc)  # type: ignore[misc]  # set with _flat
                            await self._finish(await self._read_failed_async(mapped))
                            continue
                        self._reading = False
                        if self._interrupt is not None:
                            step = self._interrupted()
                        elif data:
                            self._feed(data)
                            continue
                        else:
                            self._body_ended()
                            continue
                elif result is CHECKPOINT:
                    step = await self._checkpoint()
                elif result.__class__ is not Step:
                    return result  # type: ignore[no-any-return]
                else:
                    step = result
                if step is None:
                    continue
            await self._finish(step)

    async def _finish(self, step: Step) -> None:
        """Carry out a step that ends the iteration; returns only if a lost stream got a
        new body (see :meth:`_reopen`), which the loop then reads."""
        if step is LOST:
            try:
                if await self._reopen():
                    return
            except BaseException:
                await self._release()
                raise
            if self._failure is None:
                step = STOP
        if step is DRAIN:
            await self._drain()
            raise StopAsyncIteration
        await self._release()
        if step is FAIL or step is LOST:
            raise self._take_failure()
        raise StopAsyncIteration

    # -- the seam for reconnection (levante._connect) --------------------------------------

    async def _reopen(self) -> bool:
        """The body was cut short (a LOST step, ``_failure`` holding why): True once a new
        body is attached (:meth:`_attach`). False ends the stream: raising ``_failure``
        (the IncompleteStreamError, or what ``_fail`` stored instead), or cleanly if it
        was cleared. The lost body is still open (:meth:`_drop_body`); whatever it raises
        (cancellation included) releases the stream and propagates. This stream cannot
        reconnect; a subclass that can overrides this, running its waits and requests
        in :meth:`_guarded`."""
        return False

    async def _guarded(self, work: Callable[[], Awaitable[R]]) -> R | None:
        """Run ``work`` so that ``aclose()`` from another task ends it at once, as it ends
        a read: None then (the stream is closing), else what ``work`` returned."""
        if self._state >= State.CLOSING:
            return None
        scope = self._scope = anyio.CancelScope()
        self._reading = True
        try:
            with scope:
                return await work()
        finally:
            self._reading = False
            self._scope = None
        return None  # aclose() cancelled the scope

    async def _drop_body(self) -> None:
        """Close the lost body's response, leaving the stream's state as it is."""
        chunks, self._chunks = self._chunks, None
        with anyio.CancelScope(shield=True):
            await uncancellable(self._close_response(chunks, False))

    def _attach(self, response: httpx2.Response) -> bool:
        """Read ``response`` from now on, resuming a LOST stream; False (and ``response``
        is left to the caller) if the stream was closed meanwhile."""
        if not isinstance(response.stream, self._byte_stream):
            raise TypeError(self._wrong_client)
        if self._state >= State.CLOSING:
            return False
        self._response = response
        self._set_reader(response)
        self._resume()
        return True

    async def _checkpoint(self) -> Step | None:
        """Yield to the event loop in a long backlog (fairness)."""
        try:
            await anyio.lowlevel.checkpoint()
        except BaseException:
            await self._release()
            raise
        if self._state >= _CLOSING:
            # aclose() ran in another task while we were yielding: this call was waiting.
            return self._fail(self._interrupt_error(CLOSED))
        return None

    async def _read(self, deadline: float | None) -> Step | None:
        """One read of the body, handed to the core; a step if the read was cut short.

        ``aclose()`` from another task must wake a read in progress. Over HTTP/1.1 it shuts
        the socket down, which the event loop sees as the end of the body, so a plain read
        needs nothing per call. A cancel scope (a few microseconds per read on asyncio,
        more on trio) is entered only for reads with a deadline, or when there is no
        socket of our own to shut down (HTTP/2, in-process transports).
        """
        if self._state >= _CLOSING:
            return STOP
        read = self._read_chunk
        if read is None:
            chunks = self._chunks = async_chunks(self._response)
            read = self._read_chunk = chunks.__anext__
        data: bytes | Step | None
        if deadline is None and self._socket_wakes:
            self._reading = True
            try:
                data = await read()
            except StopAsyncIteration:
                data = None
            except BaseException as exc:
                self._reading = False
                return await self._read_failed_async(exc)
            self._reading = False
        else:
            data = await self._read_in_scope(read, deadline)
            if isinstance(data, Step):
                return data
        if self._interrupt is not None:
            return self._interrupted()
        if data is None:
            self._body_ended()
        else:
            self._feed(data)
        return None

    async def _read_in_scope(self, read: AsyncRead, deadline: float | None) -> bytes | Step | None:
        """One read in a cancel scope that aclose() and the deadline cancel."""
        if deadline is None:
            scope = anyio.CancelScope()
        else:
            remaining = deadline - _monotonic()
            if remaining <= 0:
                return self._timed_out()
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
            return await self._read_failed_async(exc)
        self._reading = False
        self._scope = None
        if scope.cancelled_caught and self._interrupt is None:
            self._interrupt = DEADLINE
        if self._interrupt is not None:
            return self._interrupted()
        return data

    async def _read_failed_async(self, exc: BaseException) -> Step:
        """The core decides what a failed read raises; an outer cancellation stays itself."""
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            await self._release()
            raise exc  # an outer cancellation (a scope of ours swallows its own)
        return self._read_failed(exc)

    async def _drain(self) -> None:
        """After the end marker: read what is left of the body, within bounds, release."""
        deadline = self._drain_deadline()
        read = self._read_chunk
        finished = self._finished
        while read is not None and self._state < _CLOSING:
            if finished is not None and finished():
                break  # the end marker came with the end of the body: nothing is left
            if not self._drained(await self._read_in_scope(read, deadline)):
                break
        await self._release()
        error = self._drain_error()
        if error is not None:
            raise error

    async def _release(self) -> None:
        """Close the response (idempotent), shielded from cancellation."""
        if not self._begin_release():
            return
        chunks = self._chunks
        finished = self._finished
        try:
            if finished is not None and finished() and not self._reading:
                # A body read to its end closes without awaiting anything (DirectByteStream
                # .finished), so neither a shield nor a task of its own is needed: at
                # thousands of streams those were a tenth of what a stream cost to open.
                await self._close_response(None, False)
            elif not self._response.is_closed or (
                chunks is not None and getattr(chunks, "ag_frame", None) is not None
            ):
                with anyio.CancelScope(shield=True):
                    await uncancellable(self._close_response(chunks, self._reading))
            # else: the body was read to its end, which closed the response already.
        finally:
            self._state = _RELEASED
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
        if self._state < _CLOSING:
            self._state = _CLOSING
        if self._state is not _RELEASED:
            releasing = self._state is _RELEASING
            if self._reading and not releasing:
                if self._interrupt is None:
                    self._interrupt = CLOSED
                scope = self._scope
                if scope is not None:
                    scope.cancel()
                else:
                    shutdown_socket(self._response)
            if self._reading or releasing:
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
        if getattr(self, "_state", _RELEASED) >= _RELEASING:
            return
        self._state = _RELEASED
        try:
            schedule_aclose(self._token, self._chunks, self._response)
        finally:
            warnings.warn(
                f"unclosed {self!r}: use 'async with' or await aclose()",
                ResourceWarning,
                stacklevel=2,
                source=self,
            )
