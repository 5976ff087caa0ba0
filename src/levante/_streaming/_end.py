"""EndRule: how a stream ends, as data, and so what counts as truncated or as an error."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["EndRule"]

EndKind = Literal["sentinel", "event", "body"]

_DEFAULT_ERRORS = frozenset({"error"})


def _names(what: str, names: Iterable[str]) -> frozenset[str]:
    if isinstance(names, (str, bytes)):
        raise TypeError(f"{what} must be a collection of event types, not a string")
    found = frozenset(names)
    if not all(isinstance(name, str) for name in found):
        raise TypeError(f"{what} must contain only str event types")
    return found


@dataclass(frozen=True, slots=True)
class EndRule:
    """How a stream ends; it decides what is truncated and what is an in-stream error.

    Three kinds, each made by a class method:

    - :meth:`at_sentinel`: an event whose data equals ``sentinel`` (``"[DONE]"`` for chat
      completions) ends the stream and is not yielded.
    - :meth:`at_event`: an event whose type is in ``terminal`` (``"transcription.done"``,
      ``"response.completed"``...) is yielded, then ends the stream; events after it in
      the body are dropped.
    - :meth:`at_body_end`: the stream ends with its body (workflow event streams).

    Truncated (:class:`~levante.errors.IncompleteStreamError`), whatever the kind: a body
    that ends in the middle of an event, and a connection lost while reading. For the
    sentinel and event kinds, also a body that ends before the marker.

    In-stream errors (:class:`~levante.errors.StreamAPIError`, which ends the stream): an
    event whose type is in ``errors`` (``{"error"}`` unless given, e.g. ``{"error",
    "response.failed"}``), and, when ``error_payloads`` is true, data that is a JSON object
    with a non-null top-level ``"error"`` or with ``"object": "error"``. An event whose type
    is in ``terminal`` is never an error: the caller asked to receive it.
    """

    #: ``"sentinel"``, ``"event"`` or ``"body"``.
    kind: EndKind
    #: The data string that ends a ``"sentinel"`` stream; None for the other kinds.
    sentinel: str | None = None
    #: The event types that end an ``"event"`` stream, after being yielded.
    terminal: frozenset[str] = frozenset()
    #: The event types that report an in-stream error.
    errors: frozenset[str] = _DEFAULT_ERRORS
    #: Whether JSON data shaped like an error object is an in-stream error.
    error_payloads: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("sentinel", "event", "body"):
            raise ValueError(f"kind must be 'sentinel', 'event' or 'body', not {self.kind!r}")
        if (self.kind == "sentinel") != (self.sentinel is not None):
            raise ValueError("a sentinel is given exactly when kind is 'sentinel'")
        if self.sentinel is not None and not isinstance(self.sentinel, str):
            raise TypeError(f"sentinel must be a str, not {type(self.sentinel).__name__}")
        terminal = _names("terminal", self.terminal)
        if (self.kind == "event") != bool(terminal):
            raise ValueError("terminal event types are given exactly when kind is 'event'")
        # Frozen: normalise the collections once, here.
        object.__setattr__(self, "terminal", terminal)
        object.__setattr__(self, "errors", _names("errors", self.errors))
        if not isinstance(self.error_payloads, bool):
            raise TypeError("error_payloads must be a bool")

    @classmethod
    def at_sentinel(
        cls,
        sentinel: str = "[DONE]",
        *,
        errors: Iterable[str] = _DEFAULT_ERRORS,
        error_payloads: bool = True,
    ) -> EndRule:
        """The stream ends at an event whose data is ``sentinel``, which is not yielded."""
        return cls("sentinel", sentinel, frozenset(), _names("errors", errors), error_payloads)

    @classmethod
    def at_event(
        cls,
        terminal: Iterable[str],
        *,
        errors: Iterable[str] = _DEFAULT_ERRORS,
        error_payloads: bool = True,
    ) -> EndRule:
        """The stream ends after yielding an event whose type is in ``terminal``."""
        return cls(
            "event", None, _names("terminal", terminal), _names("errors", errors), error_payloads
        )

    @classmethod
    def at_body_end(
        cls, *, errors: Iterable[str] = _DEFAULT_ERRORS, error_payloads: bool = True
    ) -> EndRule:
        """The stream ends with the body; only a body cut mid-event is truncated."""
        return cls("body", None, frozenset(), _names("errors", errors), error_payloads)

    def expected(self) -> str:
        """What the stream waits for before its body may end, in words."""
        if self.kind == "sentinel":
            return f"the {self.sentinel!r} sentinel"
        if self.kind == "event":
            return "a terminal event (" + ", ".join(sorted(self.terminal)) + ")"
        return "the end of the body"
