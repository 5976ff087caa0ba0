"""How fast the ``levante`` command starts, against the bare interpreter in the same run.

    python benchmarks/bench_cli_startup.py [--runs N]

Times (wall clock, median of N runs, each a fresh process):

- ``python -c pass``: the interpreter alone, the floor;
- ``levante --version`` and ``levante --help``: what a person types first;
- ``python -c "import levante.client"``: what every start cost when ``import levante``
  loaded the client eagerly (the old behaviour), for comparison.

It prints milliseconds and the ratio to the floor; nothing passes or fails here.
Bytecode caching follows the environment (PYTHONDONTWRITEBYTECODE makes every run compile
levante's own modules, a few milliseconds more).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("levante --version", [sys.executable, "-m", "levante.cli", "--version"]),
    ("levante --help", [sys.executable, "-m", "levante.cli", "--help"]),
    ("levante chat --help", [sys.executable, "-m", "levante.cli", "chat", "--help"]),
    ("import levante.client", [sys.executable, "-c", "import levante.client"]),
]


def _once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per case (default: 15)")
    runs = parser.parse_args().runs
    for _, argv in CASES:  # warm the file cache once
        _once(argv)
    # interleave the cases, so that a burst of load on the machine hits all of them
    samples: dict[str, list[float]] = {name: [] for name, _ in CASES}
    for _ in range(runs):
        for name, argv in CASES:
            samples[name].append(_once(argv))
    floor = statistics.median(samples[CASES[0][0]])
    print(f"{'case':26}{'median ms':>10}{'min ms':>9}{'x floor':>9}")
    for name, _ in CASES:
        median = statistics.median(samples[name])
        print(
            f"{name:26}{median * 1000:10.1f}{min(samples[name]) * 1000:9.1f}{median / floor:9.2f}"
        )


if __name__ == "__main__":
    main()
