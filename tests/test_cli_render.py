"""The chat's renderers and input rules, without a terminal: text in, text out."""

from __future__ import annotations

import io
import sys

import pytest

from levante.cli import _render
from levante.cli._input import continues
from levante.cli._render import (
    MarkdownRenderer,
    PlainRenderer,
    WrappedRenderer,
    choose_renderer,
    hard_breaks,
    stable_prefix,
)
from levante.cli.repl import mark_interrupted


@pytest.mark.parametrize(
    ("text", "stable"),
    [
        ("", ""),
        ("one paragraph, still open", ""),
        ("done.\n\nopen", "done.\n\n"),
        ("a\n\nb\n\nc", "a\n\nb\n\n"),
        ("```\ncode\n\nstill code\n", ""),  # a blank line inside a fence ends nothing
        ("```\ncode\n\nmore\n```\n\nafter", "```\ncode\n\nmore\n```\n\n"),
        ("~~~~\nx\n```\n\ny", ""),  # ``` does not close a ~~~~ fence
        ("text\n\n", "text\n\n"),
        ("text\n \n", "text\n \n"),  # a line of spaces is blank
    ],
)
def test_stable_prefix(text: str, stable: str) -> None:
    assert text[: stable_prefix(text)] == stable


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("one\ntwo", "one  \ntwo"),
        ("one\n\ntwo", "one\n\ntwo"),
        ("```\na\nb\n```\nafter", "```\na\nb\n```\nafter"),
        ("intro\n```\ncode\n```", "intro\n```\ncode\n```"),
        ("- a\n- b", "- a  \n- b"),
    ],
)
def test_hard_breaks_keep_the_lines_of_a_paragraph(text: str, markdown: str) -> None:
    assert hard_breaks(text) == markdown


def test_wrapped_renderer_breaks_at_words_as_text_streams() -> None:
    out = io.StringIO()
    renderer = WrappedRenderer(out, width=20)
    text = "The levante is an easterly wind of the western Mediterranean.\nNew line."
    for piece in [text[i : i + 3] for i in range(0, len(text), 3)]:  # split mid-word
        renderer.feed(piece)
    renderer.close()
    assert out.getvalue() == (
        "The levante is an\neasterly wind of the\nwestern\nMediterranean.\nNew line.\n"
    )
    long_word = io.StringIO()
    cut = WrappedRenderer(long_word, width=10)
    cut.feed("x" * 25)
    cut.close()
    assert long_word.getvalue() == "xxxxxxxxxx\nxxxxxxxxxx\nxxxxx\n"


def test_plain_renderer_writes_what_comes() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out)
    renderer.feed("**a**")
    renderer.feed(" b")
    renderer.close()
    assert out.getvalue() == "**a** b\n"
    ended = io.StringIO()
    renderer = PlainRenderer(ended)
    renderer.feed("line\n")
    renderer.close()
    assert ended.getvalue() == "line\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_markdown_renderer_prints_each_block_once() -> None:
    import pyte

    out = FakeTerminal()
    renderer = MarkdownRenderer(out)
    text = "# Title\n\nSome **bold** text\nand a second line.\n\n```\ncode\n```\n"
    for char in text:
        renderer.feed(char)
    renderer.close()
    screen = pyte.Screen(80, 30)  # rich draws for 80 columns when it cannot ask
    pyte.Stream(screen).feed(out.getvalue().replace("\n", "\r\n"))
    lines = [line.strip() for line in screen.display if line.strip()]
    assert lines == ["Title", "Some bold text", "and a second line.", "code"]


def test_choose_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(_render.sys, "stdout", FakeTerminal())
    assert isinstance(choose_renderer(plain=False), MarkdownRenderer)
    assert isinstance(choose_renderer(plain=True), PlainRenderer)
    monkeypatch.setenv("NO_COLOR", "1")
    assert isinstance(choose_renderer(plain=False), PlainRenderer)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(_render.sys, "stdout", io.StringIO())  # not a terminal
    assert isinstance(choose_renderer(plain=False), PlainRenderer)


@pytest.mark.parametrize(
    ("text", "more"),
    [("hello", False), ("hello \\", True), ("```python", True), ("```py\nx\n```", False)],
)
def test_what_continues_on_a_new_line(text: str, more: bool) -> None:
    assert continues(text) is more


def test_an_interrupted_reply_is_marked() -> None:
    assert mark_interrupted("The levante is ") == "The levante is [interrupted]"
    assert mark_interrupted("") == "[interrupted]"


def test_stats_are_dimmed_on_a_colour_terminal_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from levante.cli import _common

    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = FakeTerminal()
    monkeypatch.setattr(_common.sys, "stderr", terminal)
    _common.say("first token 0.20 s", dim=True)
    assert terminal.getvalue() == "\x1b[2mlevante: first token 0.20 s\x1b[0m\n"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = FakeTerminal()
    monkeypatch.setattr(_common.sys, "stderr", plain)
    _common.say("first token 0.20 s", dim=True)
    assert plain.getvalue() == "levante: first token 0.20 s\n"


def test_plain_reader_without_prompt_toolkit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from levante.cli import _input

    monkeypatch.setitem(sys.modules, "prompt_toolkit", None)  # as if not installed
    monkeypatch.setattr(_input.sys, "stdin", FakeTerminal())
    monkeypatch.setattr(_input.sys, "stdout", FakeTerminal())
    reader = _input.choose_reader(None)
    assert isinstance(reader, _input.PlainReader)
    typed = iter(["first \\", "second", "```", "code", "```", "dropped \\", KeyboardInterrupt,
                  "kept", "", KeyboardInterrupt, KeyboardInterrupt])  # fmt: skip

    def line(prompt: str) -> str:
        item = next(typed)
        if item is KeyboardInterrupt:
            raise KeyboardInterrupt
        assert isinstance(item, str)
        return item

    monkeypatch.setattr(reader, "_line", line)
    assert reader.read() == "first \nsecond"  # a trailing backslash continues
    assert reader.read() == "```\ncode\n```"  # so does an open fence
    assert reader.read() == "kept"  # Ctrl-C dropped what was typed before it
    assert reader.read() == ""  # an empty line comes back as such; Ctrl-C twice quits
    with pytest.raises(KeyboardInterrupt):
        reader.read()
    assert "Ctrl-C again or Ctrl-D to quit" in capsys.readouterr().err


def test_plain_reader_reads_lines_when_stdout_is_redirected(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from levante.cli import _input

    monkeypatch.setattr(_input.sys, "stdin", io.StringIO("hello\nlast\n"))
    reader = _input.PlainReader(None)
    assert [reader.read(), reader.read()] == ["hello", "last"]
    with pytest.raises(EOFError):
        reader.read()
    assert capsys.readouterr().err == "> > > "  # prompts go to stderr, not into the output
