"""The sans-IO stream core, driven without sockets: bytes in, items and steps out.

``run`` plays the part of a twin: it answers READ with the next scripted read (None for
the end of the body), counts CHECKPOINTs, collects items, and returns at the first step
that ends the iteration, with the state and the failure the core decided.
"""

from __future__ import annotations

import importlib.util
import pathlib
import random
from typing import Any

import httpx2
import pytest

from conftest import Clock, loads, make_core, run_core
from levante._streaming._core import StreamCore
from levante._streaming._end import EndRule
from levante._streaming._state import (
    CLOSED,
    DEADLINE,
    DRAIN_MAX_BYTES,
    DRAIN_TIMEOUT,
    FAIL,
    FAIRNESS_MASK,
    LOST,
    READ,
    STOP,
    State,
    Step,
)
from levante.errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    StreamClosed,
    StreamTimeout,
)

DONE = EndRule.at_sentinel()
BODY = EndRule.at_body_end()
TERMINAL = EndRule.at_event({"done"})


# -- read failures ------------------------------------------------------------------------

READ_FAILURES: list[tuple[str, BaseException, Step, type, bool]] = [
    (
        "connection lost",
        httpx2.RemoteProtocolError("peer closed"),
        LOST,
        IncompleteStreamError,
        True,
    ),
    ("read error", httpx2.ReadError("reset"), LOST, IncompleteStreamError, True),
    ("read timeout", httpx2.ReadTimeout("slow"), FAIL, APITimeoutError, True),
    ("other transport error", httpx2.ConnectError("refused"), FAIL, APIConnectionError, True),
    ("not ours", KeyError("k"), FAIL, KeyError, False),
]


@pytest.mark.parametrize(
    ("exc", "step", "error", "chained"),
    [case[1:] for case in READ_FAILURES],
    ids=[case[0] for case in READ_FAILURES],
)
def test_read_failures(exc: BaseException, step: Step, error: type, chained: bool) -> None:
    core = make_core()
    core._feed(b"data: 1\n\n")
    assert core._step() == 1
    assert core._read_failed(exc) is step
    failure = core._take_failure()
    assert isinstance(failure, error)
    if chained:
        assert failure.__cause__ is exc
    else:
        assert failure is exc
    assert core._step() is step  # the state says the same until released


@pytest.mark.parametrize(
    ("interrupt", "error", "words"),
    [(CLOSED, StreamClosed, "closed"), (DEADLINE, StreamTimeout, "first_event_timeout=2.0")],
)
def test_an_interrupted_read_reports_why(interrupt: str, error: type, words: str) -> None:
    core = make_core(first_event_timeout=2)
    core._interrupt = interrupt
    # Whatever the read raised on its way out, the interrupt is the reason.
    assert core._read_failed(OSError("bad fd")) is FAIL
    failure = core._take_failure()
    assert isinstance(failure, error) and words in str(failure)
    assert failure.__cause__ is None and failure.__suppress_context__
    core._interrupt = interrupt
    assert core._interrupted() is FAIL and isinstance(core._take_failure(), error)


# -- deadlines ----------------------------------------------------------------------------


def test_first_event_deadline_then_idle_deadlines_from_each_wait() -> None:
    clock = Clock()
    core = make_core(first_event_timeout=5, idle_timeout=2, clock=clock)
    assert core._step() is READ and core._deadline == 105.0
    clock.now = 101.0
    core._feed(b": keep-alive\n\n")  # a comment is not an event: the deadline stays
    assert core._step() is READ and core._deadline == 105.0
    clock.now = 103.0
    core._feed(b"data: 1\n\n")
    assert core._deadline is None
    assert core._step() == 1
    clock.now = 110.0  # the consumer's own time is not counted
    assert core._step() is READ and core._deadline == 112.0
    core._feed(b"data: 2")  # a partial event does not reset it either
    assert core._step() is READ and core._deadline == 112.0


@pytest.mark.parametrize(
    ("kwargs", "deadline"),
    [({}, None), ({"idle_timeout": 3}, 103.0), ({"first_event_timeout": 1}, 101.0)],
)
def test_the_first_deadline(kwargs: dict[str, float], deadline: float | None) -> None:
    core = make_core(clock=Clock(), **kwargs)
    assert core._step() is READ and core._deadline == deadline


def test_no_idle_deadline_without_idle_timeout() -> None:
    clock = Clock()
    core = make_core(first_event_timeout=1, clock=clock)
    core._feed(b"data: 1\n\n")
    assert core._step() == 1
    assert core._step() is READ and core._deadline is None


@pytest.mark.parametrize(
    ("events_first", "words"),
    [
        (False, "no event within first_event_timeout=4.0 s"),
        (True, "no event within idle_timeout=2.0 s"),
    ],
)
def test_timed_out_names_the_timeout_that_fired(events_first: bool, words: str) -> None:
    core = make_core(first_event_timeout=4, idle_timeout=2, clock=Clock())
    if events_first:
        core._feed(b"data: 1\n\n")
        assert core._step() == 1
    assert core._timed_out() is FAIL
    failure = core._take_failure()
    assert isinstance(failure, StreamTimeout) and str(failure) == words
    assert failure.events_delivered == int(events_first)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5"])
def test_bad_timeouts_are_refused(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="idle_timeout"):
        make_core(idle_timeout=bad)


# -- stats --------------------------------------------------------------------------------


