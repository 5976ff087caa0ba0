"""What ``levante bench`` measured, and its report: pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class BenchResult:
    """What ``levante bench`` measured: one entry per successful request."""

    ttft: list[float] = field(default_factory=list)
    tokens_per_second: list[float] = field(default_factory=list)
    tokens: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


def report(result: BenchResult, requests: int) -> str:
    rows = [f"{'':14}{'p50':>10}{'p90':>10}{'p99':>10}"]
    for label, values, scale in (
        ("ttft (ms)", result.ttft, 1000.0),
        ("tokens/s", result.tokens_per_second, 1.0),
    ):
        cells = "".join(f"{percentile(values, q) * scale:>10.1f}" for q in (50, 90, 99))
        rows.append(f"{label:14}{cells}")
    done = requests - len(result.errors)
    rate = result.tokens / result.elapsed if result.elapsed > 0 else 0.0
    rows.append(
        f"requests {done}/{requests} ok, errors {len(result.errors)}, "
        f"{result.elapsed:.2f} s, {rate:.0f} tokens/s overall"
    )
    return "\n".join(rows)
