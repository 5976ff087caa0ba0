"""Linear time and memory for levante.sse, checked by counting work instead of timing it.

Design rule 4 of ``levante/sse/_decoder.py``: a new read is scanned only by itself (plus
one byte of look-behind), and an unfinished block is never copied or decoded before it
completes. Three independent instruments check that:

- a ``bytes`` subclass that records every method call made on each read, and how many
  bytes the call can examine: once its own ``feed`` has returned, a read may be peeked at
  one byte at a time, never searched, sliced wide, decoded or copied again;
- ``tracemalloc``: the memory a ``feed`` allocates beyond what it keeps is bounded by the
  read, not by the block buffered so far, and the decoder keeps memory linear in what is
  buffered (nothing at all while it skips an oversized block);
- a 1 MiB event fed one byte at a time must simply finish, under the suite's timeout: a
  decoder that rescans its growing prefix needs about 5 * 10**11 byte steps for it.
"""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest

from levante.sse import EventTooLarge, ServerSentEvent, SSEDecoder

MIB = 1024 * 1024


def big_event(size: int, *, lines: bool = False) -> tuple[bytes, str]:
    """A ``size``-byte event (one long data line, or many short ones) and its data."""
    if lines:
        line = b"data: " + b"y" * 57 + b"\n"
        count = (size - 1) // len(line)
        wire = line * count + b"\n"
        return wire, "\n".join(["y" * 57] * count)
    wire = b"data: " + b"x" * (size - 8) + b"\n\n"
    return wire, "x" * (size - 8)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


# -- 1. which reads does the decoder look at, and how much of each -----------------------


class _Log:
    feed = 0  # index of the feed call in progress
    #: (read index, feed index at the time of the call, method, bytes it can examine)
    calls: ClassVar[list[tuple[int, int, str, int]]] = []


def _span(self: bytes, start: Any = None, end: Any = None) -> int:
    return len(range(*slice(start, end).indices(len(self))))


def _cost_getitem(self: bytes, key: Any) -> int:
    return _span(self, key.start, key.stop) if isinstance(key, slice) else 1


def _cost_search(self: bytes, needle: Any = None, start: Any = None, end: Any = None) -> int:
    return _span(self, start, end)


def _cost_eq(self: bytes, other: Any) -> int:
    return len(self) if isinstance(other, bytes) and len(other) == len(self) else 0


def _cost_whole(self: bytes, *args: Any, **kwargs: Any) -> int:
    return len(self)


def _cost_prefix(self: bytes, affix: Any, *args: Any) -> int:
    return max(len(a) for a in affix) if isinstance(affix, tuple) else len(affix)


_COSTS: dict[str, Callable[..., int]] = {
    "__getitem__": _cost_getitem,
    "__eq__": _cost_eq,
    "__ne__": _cost_eq,
    "startswith": _cost_prefix,
    "endswith": _cost_prefix,
    **dict.fromkeys(["find", "rfind", "index", "rindex", "count"], _cost_search),
    **dict.fromkeys(
        [
            *("__contains__", "__add__", "__mul__", "__bytes__", "__iter__", "split"),
            *("rsplit", "splitlines", "partition", "rpartition"),
            *("replace", "strip", "lstrip", "rstrip", "decode", "hex", "translate"),
            *("lower", "upper", "isascii", "isdigit", "join", "removeprefix", "removesuffix"),
        ],
        _cost_whole,
    ),
}


def _spied(name: str, cost: Callable[..., int]) -> Callable[..., Any]:
    base = getattr(bytes, name)

    def method(self: SpyBytes, *args: Any, **kwargs: Any) -> Any:
        _Log.calls.append((self.index, _Log.feed, name, cost(self, *args, **kwargs)))
        return base(self, *args, **kwargs)

    return method


class SpyBytes(bytes):
    """A read that records each method called on it (type stays bytes for the decoder)."""

    index: int


for _name, _cost in _COSTS.items():
    setattr(SpyBytes, _name, _spied(_name, _cost))


def _spy_feed(chunks: list[bytes], decoder: SSEDecoder) -> list[ServerSentEvent]:
    _Log.calls = []
    events: list[ServerSentEvent] = []
    for i, raw in enumerate(chunks):
        piece = SpyBytes(raw)
        piece.index = i
        _Log.feed = i
        events += decoder.feed(piece)
    _Log.feed = len(chunks)
    events += decoder.end()
    return events


