"""The interactive ``levante chat``: a prompt, a conversation, one streamed reply per turn.

Lines that start with ``/`` are commands (see :data:`HELP`), never sent to the model; to
send a message that starts with ``/``, type ``//``.  A reply stopped with Ctrl-C stays in
the conversation with what arrived of it, marked ``[interrupted]``, so the model knows
where it was cut; a turn that failed (an API error) is dropped.
"""

from __future__ import annotations

import argparse
import json
import pathlib
from typing import TYPE_CHECKING, Any

from ..errors import MistralError
from ._common import EXIT_INTERRUPTED, EXIT_OK, describe, say
from ._input import LineReader, choose_reader
from ._render import choose_renderer
from ._reply import Turn, chat_params, report, stream_reply
from ._signals import forget

if TYPE_CHECKING:
    from ..client import Mistral

HELP = """\
commands:
  /help            this list
  /reset           forget the conversation (the system message stays)
  /model [NAME]    show or change the model
  /system [TEXT]   show or set the system message
  /save FILE       write the conversation to FILE as JSON
  /exit, /quit     leave (so do Ctrl-D, and Ctrl-C twice on an empty line)
  //TEXT           send /TEXT
keys:
  Enter            send
  Alt-Enter        new line (so do a trailing \\ and an open ``` fence)
  Ctrl-C           stop the reply, or clear the line
  Up/Down, Ctrl-R  earlier messages, also from earlier sessions"""

INTERRUPTED = "[interrupted]"


def mark_interrupted(text: str) -> str:
    """The history entry of a reply cut short: what arrived, then the mark."""
    return f"{text.rstrip()} {INTERRUPTED}" if text.strip() else INTERRUPTED


class Chat:
    """One interactive session: the conversation, and the commands that change it."""

    def __init__(self, client: Mistral, args: argparse.Namespace, reader: LineReader) -> None:
        self.client = client
        self.args = args
        self.reader = reader
        self.model: str = args.model
        self.system: str | None = args.system
        self.messages: list[dict[str, Any]] = []
        self.status = EXIT_OK

    def wire(self) -> list[dict[str, Any]]:
        """The messages to send: the system message, then the turns."""
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + self.messages

    def run(self) -> int:
        """Chat until /exit, Ctrl-D or Ctrl-C twice; returns the exit code."""
        if not self.args.quiet:
            say(f"chatting with {self.model}; /help for commands, Ctrl-D to quit", dim=True)
        while True:
            try:
                line = self.reader.read()
            except EOFError:
                return self.status
            except KeyboardInterrupt:
                return EXIT_INTERRUPTED
            text = line.strip()
            if not text:
                continue
            if text.startswith("/") and not text.startswith("//"):
                if self.command(text) is False:
                    return self.status
                continue
            self.turn(line[1:] if text.startswith("//") else line)

    def command(self, text: str) -> bool:
        """Run a /command; False means leave."""
        name, _, rest = text.partition(" ")
        rest = rest.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            print(HELP, flush=True)
        elif name == "/reset":
            self.messages.clear()
            say("conversation cleared", dim=True)
        elif name == "/model":
            self.model = rest or self.model
            say(f"model: {self.model}", dim=True)
        elif name == "/system":
            self.system = rest or self.system
            say(f"system message: {self.system or '(none)'}", dim=True)
        elif name == "/save":
            self.save(rest)
        else:
            say(f"unknown command {name}: /help lists them (// sends a line starting with /)")
        return True

    def save(self, where: str) -> None:
        """Write the conversation as JSON (the model and the messages, as sent)."""
        if not where:
            say("/save needs a file name: /save chat.json")
            return
        path = pathlib.Path(where).expanduser()
        document = {"model": self.model, "messages": self.wire()}
        try:
            path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        except OSError as exc:
            say(f"/save: cannot write {path}: {exc.strerror or exc}")
            return
        say(f"saved {len(document['messages'])} messages to {path}", dim=True)

    def turn(self, text: str) -> None:
        """Send ``text``, stream the reply, and keep both in the conversation."""
        self.messages.append({"role": "user", "content": text})
        turn = Turn()
        params = chat_params(self.args, self.model, self.wire())
        try:
            stream_reply(self.client, params, turn, choose_renderer(self.args.plain))
        except KeyboardInterrupt:
            forget()  # handled here: the chat goes on
            self.messages.append({"role": "assistant", "content": mark_interrupted(turn.reply)})
            say("reply interrupted (kept in the conversation, marked as such)", dim=True)
            return
        except MistralError as exc:
            self.messages.pop()
            message, self.status = describe(exc)
            say(message)
            return
        self.messages.append({"role": "assistant", "content": turn.reply})
        report(turn, self.args)


def repl(client: Mistral, args: argparse.Namespace) -> int:
    """Run the interactive chat on this terminal; returns the exit code."""
    history = pathlib.Path(args.history).expanduser() if args.history else None
    return Chat(client, args, choose_reader(history)).run()
