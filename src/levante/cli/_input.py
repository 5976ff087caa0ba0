"""Reading what the person types at the chat prompt.

:class:`PromptReader` uses prompt_toolkit (the ``cli`` extra): line editing, a history
file shared across sessions (Up/Down, Ctrl-R), multi-line input, and Ctrl-C that clears
the line. :class:`PlainReader` is the fallback (no extra, or stdout is not a terminal):
``input()`` with readline when there is one.

Both follow the same rules: Enter sends; Alt-Enter (Esc then Enter), a trailing
backslash, or an open ```` ``` ```` fence continue on a new line; Ctrl-C clears the line,
and a second Ctrl-C on an empty line quits (``read`` raises ``KeyboardInterrupt``);
Ctrl-D on an empty line quits (``EOFError``).
"""

from __future__ import annotations

import contextlib
import pathlib
import sys
from typing import Any, Protocol

PROMPT = "> "
CONTINUATION = ". "
HINT = "Ctrl-C again or Ctrl-D to quit"


class LineReader(Protocol):
    """Reads one message: its text, or ``EOFError`` / ``KeyboardInterrupt`` to quit."""

    def read(self) -> str:
        """The next message the person typed."""


def continues(text: str) -> bool:
    """Whether Enter after ``text`` should start a new line rather than send."""
    return text.endswith("\\") or text.count("```") % 2 == 1


class PromptReader:
    """prompt_toolkit's line editor with levante's keys (see the module docstring)."""

    def __init__(self, history: pathlib.Path | None) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, History, InMemoryHistory

        self._armed = False  # a Ctrl-C on an empty line was pressed: the next one quits
        store: History = InMemoryHistory() if history is None else FileHistory(str(history))
        self._session: Any = PromptSession(
            history=store,
            key_bindings=self._keys(),
            multiline=True,
            prompt_continuation=CONTINUATION,
            placeholder=self._placeholder,
            enable_open_in_editor=True,  # Ctrl-X Ctrl-E: compose in $EDITOR
        )
        self._session.default_buffer.on_text_changed += self._disarm

    def _placeholder(self) -> Any:
        from prompt_toolkit.formatted_text import FormattedText

        return FormattedText([("ansibrightblack", HINT)] if self._armed else [])

    def _disarm(self, _buffer: object) -> None:
        self._armed = False

    def _keys(self) -> Any:
        from prompt_toolkit.key_binding import KeyBindings

        keys = KeyBindings()

        @keys.add("c-c")
        def _ctrl_c(event: Any) -> None:
            buffer = event.current_buffer
            if buffer.text:
                buffer.reset()
            elif self._armed:
                event.app.exit(exception=KeyboardInterrupt())
            else:
                self._armed = True
                event.app.invalidate()

        @keys.add("enter")
        def _enter(event: Any) -> None:
            buffer = event.current_buffer
            if not continues(buffer.text):
                buffer.validate_and_handle()
            elif buffer.text.endswith("\\"):
                buffer.delete_before_cursor(1)
                buffer.insert_text("\n")
            else:
                buffer.insert_text("\n")

        @keys.add("escape", "enter")
        def _newline(event: Any) -> None:
            event.current_buffer.insert_text("\n")

        return keys

    def read(self) -> str:
        """The next message (see the module docstring for the keys)."""
        self._armed = False
        # handle_sigint=False: at the prompt the terminal is in raw mode, so Ctrl-C is a key
        # (bound above), and prompt_toolkit must not swap the process's SIGINT handler.
        text: str = self._session.prompt(PROMPT, handle_sigint=False)
        return text


class PlainReader:
    """``input()``-based reading; a Ctrl-C always clears the line (see the docstring)."""

    def __init__(self, history: pathlib.Path | None) -> None:
        self._history: pathlib.Path | None = None
        self._editing = sys.stdin.isatty() and sys.stdout.isatty()
        if self._editing and history is not None:
            with contextlib.suppress(ImportError):
                import readline

                self._history = history
                with contextlib.suppress(OSError):
                    readline.read_history_file(history)

    def _line(self, prompt: str) -> str:
        if self._editing:
            return input(prompt)
        # stdout is redirected: the prompt goes to the terminal on stderr instead
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def read(self) -> str:
        """The next message (see the module docstring for the keys)."""
        lines: list[str] = []
        armed = False
        while True:
            try:
                line = self._line(CONTINUATION if lines else PROMPT)
            except KeyboardInterrupt:
                if armed:
                    raise
                armed = True
                lines = []
                sys.stderr.write(f"\n({HINT})\n")
                continue
            armed = False
            if line.endswith("\\"):
                lines.append(line[:-1])
                continue
            lines.append(line)
            text = "\n".join(lines)
            if not continues(text):
                self._remember(text)
                return text

    def _remember(self, text: str) -> None:
        if self._history is None or not text.strip():
            return
        import readline

        with contextlib.suppress(OSError):
            readline.append_history_file(1, self._history)


def _usable(history: pathlib.Path | None) -> pathlib.Path | None:
    if history is None:
        return None
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # no place for it: this session's history stays in memory
    return history


def choose_reader(history: pathlib.Path | None) -> LineReader:
    """prompt_toolkit's reader when installed and both ends are terminals, else plain."""
    history = _usable(history)
    if sys.stdin.isatty() and sys.stdout.isatty():
        try:
            return PromptReader(history)
        except ImportError:
            pass
    return PlainReader(history)
