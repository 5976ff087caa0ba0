"""Reconnection policy for event streams: when to try again and how long to wait (no I/O).

:class:`Reconnect` is what a caller passes (``reconnect=True`` means ``Reconnect()``);
:class:`ReconnectState` is the bookkeeping of one stream: attempts made since the last
progress, the wait before the next attempt, the error when giving up. The reconnecting
streams in :mod:`levante._connect` only wait, send and attach the new body.

Rules (the Server-Sent Events standard's, plus a bound):

- the wait is the server's latest ``retry:`` (milliseconds) when it sent one, else an
  exponential backoff with jitter; ``max_delay`` bounds both;
- a connection that delivers at least one event resets the attempt count, so a long
  stream survives any number of drops; without progress, ``max_attempts`` new requests
  are made, then :class:`~levante.errors.ReconnectError` is raised, chaining the last cause.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TypeAlias

from .errors import ReconnectError

__all__ = ["Reconnect", "ReconnectPolicy", "ReconnectState", "resolve_reconnect"]


@dataclass(frozen=True, slots=True)
class Reconnect:
    """How a stream reconnects after its connection is lost (opt in: ``reconnect=``).

    A connection error or a body cut short while being read is followed by a new request
    carrying the last event id seen (``Last-Event-ID``, or the endpoint's own resume
    parameter), after a wait: the server's latest ``retry:`` when it sent one, else
    ``initial_delay * 2**n`` (``n`` counting attempts without progress) scaled by a random
    factor in ``[1 - jitter, 1]``; ``max_delay`` (seconds) bounds either wait.

    ``max_attempts`` new requests are made without progress before giving up with
    :class:`~levante.errors.ReconnectError`; a connection that delivers at least one
    event starts the count again. A ``204 No Content`` answer ends the stream; an HTTP
    error status, ``close()`` and cancellation end it without reconnecting.

    A stream timeout (``first_event_timeout``, ``idle_timeout``) or a transport timeout
    is not a lost connection: it raises as it does without reconnection.

    ``on_end``: also reconnect when the body ends cleanly, as the standard's
    ``EventSource`` does (then only a 204, an error, ``close()`` or ``max_attempts``
    ends the stream). By default a clean end of the body is the end of the stream.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.2
    on_end: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TypeError("Reconnect.max_attempts must be an int")
        if self.max_attempts < 1:
            raise ValueError("Reconnect.max_attempts must be >= 1")
        for name in ("initial_delay", "max_delay", "jitter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Reconnect.{name} must be a number")
            if not 0 <= value < math.inf:  # NaN fails both comparisons
                raise ValueError(f"Reconnect.{name} must be finite and >= 0")
        if self.jitter > 1:
            raise ValueError("Reconnect.jitter must be between 0 and 1")
        if not isinstance(self.on_end, bool):
            raise TypeError("Reconnect.on_end must be a bool")

    def delay(self, attempt: int, server_retry_ms: int | None) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based) without progress."""
        if server_retry_ms is not None:
            return min(server_retry_ms / 1000, self.max_delay)
        base = min(self.initial_delay * 2.0 ** min(attempt - 1, 64), self.max_delay)
        return base * (1.0 - self.jitter * random.random())


#: What a ``reconnect=`` argument may be: ``False`` / ``None`` (off), ``True`` (the
#: defaults) or a :class:`Reconnect`.
ReconnectPolicy: TypeAlias = bool | Reconnect | None


def resolve_reconnect(value: object) -> Reconnect | None:
    """Any accepted ``reconnect=`` value as a :class:`Reconnect`, or None when off."""
    if value is None or value is False:
        return None
    if value is True:
        return Reconnect()
    if isinstance(value, Reconnect):
        return value
    raise TypeError(f"reconnect must be a bool or a levante.Reconnect, not {type(value).__name__}")


class ReconnectState:
    """The reconnection bookkeeping of one stream (sans-IO).

    The stream tells it when a connection was lost (:meth:`lost`, with whether that
    connection made progress) and when an attempt failed (:meth:`failed`); it answers
    with the wait before the next attempt, or raises :class:`ReconnectError`.
    """

    __slots__ = ("attempts", "cause", "policy", "reconnections")

    def __init__(self, policy: Reconnect) -> None:
        self.policy = policy
        #: Requests made since the last connection that delivered an event.
        self.attempts = 0
        #: Connections attached after a loss (what ``stream.stats.reconnections`` shows).
        self.reconnections = 0
        self.cause: BaseException | None = None

    def lost(self, cause: BaseException, progressed: bool) -> None:
        """A connection was lost; ``progressed``: it delivered at least one event."""
        if progressed:
            self.attempts = 0
        self.cause = cause

    def failed(self, cause: BaseException) -> None:
        """An attempt could not get a stream (e.g. the server could not be reached)."""
        self.cause = cause

    def next_wait(self, server_retry_ms: int | None) -> float:
        """Count one more attempt and return the wait before it; raise when none is left."""
        if self.attempts >= self.policy.max_attempts:
            error = ReconnectError(
                f"gave up reconnecting after {self.attempts} attempt"
                f"{'' if self.attempts == 1 else 's'} without an event: {self.cause}",
                attempts=self.attempts,
            )
            error.__cause__ = self.cause
            raise error
        self.attempts += 1
        return self.policy.delay(self.attempts, server_retry_ms)

    def attached(self) -> None:
        """A new connection answered with an event stream."""
        self.reconnections += 1
