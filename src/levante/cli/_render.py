"""How a streamed reply and the notices around it reach the terminal.

Three renderers share one small interface (``feed`` text as it arrives, then ``close``):

- :class:`PlainRenderer` writes the text exactly as it arrives: when stdout is not a
  terminal, when ``NO_COLOR`` is set, or with ``--plain``;
- :class:`WrappedRenderer` breaks lines at word boundaries to fit the terminal, for a
  terminal without the ``cli`` extra (rich);
- :class:`MarkdownRenderer` (rich) renders Markdown as it streams: finished blocks are
  printed once and for all, and only the block being written is redrawn, in a live area
  that shows its last lines (so a block taller than the screen never garbles it).

"""

from __future__ import annotations

import re
import shutil
import sys
import time
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from ._common import colour_allowed

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live


class Renderer(Protocol):
    """Shows one reply: ``feed`` each piece of text as it arrives, then ``close`` once."""

    def feed(self, text: str) -> None:
        """Show ``text``, the next piece of the reply."""

    def close(self) -> None:
        """The reply is over (complete or not): show what is left, end the line."""


class PlainRenderer:
    """The text exactly as it arrives, flushed piece by piece."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last = "\n"

    def feed(self, text: str) -> None:
        """Write ``text`` and flush, so each token shows as soon as it arrives."""
        if text:
            self._out.write(text)
            self._out.flush()
            self._last = text

    def close(self) -> None:
        """End the line, unless the reply did."""
        if not self._last.endswith("\n"):
            self._out.write("\n")
            self._out.flush()


class WrappedRenderer:
    """Plain text broken at word boundaries to fit ``width`` columns, as it streams.

    A word shows once the whitespace after it arrives (a token usually carries it); the
    space before a word is written with the word, so no line ends in a space.
    """

    def __init__(self, out: TextIO, width: int) -> None:
        self._out = out
        self._width = max(width, 10)
        self._column = 0
        self._word = ""
        self._space = False  # a space is due before the next word on this line

    def _put_word(self) -> None:
        word, self._word = self._word, ""
        if not word:
            return
        gap = 1 if self._space and self._column else 0
        self._space = False
        if self._column and self._column + gap + len(word) > self._width:
            self._out.write("\n")
            self._column = gap = 0
        self._out.write(" " * gap)
        self._column += gap
        while len(word) > self._width - self._column:  # longer than a line: cut it
            room = self._width - self._column
            self._out.write(word[:room] + "\n")
            word, self._column = word[room:], 0
        self._out.write(word)
        self._column += len(word)

    def feed(self, text: str) -> None:
        """Write the whole words of ``text``, wrapping before one that would not fit."""
        for char in text:
            if char == "\n":
                self._put_word()
                self._out.write("\n")
                self._column, self._space = 0, False
            elif char in " \t":
                self._put_word()
                self._space = True
            else:
                self._word += char
        self._out.flush()

    def close(self) -> None:
        """Write the last word and end the line."""
        self._put_word()
        if self._column:
            self._out.write("\n")
        self._out.flush()


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def stable_prefix(text: str) -> int:
    """How much of ``text`` is finished Markdown blocks: up to its last blank line outside
    a fenced code block (blocks after it may still change as more text arrives)."""
    fence: str | None = None
    cut = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        offset += len(line)
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence[0] * len(fence)):
            fence = None
        elif fence is None and not line.strip() and line.endswith("\n"):
            cut = offset
    return cut


def hard_breaks(text: str) -> str:
    """``text`` with each line break inside a paragraph kept, as chat interfaces show them
    (CommonMark would join the lines): two trailing spaces outside fenced code."""
    lines = text.split("\n")
    fence = False
    for index, line in enumerate(lines[:-1]):
        following = lines[index + 1]
        if _FENCE.match(line):
            fence = not fence
        elif not fence and line.strip() and following.strip() and not _FENCE.match(following):
            lines[index] = line + "  "
    return "\n".join(lines)


class _Tail:
    """A renderable that shows only the last ``height`` lines of another."""

    def __init__(self, renderable: Any, height: int) -> None:
        self.renderable = renderable
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        lines = console.render_lines(self.renderable, options, pad=False)
        for line in lines[-self.height :]:
            yield from line
            yield Segment.line()


class MarkdownRenderer:
    """Markdown rendered by rich as it streams (see the module docstring)."""

    #: at most this many redraws of the live block per second
    FPS = 12

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console: Console = Console(file=out, soft_wrap=False)
        self._live: Live = Live(
            console=self._console, auto_refresh=False, transient=True, redirect_stdout=False
        )
        self._pending = ""
        self._drawn = 0.0
        self._started = False

    def _markdown(self, text: str) -> Any:
        from rich.markdown import Markdown

        return Markdown(hard_breaks(text))

    def feed(self, text: str) -> None:
        """Add ``text``; print the blocks it finished; redraw the open block (throttled)."""
        if not text:
            return
        if not self._started:
            self._live.start()
            self._started = True
        self._pending += text
        cut = stable_prefix(self._pending)
        if cut:
            done, self._pending = self._pending[:cut], self._pending[cut:]
            if done.strip():
                self._live.console.print(self._markdown(done))
                self._live.console.print()
        now = time.monotonic()
        if now - self._drawn >= 1 / self.FPS:
            self._drawn = now
            height = max(self._console.size.height - 2, 3)
            self._live.update(_Tail(self._markdown(self._pending), height), refresh=True)

    def close(self) -> None:
        """Stop the live area and print the last block in full."""
        if self._started:
            self._live.update("", refresh=False)
            self._live.stop()
        if self._pending.strip():
            self._console.print(self._markdown(self._pending))
        self._pending = ""


def choose_renderer(plain: bool) -> Renderer:
    """The renderer for stdout: see the module docstring for which and when."""
    out = sys.stdout
    if plain or not colour_allowed(out):
        return PlainRenderer(out)
    try:
        import rich  # noqa: F401  (the cli extra)
    except ImportError:
        return WrappedRenderer(out, shutil.get_terminal_size().columns)
    return MarkdownRenderer(out)
