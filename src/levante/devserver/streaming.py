"""Writing replies: ``text/event-stream`` bodies paced, faulted and counted as the request
asks, and non-streamed JSON bodies that take as long as their stream would have.

Timing: ``ttft`` seconds before the first event and ``tokens_per_second`` between events
(``None``: as fast as possible).  Faults (:mod:`levante.devserver.faults`) fire between
events; ``N`` counts the events already written on this connection, the end marker
included.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .context import Context

__all__ = ["DROP_FILTER", "Drop", "EventStream", "Whole", "finish", "reply_json"]

# Set by a response that drops its connection on purpose, so that uvicorn's complaint about
# the unfinished response (logged from the same task) can be silenced for that request only.
_dropping: contextvars.ContextVar[bool] = contextvars.ContextVar("levante_dropping", default=False)


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and "without completing response" in record.getMessage())


DROP_FILTER = _DropFilter()
"""Installed on ``uvicorn.error`` by the app: hides the log line of an on-purpose drop."""


class EventStream(Response):
    """A ``text/event-stream`` response paced, faulted and counted as the request asks.

    ``blocks`` are whole SSE events (bytes ending in a blank line); ``end`` builds the
    event that closes the stream (``None``: the stream ends with the body, as workflow
    streams do); ``error`` builds the event ``error-after`` sends.  A watcher task listens
    for ``http.disconnect`` and cancels generation as soon as the client goes away (uvicorn
    silently drops writes after a disconnect, so writing alone would never notice).
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        ctx: Context,
        blocks: Iterable[bytes],
        end: Callable[[], bytes] | None,
        error: Callable[[], bytes],
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})
        self._ctx = ctx
        self._blocks = blocks
        self._end = end
        self._error = error
        self._client_gone = False
        self._cut = ctx.faults.cut_point(ctx.state.new_id("cut"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stats = self._ctx.state.stats
        stats.open += 1
        outcome = "aborted"
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watch, receive, tg.cancel_scope)
                outcome = await self._produce(send)
                tg.cancel_scope.cancel()
            if self._client_gone:
                outcome = "aborted"
            elif outcome == "drop":
                _dropping.set(True)
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            stats.open -= 1
            if outcome == "completed":
                stats.completed += 1
            else:
                stats.aborted += 1

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self._client_gone = True
                scope.cancel()
                return

    async def _write(self, send: Send, data: bytes) -> None:
        if self._ctx.faults.byte_writes:
            for i in range(len(data)):
                await send(
                    {"type": "http.response.body", "body": data[i : i + 1], "more_body": True}
                )
        else:
            await send({"type": "http.response.body", "body": data, "more_body": True})

    async def _pause(self, seconds: float, send: Send) -> None:
        """Sleep, sending a ``: ping`` comment every ``ping`` seconds if asked to."""
        ping = self._ctx.faults.ping
        if ping is None:
            await anyio.sleep(seconds)
            return
        deadline = anyio.current_time() + seconds
        while (left := deadline - anyio.current_time()) > ping:
            await anyio.sleep(ping)
            await self._write(send, b": ping\n\n")
        await anyio.sleep(max(left, 0.0))

    async def _fault(self, sent: int, send: Send) -> str | None:
        """Fire the faults due after ``sent`` events, before the next event is even built
        (an injected error event comes right after the ``sent``-th); return an outcome to
        stop early."""
        faults = self._ctx.faults
        if faults.malformed_after == sent:
            await self._write(send, b"data: {this is not json\n\n")
        if faults.error_after == sent:
            await self._write(send, self._error())
            return "fault"
        if self._cut is not None and self._cut == (sent, False):
            return "drop"
        return None

    async def _cut_inside(self, sent: int, send: Send, upcoming: bytes) -> str | None:
        """Write half of ``upcoming`` and stop, when the cut falls inside it."""
        if self._cut is not None and self._cut == (sent, True):
            # Never the blank line: the client holds an unfinished event when the
            # connection goes.
            await self._write(send, upcoming[: len(upcoming) // 2])
            return "drop"
        return None

    async def _produce(self, send: Send) -> str:
        faults, timing = self._ctx.faults, self._ctx.timing
        # Headers are out already: a stall shows up as a late first event, not a late response.
        if faults.stall + timing.ttft > 0:
            await self._pause(faults.stall + timing.ttft, send)
        interval = 1.0 / timing.tokens_per_second if timing.tokens_per_second else 0.0
        clock = anyio.current_time()
        sent = 0
        blocks = iter(self._blocks)
        while (outcome := await self._fault(sent, send)) is None:
            if (block := next(blocks, None)) is None:
                break
            if (outcome := await self._cut_inside(sent, send, block)) is not None:
                return outcome
            if faults.stall_after is not None and faults.stall_after[0] == sent:
                await self._pause(faults.stall_after[1], send)
                clock = anyio.current_time()
            elif sent and interval:
                # Pace against a clock, not by sleeping a fixed interval, so the rate holds.
                clock += interval
                delay = clock - anyio.current_time()
                if delay > 0:
                    await self._pause(delay, send)
            await self._write(send, block)
            sent += 1
        if outcome is not None:
            return outcome
        if self._end is None or faults.no_done:
            return "completed"
        # The end marker follows the last token at once (it is not a token).
        end = self._end()
        if (outcome := await self._cut_inside(sent, send, end)) is not None:
            return outcome
        if faults.stall_after is not None and faults.stall_after[0] == sent:
            await self._pause(faults.stall_after[1], send)
        await self._write(send, end)
        return await self._fault(sent + 1, send) or "completed"


class Drop(Response):
    """Send the headers of a 200, then drop the connection before the body."""

    def __init__(self) -> None:
        self.status_code = 200
        self.background = None
        self.media_type = "application/json"
        self.init_headers({"content-length": "1024"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        _dropping.set(True)


@dataclass
class Whole:
    """A non-streamed reply, sent by :func:`finish` once its simulated generation time has
    passed: ``tokens`` is how many events its stream would have had."""

    payload: bytes
    tokens: int


async def reply_json(ctx: Context, payload: bytes, tokens: int) -> Response:
    """A non-streamed reply: it takes as long as the stream would have."""
    if ctx.faults.cut_point("") is not None:
        return Drop()
    tps = ctx.timing.tokens_per_second
    delay = ctx.faults.stall + ctx.timing.ttft + (tokens / tps if tps else 0.0)
    if delay > 0:
        await anyio.sleep(delay)
    return Response(payload, media_type="application/json")


async def finish(ctx: Context, result: Response | Whole) -> Response:
    """Send ``result``: a :class:`Whole` after its delay, any other response as it is."""
    if isinstance(result, Whole):
        return await reply_json(ctx, result.payload, result.tokens)
    return result
