"""Streams that remember what they yield: every decoded event also feeds an accumulator.

A stream of this kind rebuilds its final response whichever way it is read (a ``for``
loop, ``text_stream``, a helper, or nothing at all before ``final_response()``), because
the accumulator sees each event as it is decoded, not as the caller consumes it.
Subclasses say which accumulator (:meth:`AccumulatingStream.new_accumulator`); the
decode function comes from the endpoint declaration as for any stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx2

from .._streaming import EventStream, EventStreamAsync
from ..sse import ServerSentEvent

__all__ = [
    "NOT_ACCUMULATED",
    "AccumulatingStream",
    "AccumulatingStreamAsync",
    "Accumulator",
    "AsyncPieceIterator",
    "PieceIterator",
    "accumulating",
]

E = TypeVar("E")
E_contra = TypeVar("E_contra", contravariant=True)
F = TypeVar("F")
F_co = TypeVar("F_co", covariant=True)
P = TypeVar("P")


class Accumulator(Protocol[E_contra, F_co]):
    """What rebuilds a final response: ``add`` each event, ``snapshot`` at any point."""

    def add(self, event: E_contra, /) -> None:
        """Merge one event."""

    def snapshot(self) -> F_co:
        """The response as rebuilt so far, as a new object."""


def accumulating(
    decode: Callable[[ServerSentEvent], E], add: Callable[[E], Any]
) -> Callable[[ServerSentEvent], E]:
    """``decode`` that also hands each decoded event to ``add``."""

    def decode_and_add(sse: ServerSentEvent) -> E:
        event = decode(sse)
        add(event)
        return event

    return decode_and_add


#: What ``final_response()`` says of a stream opened with ``accumulate=False``.
NOT_ACCUMULATED = (
    "final_response() needs the reply kept as it streams: this stream was opened with "
    "accumulate=False"
)


class AccumulatingStream(EventStream[E], Generic[E, F]):
    """An :class:`~levante.EventStream` whose events also feed ``self.accumulator``.

    With ``accumulate=False`` (a per-call option) nothing is kept: ``accumulator`` is
    ``None`` and :meth:`final_response` raises ``RuntimeError``.
    """

    #: Tells the sender this stream takes ``accumulate``.
    accumulates: ClassVar[bool] = True

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], E],
        *,
        accumulate: bool = True,
        **kwargs: Any,
    ) -> None:
        self.accumulator: Accumulator[E, F] | None = None
        if accumulate:
            self.accumulator = self.new_accumulator()
            decode = accumulating(decode, self.accumulator.add)
        super().__init__(response, decode, **kwargs)

    def new_accumulator(self) -> Accumulator[E, F]:
        """The accumulator of a new stream (subclasses say which)."""
        raise NotImplementedError

    def final_response(self) -> F:
        """Read the rest of the stream and return the response rebuilt from all of it."""
        accumulator = self.accumulator
        if accumulator is None:
            raise RuntimeError(NOT_ACCUMULATED)
        for _ in self:
            pass
        return accumulator.snapshot()


class AccumulatingStreamAsync(EventStreamAsync[E], Generic[E, F]):
    """Async twin of :class:`AccumulatingStream`."""

    accumulates: ClassVar[bool] = True

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], E],
        *,
        accumulate: bool = True,
        **kwargs: Any,
    ) -> None:
        self.accumulator: Accumulator[E, F] | None = None
        if accumulate:
            self.accumulator = self.new_accumulator()
            decode = accumulating(decode, self.accumulator.add)
        super().__init__(response, decode, **kwargs)

    def new_accumulator(self) -> Accumulator[E, F]:
        """The accumulator of a new stream (subclasses say which)."""
        raise NotImplementedError

    async def final_response(self) -> F:
        """Read the rest of the stream and return the response rebuilt from all of it."""
        accumulator = self.accumulator
        if accumulator is None:
            raise RuntimeError(NOT_ACCUMULATED)
        async for _ in self:
            pass
        return accumulator.snapshot()


class PieceIterator(Iterator[P]):
    """What a stream's events carry: ``piece_of(event)`` for each, ``None`` ones skipped
    (e.g. the text of each chunk, for ``text_stream``)."""

    # A class rather than a generator: nothing to finalize when the caller breaks out.
    __slots__ = ("_events", "_piece_of")

    def __init__(self, stream: EventStream[E], piece_of: Callable[[E], P | None]) -> None:
        self._events: Iterator[Any] = iter(stream)
        self._piece_of: Callable[[Any], P | None] = piece_of

    def __iter__(self) -> PieceIterator[P]:
        return self

    def __next__(self) -> P:
        while True:
            piece = self._piece_of(next(self._events))
            if piece is not None:
                return piece


class AsyncPieceIterator(AsyncIterator[P]):
    """Async twin of :class:`PieceIterator`."""

    __slots__ = ("_events", "_piece_of")

    def __init__(self, stream: EventStreamAsync[E], piece_of: Callable[[E], P | None]) -> None:
        self._events: AsyncIterator[Any] = stream.__aiter__()
        self._piece_of: Callable[[Any], P | None] = piece_of

    def __aiter__(self) -> AsyncPieceIterator[P]:
        return self

    async def __anext__(self) -> P:
        while True:
            piece = self._piece_of(await self._events.__anext__())
            if piece is not None:
                return piece
