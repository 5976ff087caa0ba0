"""The event type the decoder emits and the errors it raises."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["EventTooLarge", "SSEError", "ServerSentEvent"]


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event.

    Not frozen on purpose: a frozen dataclass costs about three times as much to build,
    and one is built per streamed token.
    """

    #: The event type; ``"message"`` when the block had no (or an empty) ``event:`` field.
    event: str = "message"
    #: The data lines joined with LF, without the final LF.
    data: str = ""
    #: The last event ID in force when the event was dispatched.
    id: str = ""
    #: The reconnection time in milliseconds in force when the event was dispatched.
    retry: int | None = None

    def json(self) -> Any:
        """Parse :attr:`data` as JSON."""
        return json.loads(self.data)


class SSEError(Exception):
    """Base class of the errors raised by :mod:`levante.sse`."""


class EventTooLarge(SSEError):
    """A block of lines grew past the decoder's ``max_event_size``.

    The decoder drops the rest of that block and can keep being fed. ``events`` holds the
    events completed by the same ``feed`` call, so nothing already decoded is lost.
    """

    def __init__(self, limit: int, events: list[ServerSentEvent] | None = None) -> None:
        super().__init__(f"server-sent event larger than {limit} bytes")
        self.limit = limit
        self.events: list[ServerSentEvent] = events if events is not None else []
