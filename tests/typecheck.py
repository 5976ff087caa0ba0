"""mypy over the typing tests' snippets, in one run for all of them.

A run of mypy spends nearly all its time analysing what a snippet imports (levante,
pydantic, httpx2, and for a snippet importing tests/test_endpoint.py, starlette, uvicorn
and pytest): about 10 s each on this machine, against a fraction of a second for the
snippets themselves. So the typing tests register their snippets here when their module is
imported (:func:`snippet`), and the ``mypy_snippets`` fixture (conftest.py) checks every
registered snippet in one run; each test then reads the lines about its own file.

The run is ``mypy --strict --follow-imports=silent`` with tests/ on ``MYPYPATH`` (a snippet
may import a test module, which is not strictly typed): errors are reported for the
snippets only. levante's own code is checked by ``make typecheck``.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy import api

__all__ = ["Checked", "check_all", "snippet"]

#: module name -> source, in the order registered
SNIPPETS: dict[str, str] = {}


def snippet(module: str, source: str) -> str:
    """Check ``source`` as the module ``module`` in the shared run; returns ``module``."""
    if SNIPPETS.setdefault(module, textwrap.dedent(source)) != textwrap.dedent(source):
        raise ValueError(f"two snippets named {module}")
    return module


@dataclass(frozen=True)
class Checked:
    """What the shared run printed: its exit status, stderr, and its lines per module."""

    status: int
    stderr: str
    by_module: dict[str, list[str]]

    def lines(self, module: str) -> list[str]:
        """mypy's output lines about the snippet ``module`` (errors, notes, revealed types)."""
        return self.by_module[module]


def check_all(directory: Path) -> Checked:
    """Write every registered snippet into ``directory`` and run mypy once over them all."""
    paths = {module: directory / f"{module}.py" for module in SNIPPETS}
    for module, path in paths.items():
        path.write_text(SNIPPETS[module])
    args = ["--strict", "--no-error-summary", "--follow-imports=silent"]
    args += ["--cache-dir", str(directory / "cache"), *map(str, paths.values())]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MYPYPATH", os.fspath(Path(__file__).parent))
        out, err, status = api.run(args)
    lines = out.splitlines()
    by_module = {
        module: [line for line in lines if line.startswith(f"{path}:")]
        for module, path in paths.items()
    }
    return Checked(status, err, by_module)
