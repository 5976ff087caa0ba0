"""What the dev server remembers for the life of an app: options, counters, conversations.

Everything here is plain data; the routes read and update it through :class:`State`, which
the app keeps as ``app.state.levante``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from .engine import ModelSpec

__all__ = ["Conversation", "ServerStreamCounts", "State", "Timing"]


@dataclass
class ServerStreamCounts:
    """Counters over streamed responses.

    A stream is *completed* when it ran to its planned end and *aborted* when the client
    went away or a fault (``disconnect-after``, ``error-after``...) cut it short.
    """

    open: int = 0
    completed: int = 0
    aborted: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as the stats endpoint serves them."""
        return {"open": self.open, "completed": self.completed, "aborted": self.aborted}


@dataclass(frozen=True)
class Timing:
    """How fast a reply comes: seconds to the first event, events per second after it."""

    ttft: float
    tokens_per_second: float | None


@dataclass
class Conversation:
    """A stored conversation: its model, settings and entries so far."""

    id: str
    model: ModelSpec
    model_name: str
    instructions: str | None
    tools: list[Any]
    completion_args: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class State:
    """The app-wide state behind every request."""

    api_key: str | None
    timing: Timing
    faults: str | None = None
    strict_models: bool = False
    stats: ServerStreamCounts = field(default_factory=ServerStreamCounts)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    fault_hits: dict[str, int] = field(default_factory=dict)
    # The Last-Event-ID (or last_event_id) each resumable stream request carried, in
    # arrival order, so tests can check resumption on the server side.
    resumes: list[dict[str, str | None]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        """A fresh id such as ``conv_00000000002a``, unique within this app."""
        return f"{prefix}_{next(self.counter):012x}"
