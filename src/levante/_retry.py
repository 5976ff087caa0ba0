"""Retry policy for getting a response: which failures to retry and how long to wait.

No I/O: :class:`RetryState` decides, per call, whether another attempt is left and how
long to wait before it; the sync and async send paths in :mod:`levante._send` only sleep.
A retry only ever covers obtaining the response status; once a stream has been handed to
the caller nothing is retried.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeAlias

import httpx2

__all__ = [
    "DEFAULT_RETRIES",
    "RETRY_STATUS_CODES",
    "RetryConfig",
    "RetryPolicy",
    "RetryState",
    "backoff_delay",
    "parse_retry_after",
    "resolve_retries",
]

#: Statuses worth another attempt: rate limiting and transient server trouble.
RETRY_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """How levante retries a request whose response could not be obtained.

    Retried: connection errors and connect, write and pool timeouts (when
    ``retry_connection_errors``), and the statuses 429, 500, 502, 503 and 504. A read
    timeout is not retried: the server has the request (retrying would bill it twice) and
    has gone silent, and waiting for it again would hold the call for minutes. The wait
    before retry ``n`` (0-based) is ``min(max_backoff, initial_backoff * multiplier**n)``
    scaled by a random factor in ``[1 - jitter, 1]``; a ``Retry-After`` (seconds or an
    HTTP date) or ``retry-after-ms`` header replaces it, capped at ``max_retry_after``.
    ``max_elapsed`` (seconds, optional) stops retrying once that much time has passed
    since the first attempt.

    The client default is ``RetryConfig()``: two retries, 0.5 s then ~1 s.
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    multiplier: float = 2.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    max_elapsed: float | None = None
    retry_connection_errors: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError("RetryConfig.max_retries must be an int")
        if self.max_retries < 0:
            raise ValueError("RetryConfig.max_retries must be >= 0")
        waits = (self.initial_backoff, self.max_backoff, self.max_retry_after, self.multiplier)
        if not all(0 <= value < math.inf for value in waits):  # NaN fails both comparisons
            raise ValueError("RetryConfig backoff values must be finite and >= 0")
        if not 0 <= self.jitter <= 1:
            raise ValueError("RetryConfig.jitter must be between 0 and 1")
        if self.max_elapsed is not None and not 0 <= self.max_elapsed < math.inf:
            raise ValueError("RetryConfig.max_elapsed must be finite and >= 0 seconds, or None")


DEFAULT_RETRIES = RetryConfig()
NO_RETRIES = RetryConfig(max_retries=0)

#: What a ``retries=`` argument may be: a count, a :class:`RetryConfig`, ``None`` (no
#: retries), or the official ``mistralai`` SDK's ``utils.RetryConfig`` object.
RetryPolicy: TypeAlias = int | RetryConfig | Any | None


def resolve_retries(value: RetryPolicy) -> RetryConfig:
    """Turn any accepted ``retries=`` value into a :class:`RetryConfig`."""
    if value is None:
        return NO_RETRIES
    if isinstance(value, RetryConfig):
        return value
    if isinstance(value, bool):
        raise TypeError("retries must be an int, a RetryConfig or None, not a bool")
    if isinstance(value, int):
        return RetryConfig(max_retries=value)
    strategy = getattr(value, "strategy", None)
    backoff = getattr(value, "backoff", None)
    if isinstance(strategy, str) and backoff is not None:
        return _from_official(strategy, backoff, value)
    raise TypeError(
        f"retries must be an int, a levante.RetryConfig or None, not {type(value).__name__}"
    )


def _from_official(strategy: str, backoff: Any, value: Any) -> RetryConfig:
    # The official SDK bounds retries by elapsed time only, in milliseconds; keep that
    # bound and let the count be effectively unlimited within it.
    if strategy != "backoff":
        return NO_RETRIES
    max_elapsed_ms = getattr(backoff, "max_elapsed_time", None)
    return RetryConfig(
        max_retries=1_000_000,
        initial_backoff=float(getattr(backoff, "initial_interval", 500)) / 1000,
        max_backoff=float(getattr(backoff, "max_interval", 60_000)) / 1000,
        multiplier=float(getattr(backoff, "exponent", 1.5)),
        max_elapsed=None if max_elapsed_ms is None else float(max_elapsed_ms) / 1000,
        retry_connection_errors=bool(getattr(value, "retry_connection_errors", True)),
    )


def parse_retry_after(headers: httpx2.Headers, *, now: float | None = None) -> float | None:
    """The server's requested wait in seconds, or ``None`` when absent or unreadable.

    Reads ``retry-after-ms`` first (more precise), then ``Retry-After`` as seconds or an
    HTTP date. Negative values and dates in the past mean "now" (0.0).
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            ms = float(raw_ms)
        except ValueError:
            pass
        else:
            if ms == ms:  # NaN never equals itself
                return max(0.0, ms / 1000)
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def backoff_delay(config: RetryConfig, retry_index: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``retry_index`` (0-based)."""
    if retry_after is not None:
        return min(retry_after, config.max_retry_after)
    delay = min(config.max_backoff, config.initial_backoff * config.multiplier**retry_index)
    return delay * (1.0 - config.jitter * random.random())


def _retryable_exception(exc: BaseException) -> bool:
    # Failures to obtain a status; an invalid request (e.g. httpx2.LocalProtocolError from
    # a bad header) is a ProtocolError too, but is refused before sending by _checks. A
    # read timeout is not retried (see RetryConfig).
    if isinstance(exc, httpx2.ReadTimeout):
        return False
    return isinstance(exc, (httpx2.NetworkError, httpx2.TimeoutException, httpx2.ProtocolError))


class RetryState:
    """The retry bookkeeping of one call: attempts made, time spent, the next wait.

    Both send paths ask it after every failed attempt; ``None`` means "give up".
    """

    __slots__ = ("attempt", "config", "started")

    def __init__(self, config: RetryConfig) -> None:
        self.config = config
        self.attempt = 0
        self.started = time.monotonic()

    def after_error(self, exc: BaseException) -> float | None:
        """The wait before retrying a transport error, or None to raise it."""
        if not (self.config.retry_connection_errors and _retryable_exception(exc)):
            return None
        return self._next(None)

    def after_status(self, status: int, headers: httpx2.Headers) -> float | None:
        """The wait before retrying an error status, or None to raise it."""
        if status not in RETRY_STATUS_CODES:
            return None
        return self._next(parse_retry_after(headers))

    def _next(self, retry_after: float | None) -> float | None:
        config = self.config
        if self.attempt >= config.max_retries:
            return None
        delay = backoff_delay(config, self.attempt, retry_after)
        if config.max_elapsed is not None and (
            time.monotonic() - self.started + delay > config.max_elapsed
        ):
            return None
        self.attempt += 1
        return delay
