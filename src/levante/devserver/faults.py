"""The ``X-Levante-Fault`` header: what can go wrong with one request, on purpose.

Grammar: directives separated by ``;``, each ``name`` or ``name=value``; whitespace around
names and values is ignored, names are case-insensitive, a directive may appear once.

=======================  =============================================================
``status=CODE``          answer with HTTP ``CODE`` (400-599) and a Mistral-shaped error
                         body instead of a response
``retry-after=S``        with ``status``: add ``Retry-After: S`` (seconds)
``times=K``              with ``status``: fail only the first ``K`` requests carrying this
                         exact header value, then answer normally (retry tests)
``disconnect-after=N``   drop the TCP connection after ``N`` events (a non-streamed
                         request: drop it before the response)
``disconnect-mid-event=N``  after ``N`` events write the first half of the next event,
                         then drop the connection (a byte-level cut: the client holds an
                         unfinished event)
``disconnect-random=A-B``   drop the connection after a pseudo-random number of events
                         between ``A`` and ``B``, in the middle of an event one time in
                         two; the draw is fixed by the request's order on the server, so
                         a run is reproducible (reconnection tests)
``error-after=N``        after ``N`` events send ``event: error`` with a Mistral error
                         object as data, then end the body
``malformed-after=N``    after ``N`` events send one event whose data is not JSON, then
                         carry on
``stall=S``              pause ``S`` seconds before the first event (or before a
                         non-streamed response)
``stall-after=N:S``      pause ``S`` seconds after ``N`` events
``byte-writes``          write the body one byte per write
``no-done``              omit the end marker: ``data: [DONE]`` for chat, FIM and agents,
                         the ``conversation.response.done`` event for conversations
``ping=S``               during any pause of a stream (time to first token, ``stall``,
                         ``stall-after``, pacing) send a ``: ping`` comment every ``S``
                         seconds (``S > 0``); comments are not events
=======================  =============================================================

``N`` counts the events already sent (the ``[DONE]`` marker included); a fault whose ``N``
is larger than the stream never fires.  Anything else is refused with HTTP 400.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

__all__ = ["FAULT_HEADER", "FaultError", "FaultPlan", "parse_faults"]

FAULT_HEADER = "x-levante-fault"

_FLAGS = ("byte-writes", "no-done")
_COUNTS = ("disconnect-after", "disconnect-mid-event", "error-after", "malformed-after", "times")
_SECONDS = ("retry-after", "stall", "ping")
_CUTS = frozenset({"disconnect-after", "disconnect-mid-event", "disconnect-random"})
_KNOWN = (*_FLAGS, *_COUNTS, *_SECONDS, "status", "stall-after", "disconnect-random")


class FaultError(ValueError):
    """The fault header does not follow the grammar; the message says why."""


@dataclass(frozen=True)
class FaultPlan:
    """The faults requested for one request; the defaults mean "no fault"."""

    status: int | None = None
    retry_after: float | None = None
    times: int | None = None
    disconnect_after: int | None = None
    disconnect_mid_event: int | None = None
    disconnect_random: tuple[int, int] | None = None
    error_after: int | None = None
    malformed_after: int | None = None
    stall: float = 0.0
    stall_after: tuple[int, float] | None = None
    ping: float | None = None
    byte_writes: bool = False
    no_done: bool = False

    @property
    def any_stream_fault(self) -> bool:
        """Whether a fault touches the body of a stream (as opposed to its status)."""
        return (
            self.cut_point("") is not None
            or self.error_after is not None
            or self.malformed_after is not None
            or self.stall_after is not None
            or self.ping is not None
            or self.byte_writes
            or self.no_done
        )

    def cut_point(self, key: str) -> tuple[int, bool] | None:
        """Where this request's connection is cut: after how many events, and whether in
        the middle of the next one; ``None`` when it is not.  ``key`` seeds
        ``disconnect-random`` (a different key per request gives a different draw)."""
        if self.disconnect_after is not None:
            return self.disconnect_after, False
        if self.disconnect_mid_event is not None:
            return self.disconnect_mid_event, True
        if self.disconnect_random is not None:
            low, high = self.disconnect_random
            draw = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
            return low + draw % (high - low + 1), bool(draw >> 32 & 1)
        return None


def _count(name: str, value: str) -> int:
    if not value.isdigit():
        raise FaultError(f"{name} needs a whole number of events, got {value!r}")
    return int(value)


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise FaultError(f"{name} needs a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise FaultError(f"{name} needs a number of seconds >= 0, got {value!r}")
    return seconds


def _directives(header: str) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for raw in header.split(";"):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if name not in _KNOWN:
            raise FaultError(f"unknown fault {name!r}; known faults: {', '.join(_KNOWN)}")
        if name in values:
            raise FaultError(f"fault {name!r} given twice")
        if name in _FLAGS:
            if sep:
                raise FaultError(f"fault {name!r} takes no value")
            values[name] = None
        elif not sep or not value.strip():
            raise FaultError(f"fault {name!r} needs a value ({name}=...)")
        else:
            values[name] = value.strip()
    return values


def _pair(name: str, raw: str | None, sep: str, what: str) -> tuple[str, str] | None:
    if raw is None:
        return None
    first, found, second = raw.partition(sep)
    if not found:
        raise FaultError(f"{name} needs {what}, got {raw!r}")
    return first.strip(), second.strip()


def _status(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 400 <= int(raw) <= 599:
        raise FaultError(f"status needs an HTTP error code 400-599, got {raw!r}")
    return int(raw)


def parse_faults(header: str | None) -> FaultPlan:
    """Parse an ``X-Levante-Fault`` value (``None`` or blank: no fault).

    Raises :class:`FaultError` with a message naming the offending directive.
    """
    if header is None or not header.strip():
        return FaultPlan()
    values = _directives(header)
    status = _status(values.get("status"))
    counts = {name: _count(name, v) for name in _COUNTS if (v := values.get(name)) is not None}
    seconds = {name: _seconds(name, v) for name in _SECONDS if (v := values.get(name)) is not None}
    if seconds.get("ping") == 0:
        raise FaultError("ping needs an interval > 0 seconds")
    if status is None and ("retry-after" in values or "times" in values):
        raise FaultError("retry-after and times only make sense with status=CODE")
    if len(_CUTS.intersection(values)) > 1:
        raise FaultError(f"{', '.join(sorted(_CUTS))} exclude each other")
    stall_after = _pair("stall-after", values.get("stall-after"), ":", "N:SECONDS")
    randomly = _pair("disconnect-random", values.get("disconnect-random"), "-", "LOW-HIGH")
    drop_range = None
    if randomly is not None:
        low, high = (_count("disconnect-random", bound) for bound in randomly)
        if low > high:
            raise FaultError(f"disconnect-random needs LOW <= HIGH, got {low}-{high}")
        drop_range = (low, high)
    return FaultPlan(
        status=status,
        retry_after=seconds.get("retry-after"),
        times=counts.get("times"),
        disconnect_after=counts.get("disconnect-after"),
        disconnect_mid_event=counts.get("disconnect-mid-event"),
        disconnect_random=drop_range,
        error_after=counts.get("error-after"),
        malformed_after=counts.get("malformed-after"),
        stall=seconds.get("stall", 0.0),
        stall_after=None
        if stall_after is None
        else (_count("stall-after", stall_after[0]), _seconds("stall-after", stall_after[1])),
        ping=seconds.get("ping"),
        byte_writes="byte-writes" in values,
        no_done="no-done" in values,
    )