@pytest.mark.parametrize("read", [1, 7, 1024])
@pytest.mark.parametrize("lines", [False, True], ids=["one-line", "many-lines"])
def test_each_read_is_scanned_only_while_it_is_fed(read: int, lines: bool) -> None:
    wire, data = big_event(64 * 1024 if read > 1 else 8 * 1024, lines=lines)
    # The first read is plain bytes: the decoder may glue it to a held-back BOM prefix.
    chunks = [wire[:8], *pieces(wire[8:], read)]
    assert _spy_feed(chunks, SSEDecoder()) == [ServerSentEvent(data=data)]

    own: dict[int, int] = {}
    for index, feed, name, cost in _Log.calls:
        if feed == index:
            own[index] = own.get(index, 0) + cost
        else:
            # Later calls on an old read: a one-byte look-behind at most.
            assert feed > index
            assert cost <= 1, f"read {index} examined again by {name} during feed {feed}"
    # Not vacuous: every instrumented read was seen being scanned during its own feed, and
    # only a bounded number of times.
    for index in range(1, len(chunks)):
        assert len(chunks[index]) <= own.get(index, 0) <= 8 * len(chunks[index]) + 16


def test_look_behind_is_one_call_per_read() -> None:
    wire, _ = big_event(64 * 1024)
    chunks = [wire[:8], *pieces(wire[8:], 100)]
    _spy_feed(chunks, SSEDecoder())
    late = [call for call in _Log.calls if call[1] != call[0]]
    assert len(late) <= len(chunks)


# -- 2. what a feed allocates, and what the decoder keeps ---------------------------------


def _traced(chunks: list[bytes], decoder: SSEDecoder) -> tuple[int, int, int]:
    """Feed all but the last chunk; return (sum of per-feed transient peaks, largest
    transient peak, largest memory kept by the decoder), all in bytes."""
    total = worst = kept = 0
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(len(chunks) - 1):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            with contextlib.suppress(EventTooLarge):
                decoder.feed(chunks[i])
            now, peak = tracemalloc.get_traced_memory()
            total += peak - before
            worst = max(worst, peak - before)
            kept = max(kept, now - base)
    finally:
        tracemalloc.stop()
    return total, worst, kept


@pytest.mark.parametrize("read", [64, 1024])
@pytest.mark.parametrize("lines", [False, True], ids=["one-line", "many-lines"])
def test_unfinished_block_is_never_copied(read: int, lines: bool) -> None:
    size = 16 * read * 1024  # 1 MiB in 1 KiB reads, 1 MiB / 16 in 64-byte reads
    wire, data = big_event(size, lines=lines)
    chunks = list(pieces(wire, read))
    decoder = SSEDecoder()
    total, worst, kept = _traced(chunks, decoder)
    # Copying or decoding the growing prefix once per read would allocate about
    # size**2 / (2 * read) bytes in all: 512 MiB here for either read size. Linear work
    # stays within a few times the input plus a small constant per call (list growth, an
    # int or two), and no single read allocates anywhere near the bytes buffered.
    assert total <= 4 * size + 512 * len(chunks)
    assert worst <= size // 8
    assert kept <= 2 * size
    assert decoder.feed(chunks[-1]) == [ServerSentEvent(data=data)]


def test_skipping_an_oversized_block_keeps_nothing() -> None:
    wire, _ = big_event(MIB)
    chunks = [*pieces(wire, 1024), b"data: next\n\n"]
    decoder = SSEDecoder(max_event_size=4096)
    total, _, kept = _traced(chunks, decoder)
    assert kept <= 16 * 1024
    assert total <= MIB
    assert decoder.feed(chunks[-1]) == [ServerSentEvent(data="next")]


# -- 3. the big cases simply finish, exactly ------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("read", [1, 1024, MIB + 1])
def test_one_mib_event(read: int) -> None:
    wire, data = big_event(MIB)
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    feed = decoder.feed
    for piece in pieces(wire, read):
        events += feed(piece)
    assert events == [ServerSentEvent(data=data)]
    assert decoder.end() == []
    assert decoder.truncated is False


@pytest.mark.timeout(30)
def test_many_short_lines_bytewise() -> None:
    wire, data = big_event(MIB // 4, lines=True)
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    feed = decoder.feed
    for piece in pieces(wire, 1):
        events += feed(piece)
    assert events == [ServerSentEvent(data=data)]
