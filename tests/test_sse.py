"""Table-driven bytes -> events tests for levante.sse, one case per WHATWG rule.

Every case runs under several chunkings (whole, one byte at a time, two seeded random
cuttings) and once more split in two at every possible position; the reference decoder
in ``sse_reference.py`` must agree with every expected outcome too, so the table, the
reference and levante check one another.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
from dataclasses import dataclass, field

import pytest

import levante.sse
from levante.sse import (
    DEFAULT_MAX_EVENT_SIZE,
    EventTooLarge,
    ServerSentEvent,
    SSEDecoder,
    SSEError,
)
from sse_reference import CHUNKINGS, Outcome, chunk, drive, reference_decode


def ev(
    data: str, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


@dataclass
class Case:
    name: str
    stream: bytes
    events: list[ServerSentEvent]
    last_event_id: str = ""
    retry: int | None = None
    truncated: bool = False
    outcome: Outcome = field(init=False)

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.events, self.last_event_id, self.retry, self.truncated)


CASES = [
    # -- line ends: CR, LF, CRLF and their mixtures; nothing else ends a line
    Case("lf", b"data: a\n\n", [ev("a")]),
    Case("cr", b"data: a\r\r", [ev("a")]),
    Case("crlf", b"data: a\r\n\r\n", [ev("a")]),
    Case("mixed line ends", b"data: a\rdata: b\ndata: c\r\n\r", [ev("a\nb\nc")]),
    # Split across chunks, CR then LF must stay one line end, or "a" would dispatch alone.
    Case("crlf is one line end", b"data: a\r\ndata: b\r\n\r\n", [ev("a\nb")]),
    Case("cr cr-lf is two line ends", b"data: a\r\r\ndata: b\n\n", [ev("a"), ev("b")]),
    Case("lf cr is two line ends", b"data: a\n\rdata: b\r\r", [ev("a"), ev("b")]),
    Case("cr at end of stream ends the line", b"data: a\r\n\r", [ev("a")]),
    Case(
        "unicode separators are not line ends",
        "data: a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei\n\n".encode(),
        [ev("a\u2028b\u2029c\x85d\x0be\x0cf\x1cg\x1dh\x1ei")],
    ),
    Case("nel inside a field name", "da\x85ta: x\n\n".encode(), []),
    # -- byte order mark: one, and only at the very start
    Case("bom stripped", b"\xef\xbb\xbfdata: a\n\n", [ev("a")]),
    Case("only one bom stripped", b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", [ev("b")]),
    Case("bom later is kept", b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [ev("a")]),
    Case("bom inside data is kept", b"data: \xef\xbb\xbfa\n\n", [ev("\ufeffa")]),
    Case("partial bom is not a bom", b"\xef\xbbdata: a\n\ndata: b\n\n", [ev("b")]),
    Case("bom alone", b"\xef\xbb\xbf", []),
    Case("bom then blank line", b"\xef\xbb\xbf\n\ndata: a\n\n", [ev("a")]),
    # -- UTF-8: replacement, never an exception; characters split anywhere
    Case("multi-byte characters", "data: café 🌬 東風\n\n".encode(), [ev("café 🌬 東風")]),
    Case("invalid bytes", b"data: \xff\xfeA\xc3\n\n", [ev("\ufffd\ufffdA\ufffd")]),
    Case("truncated sequence before lf", b"data: \xe2\x82\n\n", [ev("\ufffd")]),
    Case("surrogate encoding", b"data: \xed\xa0\x80\n\n", [ev("\ufffd\ufffd\ufffd")]),
    Case("overlong encoding", b"data: \xc0\xaf\n\n", [ev("\ufffd\ufffd")]),
    Case("truncated sequence at end", b"data: a\n\ndata: \xf0\x9f", [ev("a")], truncated=True),
    Case("invalid bytes in field name", b"d\xffta: a\ndata: b\n\n", [ev("b")]),
    Case("nul in data is kept", b"data: a\x00b\n\n", [ev("a\x00b")]),
    # -- comments, fields, values
    Case("comments", b": hi\ndata: a\n:\n::x\n\n", [ev("a")]),
    Case("comment-only block", b": keep-alive\n\n: again\r\n\r\n", []),
    Case("field without colon: data", b"data\n\n", [ev("")]),
    Case("field without colon twice", b"data\ndata\n\n", [ev("\n")]),
    Case("field without colon: event", b"event: x\nevent\ndata: a\n\n", [ev("a")]),
    Case("field without colon: id", b"id: 1\n\nid\ndata: a\n\n", [ev("a", id="")]),
    Case("one leading space stripped", b"data:  a\n\n", [ev(" a")]),
    Case("no space needed", b"data:a\n\n", [ev("a")]),
    Case("tab is not stripped", b"data:\ta\n\n", [ev("\ta")]),
    Case("trailing space kept", b"data: a \n\n", [ev("a ")]),
    Case("colon in value", b"data: a:b: c\n\n", [ev("a:b: c")]),
    Case("space only", b"data: \n\n", [ev("")]),
    Case(
        "unknown fields ignored",
        b"foo: bar\ndata: a\nData: x\nDATA: y\n data: z\ndata : w\nfoo\n\n",
        [ev("a")],
    ),
    Case("unknown-only block", b"foo: bar\n\n", []),
    # -- data buffer
    Case("multi-line data", b'data: {\ndata: "a": 1\ndata: }\n\n', [ev('{\n"a": 1\n}')]),
    Case("only the final lf removed", b"data: a\ndata:\n\n", [ev("a\n")]),
    Case("two empty data lines", b"data:\ndata:\n\n", [ev("\n")]),
    Case("empty data line", b"data:\n\n", [ev("")]),
    # -- event type
    Case("event type", b"event: add\ndata: a\n\n", [ev("a", event="add")]),
    Case("empty event type is message", b"event:\ndata: a\n\n", [ev("a")]),
    Case("last event line wins", b"event: x\nevent:\ndata: a\n\n", [ev("a")]),
    Case("event type keeps spaces", b"event:  x \ndata: a\n\n", [ev("a", event=" x ")]),
    Case(
        "event type resets after dispatch",
        b"event: x\ndata: a\n\ndata: b\n\n",
        [ev("a", event="x"), ev("b")],
    ),
    Case("event-only block dispatches nothing", b"event: x\n\n", []),
    Case("event type resets after empty dispatch", b"event: x\n\ndata: a\n\n", [ev("a")]),
    # -- last event ID
    Case("id", b"id: 7\ndata: a\n\n", [ev("a", id="7")], last_event_id="7"),
    Case("id persists", b"id: 7\ndata: a\n\ndata: b\n\n", [ev("a", id="7"), ev("b", id="7")], "7"),
    Case("id after data in block", b"data: a\nid: 9\n\n", [ev("a", id="9")], last_event_id="9"),
    Case("id-only block updates id", b"id: 7\n\n", [], last_event_id="7"),
    Case("id-only block then event", b"id: 7\n\ndata: a\n\n", [ev("a", id="7")], "7"),
    Case(
        "empty id resets",
        b"id: 7\ndata: a\n\nid\ndata: b\n\nid: 8\n\nid:\ndata: c\n\n",
        [ev("a", id="7"), ev("b", id=""), ev("c", id="")],
    ),
    Case(
        "id with nul ignored",
        b"id: 1\n\nid: a\x00b\ndata: x\n\nid: \x00\ndata: y\n\n",
        [ev("x", id="1"), ev("y", id="1")],
        last_event_id="1",
    ),
    Case("id keeps spaces", b"id:  1 \ndata: a\n\n", [ev("a", id=" 1 ")], last_event_id=" 1 "),
    Case("id of unfinished block not used", b"id: 1\n\nid: 2\ndata: a\n", [], "1", truncated=True),
    # -- retry: all ASCII digits, set when its line is read, kept across events
    Case("retry", b"retry: 1500\ndata: a\n\n", [ev("a", retry=1500)], retry=1500),
    Case("retry leading zeros", b"retry: 007\ndata: a\n\n", [ev("a", retry=7)], retry=7),
    Case("retry zero", b"retry:0\ndata: a\n\n", [ev("a", retry=0)], retry=0),
    Case(
        "retry huge",
        b"retry: 123456789012345678901234567890\n\n",
        [],
        retry=123456789012345678901234567890,
    ),
    Case("retry-only block sets it", b"retry: 10\n\ndata: a\n\n", [ev("a", retry=10)], retry=10),
    Case(
        "retry persists",
        b"retry: 10\ndata: a\n\ndata: b\n\n",
        [ev("a", retry=10), ev("b", retry=10)],
        retry=10,
    ),
    Case("retry after data in block", b"data: a\nretry: 5\n\n", [ev("a", retry=5)], retry=5),
    *(
        Case(
            f"retry {bad!r} rejected",
            b"retry: 10\n\nretry: " + bad.encode() + b"\ndata: a\n\n",
            [ev("a", retry=10)],
            retry=10,
        )
        for bad in [
            "+5",
            "5 ",
            " 5",
            "-1",
            "1.5",
            "1e3",
            "0x10",
            "",
            "\u0663",
            "\uff15",
            "\u00b2",
            "5\x00",
        ]
    ),
    Case("retry without colon ignored", b"retry\ndata: a\n\n", [ev("a")]),
    Case(
        "retry in unfinished block still applies",
        b"data: a\n\nretry: 30\n",
        [ev("a")],
        retry=30,
        truncated=True,
    ),
    Case(
        "retry on an unfinished line does not",
        b"data: a\n\nretry: 30",
        [ev("a")],
        truncated=True,
    ),
    # -- dispatch and the end of the stream
    Case("data-less blocks dispatch nothing", b"\n\n\n\r\n\r\r\n", []),
    Case("empty stream", b"", []),
    Case("many events", b"data: 1\n\ndata: 2\n\n\n\ndata: 3\n\n", [ev("1"), ev("2"), ev("3")]),
    Case("unfinished block discarded", b"data: a\n\ndata: b", [ev("a")], truncated=True),
    Case("unfinished block ending in lf", b"data: a\n\ndata: b\n", [ev("a")], truncated=True),
    Case("unfinished comment", b"data: a\n\n: bye", [ev("a")], truncated=True),
    Case("trailing blank lines are not truncation", b"data: a\n\n\n\n", [ev("a")]),
    Case("no blank line at all", b"data: a", [], truncated=True),
]


def _case_id(case: Case) -> str:
    return case.name.replace(" ", "-")


@pytest.mark.parametrize("how", CHUNKINGS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_table(case: Case, how: str) -> None:
    outcome, errors = drive(chunk(case.stream, how))
    assert errors == []
    assert outcome == case.outcome


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_table_every_two_piece_split(case: Case) -> None:
    for i in range(1, len(case.stream)):
        outcome, _ = drive([case.stream[:i], case.stream[i:]])
        assert outcome == case.outcome, f"split at {i}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_reference_agrees_with_table(case: Case) -> None:
    assert reference_decode(case.stream) == case.outcome


def test_feed_returns_events_as_soon_as_their_block_ends() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [ev("a")]
    assert decoder.feed(b"data: b\r") == []
    # A CR completes its line at once; the blank line is the next CR.
    assert decoder.feed(b"\r") == [ev("b")]
    # The LF right after that CR belongs to it: it is not a second blank line.
    assert decoder.feed(b"\ndata: c\n\n") == [ev("c")]
    assert decoder.feed(b"") == []


def test_bom_split_over_three_reads() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbf") == []
    assert decoder.feed(b"data: a\n\n") == [ev("a")]


def test_empty_reads_do_not_disturb_a_split_bom_or_crlf() -> None:
    decoder = SSEDecoder()
    pieces = [b"", b"\xef", b"", b"\xbb\xbf", b"", b"data: a\r", b"", b"\n", b"", b"data: b\r", b""]
    for piece in pieces:
        assert decoder.feed(piece) == []
    # Had an empty read broken a CRLF in two, "a" would have been dispatched alone.
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\n") == [ev("a\nb")]


# -- end(), truncated and reconnection ------------------------------------------------


def test_end_returns_nothing_and_resets_keeping_id_and_retry() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 5\nretry: 10\ndata: a\n\ndata: part") == [ev("a", id="5", retry=10)]
    assert decoder.end() == []
    assert decoder.truncated is True
    assert (decoder.last_event_id, decoder.retry) == ("5", 10)
    # A new stream: its BOM is stripped again and nothing of the old partial block remains.
    assert decoder.feed(b"\xef\xbb\xbfdata: b\n\n") == [ev("b", id="5", retry=10)]
    assert decoder.end() == []
    assert decoder.truncated is False


def test_end_forgets_a_trailing_cr() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\r")
    decoder.end()
    # In the new stream a leading LF is a line end of its own, not the CR's partner.
    assert decoder.feed(b"\ndata: b\n\n") == [ev("b")]


def test_end_with_a_partial_bom() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb") == []
    assert decoder.end() == []
    assert decoder.truncated is True
    assert decoder.feed(b"\xef\xbb\xbfdata: a\n\n") == [ev("a")]


def test_end_twice_and_on_a_fresh_decoder() -> None:
    decoder = SSEDecoder()
    assert decoder.end() == []
    assert decoder.truncated is False
    decoder.feed(b"data: x")
    assert decoder.end() == []
    assert decoder.truncated is True
    assert decoder.end() == []
    assert decoder.truncated is False


def test_id_of_a_discarded_block_is_not_kept_across_end() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n\nid: 2\n")
    decoder.end()
    assert decoder.last_event_id == "1"


@pytest.mark.parametrize("how", CHUNKINGS)
def test_reconnection_matches_reference(how: str) -> None:
    first = b"id: 3\nretry: 50\ndata: a\n\nid: 4\nretry: 60\ndata: lost"
    second = b"\xef\xbb\xbfdata: b\n\nid: 5\n\ndata: c\n\n"
    decoder = SSEDecoder()
    before, _ = drive(chunk(first, how), decoder)
    after, _ = drive(chunk(second, how), decoder)
    ref_before = reference_decode(first)
    assert before == ref_before
    assert after == reference_decode(
        second, last_event_id=ref_before.last_event_id, retry=ref_before.retry
    )
    assert after.events == [ev("b", id="3", retry=60), ev("c", id="5", retry=60)]


def test_retry_beyond_pythons_int_digit_limit() -> None:
    # Python refuses int() of more than 4300 digits; the decoder must not let that escape.
    decoder = SSEDecoder()
    at_limit = "9" * 4300
    assert decoder.feed(f"retry: {at_limit}\n\n".encode()) == []
    assert decoder.retry == int(at_limit)
    assert decoder.feed(b"retry: " + b"0" * 5000 + b"5\ndata: a\n\n") == [ev("a", retry=5)]
    # A longer value of milliseconds is ignored like any other unusable value.
    assert decoder.feed(b"retry: " + b"9" * 5000 + b"\ndata: b\n\n") == [ev("b", retry=5)]
    decoder.feed(b"retry: " + b"9" * 5000 + b"\nretry: " + b"0" * 5000 + b"7\n")
    assert decoder.end() == []
    assert decoder.retry == 7


# -- max_event_size -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1])
def test_max_event_size_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="max_event_size"):
        SSEDecoder(max_event_size=bad)


def test_default_max_event_size() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 16 * 1024 * 1024
    big = b"data: " + b"x" * (DEFAULT_MAX_EVENT_SIZE + 1) + b"\n\n"
    with pytest.raises(EventTooLarge) as info:
        SSEDecoder().feed(big)
    assert info.value.limit == DEFAULT_MAX_EVENT_SIZE


def test_no_max_event_size() -> None:
    payload = "x" * (3 * 1024 * 1024)
    decoder = SSEDecoder(max_event_size=None)
    events = [
        e for piece in chunk(f"data: {payload}\n\n".encode(), "whole") for e in decoder.feed(piece)
    ]
    assert events == [ev(payload)]


LIMIT = 64
OVERSIZED_CASES = {
    "long line": b"data: " + b"x" * 200,
    "many short lines": b"data: y\n" * 19 + b"data: y",
    "long comment": b": " + b"c" * 200,
    "with id and retry": b"id: lost\nretry: 9\ndata: " + b"z" * 100,
    "crlf lines": b"data: y\r\n" * 19 + b"data: y",
}


@pytest.mark.parametrize("how", CHUNKINGS)
@pytest.mark.parametrize("name", OVERSIZED_CASES)
def test_oversized_block_raises_once_and_decoding_goes_on(name: str, how: str) -> None:
    stream = b"data: ok1\n\n" + OVERSIZED_CASES[name] + b"\n\ndata: ok2\n\n"
    outcome, errors = drive(chunk(stream, how), max_event_size=LIMIT)
    assert len(errors) == 1
    assert isinstance(errors[0], SSEError)
    assert errors[0].limit == LIMIT
    assert str(LIMIT) in str(errors[0])
    # The oversized block is dropped whole, its id and retry lines with it.
    assert outcome == Outcome([ev("ok1"), ev("ok2")])


def test_oversized_block_inside_one_chunk_carries_the_other_events() -> None:
    stream = b"data: ok1\n\n" + b"data: " + b"x" * 200 + b"\n\ndata: ok2\n\ndata: tail"
    decoder = SSEDecoder(max_event_size=LIMIT)
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(stream)
    # Events before and after the oversized block in the same chunk are all there.
    assert info.value.events == [ev("ok1"), ev("ok2")]
    # The unfinished block after it was kept and completes normally.
    assert decoder.feed(b"\n\n") == [ev("tail")]


def test_oversized_unfinished_block_at_end_of_a_chunk() -> None:
    decoder = SSEDecoder(max_event_size=LIMIT)
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(b"data: ok\n\ndata: " + b"x" * 100)
    assert info.value.events == [ev("ok")]
    # The rest of the oversized block is skipped, however it arrives.
    assert decoder.feed(b"x" * 1000) == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\ndata: next\n\n") == [ev("next")]


def test_end_while_skipping_an_oversized_block() -> None:
    decoder = SSEDecoder(max_event_size=LIMIT)
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: " + b"x" * 100)
    assert decoder.end() == []
    assert decoder.truncated is True
    # The new stream is not skipped.
    assert decoder.feed(b"data: a\n\n") == [ev("a")]


def test_two_oversized_blocks_in_one_chunk() -> None:
    big = b"data: " + b"x" * 100 + b"\n\n"
    decoder = SSEDecoder(max_event_size=LIMIT)
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(big + b"data: a\n\n" + big + b"data: b\n\n")
    assert info.value.events == [ev("a"), ev("b")]


@pytest.mark.parametrize("how", CHUNKINGS)
@pytest.mark.parametrize("ending", [b"\n\n", b"\r\n\r\n", b"\r\r"])
def test_max_event_size_boundary_is_the_same_for_every_chunking(how: str, ending: bytes) -> None:
    # A block of exactly LIMIT bytes (its lines and the line ends between them) passes;
    # one more byte does not, wherever the reads happen to be cut.
    fits = b"id: 1\ndata: " + b"x" * (LIMIT - 12)
    assert len(fits) == LIMIT
    too_big = fits + b"x"
    outcome, errors = drive(chunk(fits + ending, how), max_event_size=LIMIT)
    assert (outcome.events, errors) == ([ev("x" * (LIMIT - 12), id="1")], [])
    outcome, errors = drive(chunk(too_big + ending + b"data: a\n\n", how), max_event_size=LIMIT)
    assert outcome.events == [ev("a")]
    assert len(errors) == 1


# -- the event type and the public surface ----------------------------------------------


def test_server_sent_event() -> None:
    event = ServerSentEvent()
    assert (event.event, event.data, event.id, event.retry) == ("message", "", "", None)
    assert ServerSentEvent(data='{"a": [1, null]}').json() == {"a": [1, None]}
    with pytest.raises(json.JSONDecodeError):
        ServerSentEvent(data="[DONE]").json()
    # Slotted (cheap to build, no __dict__) and deliberately not frozen.
    assert not hasattr(event, "__dict__")
    event.data = "changed"
    assert event == ServerSentEvent(data="changed")
    assert dataclasses.fields(ServerSentEvent)[0].name == "event"


def test_errors() -> None:
    assert issubclass(EventTooLarge, SSEError)
    assert issubclass(SSEError, Exception)
    exc = EventTooLarge(10)
    assert (exc.limit, exc.events) == (10, [])
    assert "10" in str(exc)


def test_public_names() -> None:
    assert levante.sse.__all__ == sorted(levante.sse.__all__)
    assert set(levante.sse.__all__) == {
        "DEFAULT_MAX_EVENT_SIZE",
        "EventTooLarge",
        "SSEDecoder",
        "SSEError",
        "ServerSentEvent",
    }
    for name in ["EventTooLarge", "SSEDecoder", "SSEError", "ServerSentEvent"]:
        member = getattr(levante.sse, name)
        assert member.__module__.startswith("levante.sse.")
        assert member.__doc__


def test_package_docstring_example_runs() -> None:
    result = doctest.testmod(levante.sse, verbose=False, report=False)
    assert result.attempted > 0
    assert result.failed == 0
