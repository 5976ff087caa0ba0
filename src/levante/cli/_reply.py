"""One streamed reply: shown as it arrives, timed, and summed up in a stats line."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._common import say

if TYPE_CHECKING:
    from ..client import Mistral
    from ..models import CompletionEvent
    from ._render import Renderer


@dataclass
class Turn:
    """What one streamed reply produced, for the stats line and the history."""

    text: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None
    last_token: float | None = None
    tokens: int = 0
    usage: Any = None
    finish_reason: str | None = None

    @property
    def reply(self) -> str:
        """The text received so far."""
        return "".join(self.text)

    def add(self, event: CompletionEvent) -> str:
        """Take one event into account; returns the text it carries."""
        chunk = event.data
        if chunk.usage is not None:
            self.usage = chunk.usage
        text = ""
        if chunk.choices:
            choice = chunk.choices[0]
            if choice.finish_reason is not None:
                self.finish_reason = str(choice.finish_reason)
            content = choice.delta.content
            if isinstance(content, str):
                text = content
            elif content:  # content chunks (e.g. a reasoning model): keep the text parts
                text = "".join(getattr(part, "text", "") or "" for part in content)
        if text:
            self.last_token = time.monotonic()
            if self.first_token is None:
                self.first_token = self.last_token
            self.tokens += 1
            self.text.append(text)
        return text

    def stats_line(self) -> str:
        """Time to first token, tokens/s, usage and finish reason, on one line."""
        parts = []
        if self.first_token is not None:
            parts.append(f"first token {self.first_token - self.started:.2f} s")
            span = (self.last_token or self.first_token) - self.first_token
            if self.tokens > 1 and span > 0:
                parts.append(f"{(self.tokens - 1) / span:.1f} tokens/s")
        else:
            parts.append("no text")
        if self.usage is not None:
            parts.append(
                f"usage {self.usage.prompt_tokens} prompt + {self.usage.completion_tokens} "
                f"completion = {self.usage.total_tokens} tokens"
            )
        if self.finish_reason:
            parts.append(f"finish {self.finish_reason}")
        return ", ".join(parts)


def chat_params(
    args: argparse.Namespace, model: str, messages: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``chat.stream`` keyword arguments for ``messages``."""
    params: dict[str, Any] = {"model": model, "messages": messages}
    if args.temperature is not None:
        params["temperature"] = args.temperature
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    return params


def stream_reply(
    client: Mistral,
    params: dict[str, Any],
    turn: Turn,
    renderer: Renderer,
    *,
    json_lines: bool = False,
) -> None:
    """Stream one reply into ``turn`` and ``renderer`` (or stdout as JSON lines).

    The stream is closed, and the renderer too, however this returns or raises: a Ctrl-C
    leaves ``turn`` holding the text received until then.
    """
    out = sys.stdout
    try:
        with client.chat.stream(**params) as stream:
            for event in stream:
                text = turn.add(event)
                if json_lines:
                    out.write(event.data.model_dump_json(by_alias=True, exclude_unset=True))
                    out.write("\n")
                    out.flush()
                elif text:
                    renderer.feed(text)
    finally:
        if not json_lines:
            renderer.close()


def report(turn: Turn, args: argparse.Namespace) -> None:
    """The dimmed stats line of ``turn`` on stderr, unless ``--quiet``."""
    if not args.quiet:
        say(turn.stats_line(), dim=True)
