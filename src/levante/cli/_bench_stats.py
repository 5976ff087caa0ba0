"""What ``levante bench`` measured, and its report: pure functions, no I/O.

Definitions (those of vLLM's ``benchmark_serving``, so figures compare):

- TTFT: from sending the request to the first chunk that carries text;
- ITL (inter-token latency): the gaps between consecutive text chunks, pooled over all
  requests;
- TPOT (time per output token): per request, ``(E2E - TTFT) / (output tokens - 1)``;
- E2E: from sending the request to the end of its stream;
- tokens: the server's ``usage`` (prompt and completion tokens); when a server sends no
  usage, output tokens are the text chunks counted, and the report says so;
- rates: totals divided by the measured duration (first request sent to last one done;
  warm-up excluded).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PERCENTILES = (50, 90, 95, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], scale: float = 1000.0) -> dict[str, float | None]:
    """mean, p50, p90, p95, p99 and max of ``values`` times ``scale`` (None when empty)."""
    if not values:
        return dict.fromkeys(["mean", *(f"p{q}" for q in PERCENTILES), "max"], None)
    ordered = sorted(values)
    out: dict[str, float | None] = {"mean": math.fsum(ordered) / len(ordered) * scale}
    for q in PERCENTILES:
        out[f"p{q}"] = percentile(ordered, q) * scale
    out["max"] = ordered[-1] * scale
    return out


@dataclass
class Record:
    """One request: its timings (seconds from its start), tokens, or its error."""

    started: float
    ttft: float | None = None
    e2e: float | None = None
    itl: list[float] = field(default_factory=list)
    chunks: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None

    @property
    def output_tokens(self) -> int:
        """Completion tokens from usage, else the text chunks counted."""
        return self.completion_tokens if self.completion_tokens is not None else self.chunks

    @property
    def tpot(self) -> float | None:
        """Time per output token after the first, or None with fewer than two."""
        if self.e2e is None or self.ttft is None or self.output_tokens < 2:
            return None
        return (self.e2e - self.ttft) / (self.output_tokens - 1)


@dataclass
class Report:
    """The figures of one run, from its records."""

    records: list[Record]
    duration: float
    cancelled: int = 0
    interrupted: bool = False
    stopped: str | None = None  # why the run stopped early (authentication, connection)
    about: dict[str, Any] = field(default_factory=dict)  # server, model, load: as given

    @property
    def ok(self) -> list[Record]:
        """The requests that completed."""
        return [r for r in self.records if r.error is None]

    @property
    def errors(self) -> Counter[str]:
        """Failed requests, counted by error type."""
        return Counter(r.error for r in self.records if r.error is not None)

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (latencies in milliseconds, rates per second)."""
        ok = self.ok
        rate = 1 / self.duration if self.duration > 0 else math.nan
        prompt = sum(r.prompt_tokens or 0 for r in ok)
        output = sum(r.output_tokens for r in ok)
        return {
            **self.about,
            "duration_s": self.duration,
            "completed": len(ok),
            "failed": sum(self.errors.values()),
            "errors": dict(self.errors.most_common()),
            "cancelled": self.cancelled,
            "interrupted": self.interrupted,
            "stopped": self.stopped,
            "requests_per_s": len(ok) * rate,
            "input_tokens": prompt,
            "output_tokens": output,
            "input_tokens_per_s": prompt * rate,
            "output_tokens_per_s": output * rate,
            "tokens_from_usage": all(r.completion_tokens is not None for r in ok),
            "ttft_ms": summary([r.ttft for r in ok if r.ttft is not None]),
            "itl_ms": summary([gap for r in ok for gap in r.itl]),
            "tpot_ms": summary([t for r in ok if (t := r.tpot) is not None]),
            "e2e_ms": summary([r.e2e for r in ok if r.e2e is not None]),
        }


def _cell(value: float | None) -> str:
    return f"{value:>9.1f}" if value is not None else f"{'-':>9}"


def render(data: dict[str, Any]) -> str:
    """The human-readable report of :meth:`Report.as_dict`."""
    failed = data["failed"]
    lines = [
        f"{'server':18}{data.get('server', '?')} (model {data.get('model', '?')})",
        f"{'load':18}{data.get('load', '?')}",
        f"{'duration':18}{data['duration_s']:.2f} s",
        f"{'requests':18}{data['completed']} ok, {failed} failed"
        + (f", {data['cancelled']} cancelled" if data["cancelled"] else ""),
    ]
    if failed:
        kinds = ", ".join(f"{count} {kind}" for kind, count in data["errors"].items())
        lines.append(f"{'failures':18}{kinds}")
    source = "from usage" if data["tokens_from_usage"] else "chunks counted: no usage sent"
    lines += [
        f"{'requests/s':18}{data['requests_per_s']:.2f}",
        f"{'input tokens':18}{data['input_tokens']:,} ({data['input_tokens_per_s']:,.1f}/s)",
        f"{'output tokens':18}{data['output_tokens']:,} ({data['output_tokens_per_s']:,.1f}/s)"
        f", {source}",
        f"{'':12}" + "".join(f"{h:>9}" for h in ("mean", "p50", "p90", "p95", "p99", "max")),
    ]
    for label, key in (("TTFT ms", "ttft_ms"), ("ITL ms", "itl_ms"), ("TPOT ms", "tpot_ms"),
                       ("E2E ms", "e2e_ms")):  # fmt: skip
        row = data[key]
        cells = "".join(_cell(row[k]) for k in ("mean", "p50", "p90", "p95", "p99", "max"))
        lines.append(f"{label:12}{cells}")
    if data["interrupted"]:
        lines.append("interrupted (Ctrl-C): the figures cover the requests done by then")
    return "\n".join(lines)
