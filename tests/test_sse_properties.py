"""Property tests for levante.sse: chunking never matters, and the reference agrees.

Streams are drawn from an alphabet biased toward what breaks SSE decoders (field names,
colons, spaces, every line end, BOM bytes and their pieces, invalid and split UTF-8, NUL),
then cut into reads at arbitrary positions, empty reads included.
"""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from levante.sse import ServerSentEvent, SSEDecoder
from sse_reference import drive, reference_decode

_TOKENS = [
    *(b"data", b"data:", b"data: ", b"event:", b"event: ", b"id:", b"id: "),
    *(b"retry:", b"retry: ", b"retry: 15", b":", b": ", b" ", b"  "),
    *(b"\r", b"\n", b"\r\n", b"\n\n", b"\r\r", b"\r\n\r\n"),
    *(b"\xef\xbb\xbf", b"\xef", b"\xbb", b"\xbf", b"\xef\xbb"),
    *(
        b"\xc3\xa9",
        b"\xc3",
        b"\xa9",
        b"\xe2\x80\xa8",
        b"\xc2\x85",
        b"\xf0\x9f\x8c\xac",
        b"\xf0\x9f",
    ),
    *(b"\xff", b"\x00", b"x", b"y", b"7", b"42", b"+", b"-", b"\t", b"ping", b"message"),
]

sse_bytes = st.lists(st.one_of(st.sampled_from(_TOKENS), st.binary(max_size=3)), max_size=40).map(
    b"".join
)

_settings = settings(max_examples=300, deadline=None)


def _cut(stream: bytes, positions: list[int]) -> list[bytes]:
    """Cut ``stream`` at ``positions`` (any order, repeats give empty reads)."""
    bounds = [0, *sorted(min(p, len(stream)) for p in positions), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def streams_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A stream and cut positions, biased to cut right after CR and LF (and twice there)."""
    stream = draw(sse_bytes)
    after_line_ends = [i + 1 for i, byte in enumerate(stream) if byte in b"\r\n"]
    position = st.integers(min_value=0, max_value=len(stream))
    if after_line_ends:
        position = st.sampled_from(after_line_ends) | position
    return stream, draw(st.lists(position, max_size=12))


@_settings
@given(case=streams_and_cuts())
def test_any_chunking_gives_what_whole_gives(case: tuple[bytes, list[int]]) -> None:
    stream, positions = case
    whole, _ = drive([stream])
    chunked, _ = drive(_cut(stream, positions))
    assert chunked == whole


@_settings
@given(case=streams_and_cuts())
def test_bytewise_and_chunked_match_the_reference(case: tuple[bytes, list[int]]) -> None:
    stream, positions = case
    expected = reference_decode(stream)
    assert drive([stream])[0] == expected
    assert drive(_cut(stream, positions))[0] == expected
    assert drive([stream[i : i + 1] for i in range(len(stream))])[0] == expected


@_settings
@given(first=streams_and_cuts(), second=streams_and_cuts())
def test_reconnection_matches_the_reference(
    first: tuple[bytes, list[int]], second: tuple[bytes, list[int]]
) -> None:
    decoder = SSEDecoder()
    before, _ = drive(_cut(*first), decoder)
    after, _ = drive(_cut(*second), decoder)
    ref_before = reference_decode(first[0])
    assert before == ref_before
    assert after == reference_decode(
        second[0], last_event_id=ref_before.last_event_id, retry=ref_before.retry
    )


@_settings
@given(case=streams_and_cuts(), limit=st.integers(min_value=1, max_value=24))
def test_size_limit_does_not_depend_on_chunking(case: tuple[bytes, list[int]], limit: int) -> None:
    stream, positions = case
    whole, whole_errors = drive([stream], max_event_size=limit)
    chunked, chunked_errors = drive(_cut(stream, positions), max_event_size=limit)
    assert chunked == whole
    assert bool(chunked_errors) == bool(whole_errors)
    assert whole == reference_decode(stream, max_event_size=limit)
    # Whatever the limit drops, it never invents or alters an event: each one the decoder
    # returns is also returned, same data and type, when there is no limit.
    unlimited = [(e.event, e.data) for e in drive([stream], max_event_size=None)[0].events]
    kept = iter(unlimited)
    assert all((e.event, e.data) in kept for e in chunked.events)


@_settings
@given(
    stream=st.binary(max_size=300),
    positions=st.lists(st.integers(min_value=0, max_value=300), max_size=12),
    limit=st.none() | st.integers(min_value=1, max_value=64),
)
def test_arbitrary_bytes_raise_nothing_but_event_too_large(
    stream: bytes, positions: list[int], limit: int | None
) -> None:
    # drive() catches EventTooLarge only: anything else escaping feed or end fails here.
    outcome, errors = drive(_cut(stream, positions), max_event_size=limit)
    for event in outcome.events:
        assert type(event) is ServerSentEvent
        assert isinstance(event.data, str)
        assert isinstance(event.event, str)
        assert event.event
    if limit is None:
        assert errors == []


@_settings
@given(case=streams_and_cuts(), limit=st.none() | st.integers(min_value=1, max_value=24))
def test_returned_events_are_never_changed_later(
    case: tuple[bytes, list[int]], limit: int | None
) -> None:
    stream, positions = case
    decoder = SSEDecoder(max_event_size=limit)
    seen: list[tuple[ServerSentEvent, ServerSentEvent]] = []
    lists: list[tuple[list[ServerSentEvent], list[ServerSentEvent]]] = []
    for piece in [*_cut(stream, positions), stream]:
        try:
            events = decoder.feed(piece)
        except Exception as exc:
            assert type(exc).__name__ == "EventTooLarge"
            events = exc.events  # type: ignore[attr-defined]
        lists.append((events, list(events)))
        seen += [(e, dataclasses.replace(e)) for e in events]
    decoder.end()
    for returned, copy in lists:
        assert returned == copy
    for event, snapshot in seen:
        assert event == snapshot
    # Every event is a distinct object: changing one (they are not frozen) changes no other.
    assert len({id(e) for e, _ in seen}) == len(seen)
