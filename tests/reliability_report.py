"""Lines the reliability suite prints at the end of a run (``pytest_terminal_summary`` in
conftest.py prints them)."""

from __future__ import annotations

from typing import Any

__all__ = ["LINES", "report"]

#: (title, the line, details) of every report made in this run.
LINES: list[tuple[str, str, Any]] = []


def report(title: str, line: str, details: Any = None) -> None:
    """Add a line to the summary printed after the tests."""
    LINES.append((title, line, details))
