"""The reconnection policy and its bookkeeping, with no sockets (levante/_reconnect.py)."""

from __future__ import annotations

import math

import pytest

from levante import Reconnect
from levante._reconnect import ReconnectState, resolve_reconnect
from levante.errors import IncompleteStreamError, ReconnectError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (False, None), (True, Reconnect()), (Reconnect(3), Reconnect(3))],
)
def test_resolve(value: object, expected: Reconnect | None) -> None:
    assert resolve_reconnect(value) == expected


@pytest.mark.parametrize("value", [1, 0, "yes", 2.0])
def test_resolve_refuses_other_values(value: object) -> None:
    with pytest.raises(TypeError, match="reconnect must be"):
        resolve_reconnect(value)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_attempts": 0}, ValueError),
        ({"max_attempts": True}, TypeError),
        ({"max_attempts": 2.0}, TypeError),
        ({"initial_delay": -1}, ValueError),
        ({"initial_delay": math.nan}, ValueError),
        ({"max_delay": math.inf}, ValueError),
        ({"max_delay": "1"}, TypeError),
        ({"jitter": 1.5}, ValueError),
        ({"jitter": -0.1}, ValueError),
        ({"on_end": 1}, TypeError),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error, match="Reconnect"):
        Reconnect(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.08, 0.1), (2, 0.16, 0.2), (3, 0.32, 0.4), (4, 0.5, 0.5), (100, 0.5, 0.5)],
)
def test_backoff_doubles_with_jitter_and_is_capped(attempt: int, low: float, high: float) -> None:
    policy = Reconnect(initial_delay=0.1, max_delay=0.5, jitter=0.2)
    for _ in range(200):
        delay = policy.delay(attempt, None)
        if high == 0.5 and attempt >= 4:
            assert 0.4 <= delay <= 0.5
        else:
            assert low <= delay <= high


def test_without_jitter_the_backoff_is_exact() -> None:
    policy = Reconnect(initial_delay=0.25, max_delay=10, jitter=0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [0.25, 0.5, 1.0, 2.0]


@pytest.mark.parametrize(("retry", "expected"), [(0, 0.0), (250, 0.25), (10**9, 30.0)])
def test_the_servers_retry_replaces_the_backoff(retry: int, expected: float) -> None:
    # exactly, without jitter, whatever the attempt; max_delay still bounds it
    policy = Reconnect(jitter=1.0)
    assert {policy.delay(n, retry) for n in (1, 2, 5)} == {expected}


def test_attempts_without_progress_are_bounded() -> None:
    state = ReconnectState(Reconnect(max_attempts=3, initial_delay=0, jitter=0))
    lost = IncompleteStreamError("cut")
    state.lost(lost, progressed=True)
    refused = ConnectionRefusedError("no server")
    waits = []
    for _ in range(3):
        waits.append(state.next_wait(None))
        state.failed(refused)
    assert waits == [0.0, 0.0, 0.0]
    with pytest.raises(ReconnectError, match="after 3 attempts") as caught:
        state.next_wait(None)
    assert caught.value.attempts == 3
    assert caught.value.__cause__ is refused
    assert isinstance(caught.value, IncompleteStreamError)


def test_progress_resets_the_count_and_no_progress_keeps_it() -> None:
    state = ReconnectState(Reconnect(max_attempts=2, initial_delay=0, jitter=0))
    for _ in range(10):  # any number of drops, each after some events
        state.lost(IncompleteStreamError("cut"), progressed=True)
        state.next_wait(None)
        state.attached()
    assert state.reconnections == 10 and state.attempts == 1
    # connections that deliver nothing count
    state.lost(IncompleteStreamError("cut again"), progressed=False)
    state.next_wait(None)
    state.attached()
    last = IncompleteStreamError("and again")
    state.lost(last, progressed=False)
    with pytest.raises(ReconnectError, match="after 2 attempts") as caught:
        state.next_wait(None)
    assert caught.value.__cause__ is last


def test_one_attempt_is_singular() -> None:
    state = ReconnectState(Reconnect(max_attempts=1, initial_delay=0))
    state.lost(IncompleteStreamError("cut"), progressed=False)
    state.next_wait(None)
    with pytest.raises(ReconnectError, match="after 1 attempt without"):
        state.next_wait(None)
