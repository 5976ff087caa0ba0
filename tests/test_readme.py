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
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)

# What each example must print (a substring), in README order.
EXPECTED = [
    "levante",  # quickstart: the dev server's canned answer about the wind
    "Hello",  # async quickstart: the echo of the prompt
    "time to first event",  # text_stream + final_response
    "get_weather {",  # tool calls rebuilt from deltas
    "truncated after 2 events",  # IncompleteStreamError
    "no first token in time",  # StreamTimeout
    "levante",  # retries: the 429 is retried, then the reply
    "levante",  # your own HTTP clients, used as given
    "conversation.response.done",  # conversations
    "[('one', '7'), ('two', '7')]",  # the sans-IO decoder
]


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tokens_per_second=2000) as srv:
        yield srv


def test_every_example_has_an_expectation() -> None:
    assert len(BLOCKS) == len(EXPECTED)


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
            exec(compile(BLOCKS[index], f"<README example {index}>", "exec"), namespace)
    finally:
        # a script's module-level client lives until the process exits; here, close it
        for value in namespace.values():
            if isinstance(value, Mistral):
                value.close()
    assert expected in out.getvalue(), out.getvalue()
    # every example released its connections
    stats = server.fetch_stats()
    assert stats["open"] == 0, stats