def test_stats_time_events_bytes_and_gaps_by_the_reads() -> None:
    clock = Clock()
    core = make_core(clock=clock)
    reads = [b"data: 1\n\ndata: 2\n\n", b": only a comment\n\n", b"data: 3\n\n", b"data: 4\n\n"]
    # No event in the comment's read: no gap is measured there.
    delivered = []
    for now, data in zip([100.5, 101.0, 103.5, 104.0], reads, strict=True):
        clock.now = now
        core._feed(data)
        while (step := core._step()) is not READ:
            delivered.append(step)
    assert delivered == [1, 2, 3, 4]
    stats = core.stats
    assert stats.time_to_first_event == 0.5
    assert stats.longest_gap == 3.0
    assert stats.events == 4
    assert stats.bytes == sum(map(len, reads))
    assert stats.elapsed == 4.0
    clock.now = 105.0
    assert core._begin_release() and not core._begin_release()
    clock.now = 200.0
    assert core.stats.elapsed == 5.0  # frozen at the release


def test_stats_before_any_event() -> None:
    stats = make_core(clock=Clock()).stats
    assert (stats.time_to_first_event, stats.events, stats.bytes, stats.elapsed) == (
        None,
        0,
        0,
        0.0,
    )


# -- fairness -----------------------------------------------------------------------------


class FairCore(StreamCore[Any]):
    _fair_mask = FAIRNESS_MASK


@pytest.mark.parametrize(("count", "expected"), [(31, []), (32, [31]), (100, [31, 63, 95])])
def test_a_fair_core_asks_for_a_checkpoint_before_every_32nd_event_of_a_read(
    count: int, expected: list[int]
) -> None:
    body = b"".join(b"data: %d\n\n" % i for i in range(count))
    result = run_core(FairCore(loads, end=BODY), [body])
    assert result.items == list(range(count))
    assert result.checkpoints == expected


def test_fairness_counts_within_one_read() -> None:
    reads = [b"data: 0\n\n" * 20] * 3  # 60 events, never 32 from one read
    assert run_core(FairCore(loads, end=BODY), reads).checkpoints == []
    reads = [b"data: 0\n\n" * 32] * 2  # each read has its own 32nd event
    assert run_core(FairCore(loads, end=BODY), reads).checkpoints == [31, 63]
    assert run_core(make_core(BODY), [b"data: 0\n\n" * 100]).checkpoints == []  # not fair: never


# -- lifecycle state ----------------------------------------------------------------------


def test_close_wins_over_any_later_decision() -> None:
    core = make_core()
    core._feed(b"data: 1\n\ndata: 2\n\n")
    core._state = State.CLOSING  # what close() does from another thread
    assert core._step() == 1  # events in hand are still handed out until the release
    core._feed(b"data: [DONE]\n\n")
    assert core._step() is STOP  # the sentinel cannot move a closing stream to ENDING
    assert core._state is State.CLOSING
    core._body_ended()
    assert core._state is State.CLOSING
    assert core._begin_release()
    assert len(core._pending) == 0 and core._step() is STOP


def test_release_drops_pending_events() -> None:
    core = make_core()
    core._feed(b"data: 1\n\ndata: 2\n\n")
    assert core._begin_release() and core._state is State.RELEASING
    assert core._step() is STOP


def test_state_only_moves_forward_from_open() -> None:
    core = make_core()
    core._advance(State.ENDING)
    core._advance(State.FAILED)
    assert core._state is State.ENDING


# -- draining -----------------------------------------------------------------------------


def test_drain_is_bounded_by_bytes() -> None:
    clock = Clock()
    core = make_core(clock=clock)
    assert core._drain_deadline() == 100.0 + DRAIN_TIMEOUT
    chunk = b"x" * 1000
    reads = 0
    while core._drained(chunk):
        reads += 1
    assert reads == DRAIN_MAX_BYTES // 1000
    assert core.stats.bytes == (reads + 1) * 1000


@pytest.mark.parametrize("outcome", [None, STOP, FAIL])
def test_drain_stops_at_the_end_or_a_cut_read(outcome: Step | None) -> None:
    core = make_core()
    core._drain_deadline()
    assert not core._drained(outcome)


def test_a_foreign_error_while_draining_still_propagates() -> None:
    core = make_core()
    core._read_failed(httpx2.ReadError("reset"))
    assert core._drain_error() is None  # ours: the connection is simply not reused
    core = make_core()
    interrupt = KeyboardInterrupt()
    core._read_failed(interrupt)
    assert core._drain_error() is interrupt


# -- the reconnection seam ----------------------------------------------------------------


def test_a_lost_stream_resumes_discarding_the_partial_event() -> None:
    clock = Clock()
    core = make_core(first_event_timeout=3, clock=clock)
    core._feed(b"retry: 2500\n\nid: 7\ndata: 1\n\nid: 8\ndata: par")
    assert core._step() == 1
    assert core._read_failed(httpx2.RemoteProtocolError("peer closed")) is LOST
    assert core.last_event_id == "7"  # what a reconnection sends as Last-Event-ID
    assert core.retry == 2500  # and how long it waits first
    clock.now = 150.0
    core._resume()
    assert core._state is State.OPEN and core._failure is None
    assert core._step() is READ and core._deadline == 153.0
    core._feed(b"tial\n\nid: 8\ndata: 2\n\ndata: [DONE]\n\n")  # "tial" alone is no event
    assert run_core(core, []).items == [2]
    assert core.last_event_id == "8" and core.stats.events == 2


def test_only_a_lost_stream_resumes() -> None:
    core = make_core()
    with pytest.raises(RuntimeError, match="OPEN"):
        core._resume()
    core._read_failed(httpx2.ReadTimeout("slow"))
    with pytest.raises(RuntimeError, match="FAILED"):
        core._resume()


# -- the fuzzer's checks, on a fixed seed ---------------------------------------------------


def test_random_bodies_reads_and_rules_agree_with_the_model() -> None:
    path = pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_stream_core.py"
    spec = importlib.util.spec_from_file_location("fuzz_stream_core", path)
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    rng = random.Random(20261202)
    for _ in range(500):
        assert fuzz.check(rng) is None
