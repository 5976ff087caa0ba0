"""The vocabulary of the stream core: its lifecycle states, its steps, its limits, its stats."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

__all__ = [
    "CHECKPOINT",
    "CLOSED",
    "CLOSE_WAIT",
    "DEADLINE",
    "DRAIN",
    "DRAIN_MAX_BYTES",
    "DRAIN_TIMEOUT",
    "FAIL",
    "FAIRNESS_MASK",
    "LOST",
    "READ",
    "STEPS",
    "STOP",
    "State",
    "Step",
    "StreamStats",
]

#: After the end marker, at most this many bytes of the body are read to reuse the connection.
DRAIN_MAX_BYTES = 64 * 1024
#: After the end marker, at most this many seconds are spent reading the rest of the body.
DRAIN_TIMEOUT = 1.0
#: How long ``close()`` waits for a reader it interrupted to release the connection.
CLOSE_WAIT = 5.0
#: A fair stream yields to the event loop before every 32nd event of one read.
FAIRNESS_MASK = 31

#: Why a read was cut short (the twins' ``_interrupt``).
CLOSED: Final = "closed"
DEADLINE: Final = "deadline"


class State(IntEnum):
    """Where a stream is in its life; it only moves forward (but see ``_resume``)."""

    OPEN = 0  # events are delivered and more is read
    ENDING = 1  # the end marker was met: drain what is left of the body, then release
    ENDED = 2  # the body ended where the end rule lets it: release
    FAILED = 3  # release, then raise _failure
    LOST = 4  # the body was cut short: release and raise _failure, or resume
    CLOSING = 5  # close() was called: no more reads; the release is due
    RELEASING = 6  # the response is being closed
    RELEASED = 7  # the response is closed


class Step:
    """What :meth:`StreamCore._step` asks the twin to do when it has no item to give."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Step {self.name}>"


#: Read more, before ``_deadline`` if it is set, then feed the core.
READ = Step("READ")
#: Yield to the event loop (async), then step again.
CHECKPOINT = Step("CHECKPOINT")
#: Read what is left of the body within bounds, release, stop.
DRAIN = Step("DRAIN")
#: Release, stop.
STOP = Step("STOP")
#: Release, raise ``_failure``.
FAIL = Step("FAIL")
#: The body was cut short: release and raise ``_failure`` (an IncompleteStreamError),
#: unless the caller gives the stream a new body and calls ``_resume`` (reconnection).
LOST = Step("LOST")

# The step for each state once no event is pending (OPEN's READ is decided in _step).
STEPS: tuple[Step, ...] = (READ, DRAIN, STOP, FAIL, LOST, STOP, STOP, STOP)


@dataclass(frozen=True, slots=True)
class StreamStats:
    """A snapshot of a stream's counters; every duration is in seconds.

    Times are taken when the decoder dispatches events, i.e. when the bytes completing
    them were read, not when the consumer asks for them.
    """

    #: From the stream's construction to the first dispatched event; None before it.
    time_to_first_event: float | None
    #: Items yielded to the consumer (the sentinel is not counted).
    events: int
    #: Bytes of (content-decoded) body read so far.
    bytes: int
    #: From construction to the release of the connection, or to now while still open.
    elapsed: float
    #: The longest time between two reads that each completed at least one event.
    longest_gap: float
    #: New connections a reconnecting stream took after losing one (see ``Reconnect``).
    reconnections: int = 0
