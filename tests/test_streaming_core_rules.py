"""The sans-IO stream core's end rules and in-stream errors, table-driven, no sockets:
per rule, which bodies end, which are truncated, which events are errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import make_core, run_core
from levante._streaming._end import EndRule
from levante._streaming._state import (
    DRAIN,
    FAIL,
    LOST,
    STOP,
    State,
    Step,
)
from levante.errors import (
    IncompleteStreamError,
    StreamAPIError,
    StreamDecodeError,
    StreamEventTooLarge,
)
from levante.sse import ServerSentEvent

DONE = EndRule.at_sentinel()
BODY = EndRule.at_body_end()
TERMINAL = EndRule.at_event({"done"})


# -- end rules ----------------------------------------------------------------------------

# (name, rule, reads, items, final step, error type, words in the error)
END_CASES: list[tuple[str, EndRule, list[bytes], list[Any], Step, type | None, str]] = [
    ("sentinel", DONE, [b"data: 1\n\n", b"data: [DONE]\n\n"], [1], DRAIN, None, ""),
    (
        "sentinel in one read",
        DONE,
        [b"data: 1\n\ndata: [DONE]\n\ndata: 2\n\n"],
        [1],
        DRAIN,
        None,
        "",
    ),
    ("sentinel split", DONE, [b"data: 1\n\ndata: [DO", b"NE]\n", b"\n"], [1], DRAIN, None, ""),
    (
        "custom sentinel",
        EndRule.at_sentinel("END"),
        [b"data: 1\n\ndata: END\n\n"],
        [1],
        DRAIN,
        None,
        "",
    ),
    (
        "no sentinel",
        DONE,
        [b"data: 1\n\n", b"data: 2\n\n"],
        [1, 2],
        LOST,
        IncompleteStreamError,
        "ended before the '[DONE]' sentinel",
    ),
    (
        "cut mid-event",
        DONE,
        [b"data: 1\n\ndata: 2"],
        [1],
        LOST,
        IncompleteStreamError,
        "middle of an event",
    ),
    ("empty body", DONE, [], [], LOST, IncompleteStreamError, "sentinel"),
    (
        "terminal",
        TERMINAL,
        [b"event: delta\ndata: 1\n\n", b"event: done\ndata: 2\n\nevent: delta\ndata: 3\n\n"],
        [1, 2],
        DRAIN,
        None,
        "",
    ),
    (
        "no terminal",
        EndRule.at_event({"done", "failed"}),
        [b"event: delta\ndata: 1\n\n"],
        [1],
        LOST,
        IncompleteStreamError,
        "a terminal event (done, failed)",
    ),
    (
        "sentinel data is an item by event",
        TERMINAL,
        [b"data: [DONE]\n\nevent: done\ndata: 2\n\n"],
        ["[DONE]", 2],
        DRAIN,
        None,
        "",
    ),
    ("end of body", BODY, [b"data: 1\n\n", b"data: 2\n\n"], [1, 2], STOP, None, ""),
    ("end of body, empty", BODY, [], [], STOP, None, ""),
    (
        "end of body, cut",
        BODY,
        [b"data: 1\n\ndata: 2\n"],
        [1],
        LOST,
        IncompleteStreamError,
        "middle of an event",
    ),
    (
        "sentinel is data by body",
        BODY,
        [b"data: 1\n\n", b"data: [DONE]\n\n"],
        [1, "[DONE]"],
        STOP,
        None,
        "",
    ),
]


def _decode_any(event: ServerSentEvent) -> Any:
    try:
        return json.loads(event.data)
    except ValueError:
        return event.data


@pytest.mark.parametrize(
    ("rule", "reads", "items", "step", "error", "words"),
    [case[1:] for case in END_CASES],
    ids=[case[0] for case in END_CASES],
)
def test_end_rules(
    rule: EndRule,
    reads: list[bytes],
    items: list[Any],
    step: Step,
    error: type | None,
    words: str,
) -> None:
    result = run_core(make_core(rule, _decode_any), reads)
    assert result.items == items
    assert result.step is step
    if error is None:
        assert result.failure is None
    else:
        assert isinstance(result.failure, error)
        assert words in str(result.failure)
        assert result.state is State.LOST


def test_the_step_after_an_end_stays_the_same() -> None:
    core = make_core(TERMINAL)
    assert run_core(core, [b"event: done\ndata: 1\n\n"]).step is DRAIN
    assert core._step() is DRAIN  # a second __next__ asks the same
    assert core._state is State.ENDING


# -- in-stream errors ---------------------------------------------------------------------

ERROR_CASES: list[tuple[str, EndRule, bytes, type | None, str]] = [
    ("event: error", DONE, b'event: error\ndata: {"message": "boom"}\n\n', StreamAPIError, "boom"),
    (
        "event: error, text",
        DONE,
        b"event: error\ndata: plain words\n\n",
        StreamAPIError,
        "plain words",
    ),
    (
        "error object",
        DONE,
        b'data: {"error": {"message": "bad", "code": 3}}\n\n',
        StreamAPIError,
        "bad",
    ),
    (
        "object error",
        DONE,
        b'data: {"object": "error", "message": "nope", "type": "t"}\n\n',
        StreamAPIError,
        "nope (type=t)",
    ),
    ("error null", DONE, b'data: {"error": null, "i": 1}\n\n', None, ""),
    ("error in a string", DONE, b'data: {"text": "\\"error\\""}\n\n', None, ""),
    ("error as a value", DONE, b'data: {"kind": "error"}\n\n', None, ""),
    ("error list", DONE, b'data: ["error"]\n\n', None, ""),
    (
        "error type beside a terminal",
        EndRule.at_event({"response.completed"}, errors={"response.failed"}),
        b'event: response.failed\ndata: {"response": {"error": {"message": "m"}}}\n\n',
        StreamAPIError,
        "the server reported an error in the stream",
    ),
    (
        "event: error is no error when not listed",
        EndRule.at_event({"done"}, errors={"failed"}, error_payloads=False),
        b"event: error\ndata: 1\n\n",
        None,
        "",
    ),
    (
        "error payloads off",
        EndRule.at_body_end(error_payloads=False),
        b'data: {"error": "kept"}\n\n',
        None,
        "",
    ),
    (
        "a terminal type is delivered even if shaped like an error",
        EndRule.at_event({"error"}),
        b'event: error\ndata: {"error": "x"}\n\n',
        None,
        "",
    ),
]


@pytest.mark.parametrize(
    ("rule", "read", "error", "words"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_in_stream_errors(rule: EndRule, read: bytes, error: type | None, words: str) -> None:
    core = make_core(rule, _decode_any)
    result = run_core(core, [b"data: 0\n\n", read, b"data: 9\n\n"])
    if error is None:
        assert result.step is not FAIL and len(result.items) >= 2
        return
    assert result.items == [0]  # nothing after the error is delivered
    assert result.step is FAIL and result.state is State.FAILED
    failure = core._take_failure()
    assert isinstance(failure, StreamAPIError)
    assert words in str(failure)
    assert failure.events_delivered == 1
    assert failure.event.data.encode() in read


def test_error_message_is_bounded_and_the_payload_kept_whole() -> None:
    message = "x" * 2000
    core = make_core(BODY)
    result = run_core(
        core, [b"event: error\ndata: " + json.dumps({"message": message}).encode() + b"\n\n"]
    )
    assert result.step is FAIL
    failure = core._take_failure()
    assert isinstance(failure, StreamAPIError)
    assert len(str(failure)) < 600 and str(failure).endswith("...")
    assert failure.payload == {"message": message}


def test_a_decode_failure_fails_the_stream_with_the_event_and_cause() -> None:
    core = make_core(BODY)
    result = run_core(core, [b"data: 1\n\ndata: {oops\n\ndata: 3\n\n"])
    assert result.items == [1] and result.step is FAIL
    failure = core._take_failure()
    assert isinstance(failure, StreamDecodeError)
    assert failure.event.data == "{oops" and failure.events_delivered == 1
    assert isinstance(failure.__cause__, ValueError)


def test_an_oversized_event_fails_once_the_events_of_its_read_are_delivered() -> None:
    core = make_core(BODY, max_event_size=64)
    oversized = b"data: " + b"x" * 100 + b"\n\n"
    result = run_core(
        core, [b"data: 1\n\n", b"data: 2\n\n" + oversized + b"data: 3\n\n", b"data: 4\n\n"]
    )
    # The decoder completes every event of that read but the oversized one; no more is read.
    assert result.items == [1, 2, 3] and result.step is FAIL
    failure = core._take_failure()
    assert isinstance(failure, StreamEventTooLarge)
    assert failure.events_delivered == 3


def test_an_oversized_event_beside_the_sentinel_is_still_reported() -> None:
    # The decoder cannot say where in the read the oversized event was: an event may have
    # been lost before the sentinel, so the stream fails rather than ends quietly.
    core = make_core(DONE, max_event_size=64)
    result = run_core(core, [b"data: 1\n\ndata: " + b"x" * 100 + b"\n\ndata: [DONE]\n\n"])
    assert result.items == [1] and result.step is FAIL
    assert isinstance(core._take_failure(), StreamEventTooLarge)
