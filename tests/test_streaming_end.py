"""EndRule (levante._streaming._end) and how the stream constructors' keywords map onto it."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx2
import pytest

from levante import EndRule, EventStream, EventStreamAsync
from levante._streaming._base import end_rule


def test_the_three_kinds() -> None:
    done = EndRule.at_sentinel()
    assert (done.kind, done.sentinel, done.terminal, done.errors) == (
        "sentinel",
        "[DONE]",
        frozenset(),
        frozenset({"error"}),
    )
    event = EndRule.at_event(["transcription.done"], errors=["error", "transcription.failed"])
    assert event.kind == "event" and event.sentinel is None
    assert event.terminal == frozenset({"transcription.done"})
    assert event.errors == frozenset({"error", "transcription.failed"})
    body = EndRule.at_body_end(error_payloads=False)
    assert (body.kind, body.terminal, body.error_payloads) == ("body", frozenset(), False)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (EndRule.at_sentinel("END"), "the 'END' sentinel"),
        (EndRule.at_event({"b.done", "a.done"}), "a terminal event (a.done, b.done)"),
        (EndRule.at_body_end(), "the end of the body"),
    ],
)
def test_expected_says_what_the_stream_waits_for(rule: EndRule, words: str) -> None:
    assert rule.expected() == words


def test_rules_are_frozen_values() -> None:
    rule = EndRule.at_event(["done"])
    assert rule == EndRule("event", None, frozenset({"done"}))
    assert hash(rule) == hash(EndRule.at_event({"done"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.kind = "body"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: EndRule("sometimes"), ValueError),
        (lambda: EndRule("sentinel"), ValueError),
        (lambda: EndRule("body", sentinel="[DONE]"), ValueError),
        (lambda: EndRule("event"), ValueError),
        (lambda: EndRule("body", terminal=frozenset({"x"})), ValueError),
        (lambda: EndRule.at_sentinel(b"[DONE]"), TypeError),
        (lambda: EndRule.at_event("done"), TypeError),
        (lambda: EndRule.at_event([1]), TypeError),
        (lambda: EndRule.at_body_end(errors="error"), TypeError),
        (lambda: EndRule.at_body_end(error_payloads=1), TypeError),
    ],
)
def test_bad_rules_are_refused(make: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({}, EndRule.at_body_end()),
        ({"sentinel": "[DONE]"}, EndRule.at_sentinel()),
        ({"terminal_events": ["done", "failed"]}, EndRule.at_event({"done", "failed"})),
        ({"end": EndRule.at_sentinel("X")}, EndRule.at_sentinel("X")),
    ],
)
def test_constructor_keywords_map_onto_a_rule(kwargs: dict[str, Any], rule: EndRule) -> None:
    given = {"sentinel": None, "terminal_events": (), "end": None, **kwargs}
    assert end_rule(**given) == rule
    response = httpx2.Response(200, stream=httpx2.ByteStream(b""))
    stream = EventStream(response, lambda event: event, **kwargs)
    assert stream.end == rule
    stream.close()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"sentinel": "[DONE]", "terminal_events": ["done"]}, "at most one"),
        ({"sentinel": "[DONE]", "end": EndRule.at_sentinel()}, "at most one"),
        ({"terminal_events": "done"}, "not a string"),
        ({"sentinel": 1}, "sentinel must be a str"),
        ({"end": "[DONE]"}, "end must be an EndRule"),
    ],
)
def test_bad_constructor_keywords_are_refused_before_any_read(
    kwargs: dict[str, Any], words: str
) -> None:
    for cls in (EventStream, EventStreamAsync):
        body = httpx2.ByteStream(b"")
        with pytest.raises(TypeError, match=words):
            cls(httpx2.Response(200, stream=body), lambda event: event, **kwargs)
