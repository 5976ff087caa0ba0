"""One streamed reply: printed as it arrives, timed, and summed up in a stats line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._common import say

if TYPE_CHECKING:
    from ..client import Mistral
    from ..models import CompletionEvent


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


def chat_params(args: argparse.Namespace, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``chat.stream`` keyword arguments for ``messages``."""
    params: dict[str, Any] = {"model": args.model, "messages": messages}
    if args.temperature is not None:
        params["temperature"] = args.temperature
    if args.max_tokens is not None:
        params["max_tokens"] = args.max_tokens
    return params


def _event_json(event: CompletionEvent) -> str:
    return event.data.model_dump_json(by_alias=True, exclude_unset=True)


def stream_reply(client: Mistral, args: argparse.Namespace, messages: list[dict[str, Any]]) -> Turn:
    """Stream one reply to stdout; the stream is closed however this returns or raises."""
    turn = Turn()
    try:
        with client.chat.stream(**chat_params(args, messages)) as stream:
            _print_events(stream, args, turn)
    finally:
        # Whatever ended the reply, the next output (prompt, error) starts on a fresh line.
        if not args.json and turn.text and not turn.text[-1].endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
    return turn


def _print_events(stream: Iterable[CompletionEvent], args: argparse.Namespace, turn: Turn) -> None:
    out = sys.stdout
    for event in stream:
        chunk = event.data
        if chunk.usage is not None:
            turn.usage = chunk.usage
        text = ""
        if chunk.choices:
            choice = chunk.choices[0]
            if choice.finish_reason is not None:
                turn.finish_reason = str(choice.finish_reason)
            content = choice.delta.content
            if isinstance(content, str):
                text = content
            elif content:  # content chunks (e.g. a reasoning model): keep the text parts
                text = "".join(getattr(part, "text", "") or "" for part in content)
        if text:
            turn.last_token = time.monotonic()
            if turn.first_token is None:
                turn.first_token = turn.last_token
            turn.tokens += 1
            turn.text.append(text)
        if args.json:
            out.write(_event_json(event) + "\n")
        elif text:
            out.write(text)
        else:
            continue
        out.flush()  # each token shows as soon as it arrives


def reply_and_report(
    client: Mistral, args: argparse.Namespace, messages: list[dict[str, Any]]
) -> Turn:
    """Stream one reply, then print its stats line (unless ``--quiet``)."""
    turn = stream_reply(client, args, messages)
    if not args.quiet:
        say(turn.stats_line())
    return turn


def interrupted_reply() -> None:
    """Say that a reply was cut short (the stream is closed and the line ended already)."""
    say("reply interrupted")
