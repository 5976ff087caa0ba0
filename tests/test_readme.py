"""Every ``python`` example in README.md runs, against the embedded dev server."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
from collections.abc import Iterator

import pytest

from levante import Mistral
from levante.devserver import EmbeddedServer

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.DOTALL)
# Each example is preceded by a comment saying what it must print (a substring):
# <!-- prints: TEXT -->
EXAMPLES = re.findall(r"<!-- prints: (.*?) -->\n```python\n(.*?)```", TEXT, re.DOTALL)
EXPECTED = [expected for expected, _ in EXAMPLES]


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tokens_per_second=2000) as srv:
        yield srv


def test_every_example_has_an_expectation() -> None:
    assert len(BLOCKS) == len(EXAMPLES) > 10
    assert [code for _, code in EXAMPLES] == BLOCKS


@pytest.mark.parametrize(("index", "expected"), list(enumerate(EXPECTED)))
def test_readme_example_runs(
    index: int, expected: str, server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.setenv("MISTRAL_SERVER_URL", server.url)
    out = io.StringIO()
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(EXAMPLES[index][1], f"<README example {index}>", "exec"), namespace)
    finally:
        # a script's module-level client lives until the process exits; here, close it
        for value in namespace.values():
            if isinstance(value, Mistral):
                value.close()
    assert expected in out.getvalue(), out.getvalue()
    # every example released its connections
    stats = server.fetch_stats()
    assert stats["open"] == 0, stats
