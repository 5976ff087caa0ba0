"""What one stream of the fault soak does, and which outcomes it may have.

A :class:`Plan` pairs a fault the dev server injects (``X-Levante-Fault``) with a way the
client leaves the stream. :func:`allowed` is the documented outcome table: each fault
raises one documented exception (or none), and each exit adds what it may cause itself.
An outcome outside that set is *unexpected*, and the soak fails on any.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from levante import RetryConfig
from levante.errors import (
    AuthenticationError,
    BadRequestError,
    IncompleteStreamError,
    InternalServerError,
    NotFoundError,
    StreamAPIError,
    StreamClosed,
    StreamDecodeError,
    StreamTimeout,
)

__all__ = ["ASYNC_EXITS", "SYNC_EXITS", "Boom", "Plan", "Tally", "make_plans", "outcome_of"]

#: Sync exits; the async ones add task cancellation. "drop" lets go of the stream
#: unclosed after its first item: reference counting must release it.
SYNC_EXITS = ("complete", "break", "exception", "close", "drop")
ASYNC_EXITS = (*SYNC_EXITS, "cancel")

#: Retries fast enough for a soak; statuses 429/5xx are retried.
FAST_RETRIES = RetryConfig(max_retries=2, initial_backoff=0.005, max_backoff=0.02)

STALL = 1.0  # seconds the server stalls; the client's timeout fires well before
TIMEOUT = 0.15

_ERROR_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    500: InternalServerError,
}


class Boom(Exception):
    """The exception a consumer raises from its loop body (the "exception" exit)."""


@dataclass
class Plan:
    """One stream: the fault header, the call's options, the exit and the fault's outcome.

    ``error`` is what the fault raises when it fires; ``certain`` says it always fires
    before the stream could end normally (else finishing cleanly is allowed too).
    """

    fault: str
    exit: str
    error: type[BaseException] | None
    certain: bool
    options: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0  # before a close or a cancellation from elsewhere

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``chat.stream`` for this plan."""
        headers = {"X-Levante-Fault": self.fault} if self.fault else None
        return {
            "model": "levante-chat",
            "messages": [{"role": "user", "content": "soak"}],
            "max_tokens": 6,
            "http_headers": headers,
            "retries": None,
            **self.options,
        }


def _fault(
    rng: random.Random, index: int
) -> tuple[str, type[BaseException] | None, bool, dict[str, Any]]:
    """A random fault: (header, error it raises, certain, extra call options)."""
    n = rng.randint(0, 3)  # a 6-token answer has at least 8 events: every N fires
    kind = rng.choice(
        [
            "none", "disconnect-after", "disconnect-mid-event", "error-after",
            "malformed-after", "stall", "stall-after", "no-done", "byte-writes",
            "retried-status", "status",
        ]
    )  # fmt: skip
    if kind == "none":
        return "", None, False, {}
    if kind in ("disconnect-after", "disconnect-mid-event", "no-done"):
        fault = kind if kind == "no-done" else f"{kind}={n}"
        return fault, IncompleteStreamError, True, {}
    if kind == "error-after":
        return f"error-after={n}", StreamAPIError, True, {}
    if kind == "malformed-after":
        return f"malformed-after={n}", StreamDecodeError, True, {}
    if kind == "stall":
        return f"stall={STALL}", StreamTimeout, True, {"first_event_timeout": TIMEOUT}
    if kind == "stall-after":
        return f"stall-after={n + 1}:{STALL}", StreamTimeout, True, {"idle_timeout": TIMEOUT}
    if kind == "byte-writes":
        return "byte-writes", None, False, {}
    if kind == "retried-status":
        # fails once, then succeeds on the retry; retry-after is unique so that each
        # stream has its own count on the server ("times" counts per header value)
        status = rng.choice([429, 500, 502, 503])
        fault = f"status={status};times=1;retry-after=0.00{index:06d}"
        return fault, None, False, {"retries": FAST_RETRIES}
    status = rng.choice(list(_ERROR_STATUS))
    return f"status={status}", _ERROR_STATUS[status], True, {}


def make_plans(rng: random.Random, count: int, exits: tuple[str, ...], start: int) -> list[Plan]:
    """``count`` random plans; ``start`` numbers them apart from other workers' plans."""
    plans = []
    for index in range(start, start + count):
        fault, error, certain, options = _fault(rng, index)
        exit_by = rng.choice(exits)
        plans.append(Plan(fault, exit_by, error, certain, options, rng.uniform(0.0, 0.03)))
    return plans


def allowed(plan: Plan) -> set[str]:
    """The outcomes ``plan`` may have: exception class names, "ok" or "cancelled"."""
    found = set()
    if plan.error is not None:
        found.add(plan.error.__name__)
    if plan.exit == "complete":
        if not plan.certain:
            found.add("ok")
    elif plan.exit == "exception":
        found.add(Boom.__name__)
    elif plan.exit == "close":
        # closed mid-read, between reads (the loop then just stops), or after the end
        found |= {StreamClosed.__name__, "ok"}
    elif plan.exit == "cancel":
        found |= {"cancelled", "ok"}
    else:  # break, drop
        found.add("ok")
    return found


def outcome_of(exc: BaseException | None) -> str:
    """The name an outcome is tallied under."""
    return "ok" if exc is None else type(exc).__name__


class Tally:
    """Outcomes of a soak, and the unexpected ones with their plans (for the report)."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.unexpected: list[tuple[Plan, str, BaseException | None]] = []
        self._lock = threading.Lock()  # threads and event loops record at once

    def record(self, plan: Plan, outcome: str, exc: BaseException | None = None) -> None:
        """Count ``outcome``; keep it aside when ``plan`` does not allow it."""
        with self._lock:
            self.outcomes[outcome] += 1
            if outcome not in allowed(plan):
                self.unexpected.append((plan, outcome, exc))

    @property
    def streams(self) -> int:
        return sum(self.outcomes.values())
