"""The interactive ``levante chat`` on a pseudo-terminal, read through a terminal emulator.

Each test types into a real ``levante chat`` process (prompt_toolkit for input, rich for
output) and checks what the screen shows, what the dev server saw, and what ``/save``
wrote. The dev server runs in this process, so the child only imports the client.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time
from collections.abc import Iterator

import pytest

from clitools import Terminal
from levante.devserver import EmbeddedServer
from levante.devserver.engine import MODELS, chat_reply

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

PROMPT = r"(?m)^>$"  # an empty prompt line (the screen is right-trimmed)
DONE = r"finish\sstop\n>"  # a reply's stats line, then the next prompt


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tokens_per_second=400) as srv:
        yield srv


@pytest.fixture
def slow_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tokens_per_second=25) as srv:
        yield srv


@pytest.fixture
def chat(tmp_path: pathlib.Path, server: EmbeddedServer) -> Iterator[Terminal]:
    term = Terminal("chat", "--server-url", server.url, "--history", str(tmp_path / "history"))
    yield term
    term.close()


def saved(term: Terminal, path: pathlib.Path, times: int = 1) -> list[dict[str, str]]:
    term.send(f"/save {path}\r".encode())
    term.expect(r"saved \d+ messages to", count=times)
    messages: list[dict[str, str]] = json.loads(path.read_text())["messages"]
    return messages


def test_the_dev_model_quotes_the_turn_before() -> None:
    spec = next(model for model in MODELS if model.id == "levante-chat")
    first = [{"role": "user", "content": "my name is Ana"}]
    assert "Before that" not in chat_reply(spec, first).text
    second = [*first, {"role": "assistant", "content": "..."}, {"role": "user", "content": "?"}]
    assert chat_reply(spec, second).text.endswith('Before that you said: "my name is Ana"')


def test_commands_memory_reset_and_multi_line_input(chat: Terminal, tmp_path: pathlib.Path) -> None:
    chat.expect(PROMPT, timeout=20)
    chat.send(b"my name is Ana\r")
    chat.expect(DONE)
    chat.send(b"what is my name?\r")
    # the reply shows the conversation was sent whole: the model quotes the turn before
    chat.expect(r'Before that you said: "my name\s+is Ana".*' + DONE)
    chat.send(b"/help\r")
    chat.expect(r"/reset\s+forget the conversation.*Ctrl-C\s+stop the reply")
    chat.send(b"/system be brief\r")
    chat.expect(r"system message: be brief")
    chat.send(b"/model levante-echo\r")
    chat.expect(r"model: levante-echo")
    # rendered as Markdown (no ** or backticks), wrapped at words to the 80 columns
    words = ["streaming"] * 20
    chat.send(("**bold** and `code` then " + " ".join(words) + "\r").encode())
    reply = chat.expect(r"\n(bold and code then streaming.*?)\nlevante: first token").group(1)
    assert reply.split() == ["bold", "and", "code", "then", *words]
    assert len(reply.splitlines()) == 3 and all(len(line) <= 80 for line in reply.splitlines())
    chat.send(b"/nope\r")
    chat.expect(r"unknown command /nope: /help lists them")
    chat.send(b"/reset\r")
    chat.expect(r"conversation cleared")
    # multi-line: Alt-Enter, and a trailing backslash, both start a new line
    chat.send(b"line one\x1b\rline two\\\rline three\r")
    chat.expect(r"line one\nline two\nline three\n.*" + DONE)
    chat.send(b"//slash\r")
    chat.expect(r"\n/slash\n.*" + DONE)
    messages = saved(chat, tmp_path / "chat.json")
    assert messages == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "line one\nline two\nline three"},
        {"role": "assistant", "content": "line one\nline two\nline three"},
        {"role": "user", "content": "/slash"},
        {"role": "assistant", "content": "/slash"},
    ]  # /reset forgot Ana; commands were never sent
    chat.send(b"/exit\r")
    assert chat.wait() == 0


def test_ctrl_c_during_a_reply_keeps_it_marked(
    slow_server: EmbeddedServer, tmp_path: pathlib.Path
) -> None:
    term = Terminal(
        "chat", "--server-url", slow_server.url, "-m", "levante-echo",
        "--history", str(tmp_path / "history"),
    )  # fmt: skip
    try:
        term.expect(PROMPT, timeout=20)
        words = " ".join(f"w{i}" for i in range(200))  # 8 s at 25 tokens/s
        term.send(words.encode() + b"\r")
        term.expect(r"\nw0 w1 w2 w3 w4 ")  # the reply is streaming
        term.send(b"\x03")
        term.expect(r"reply interrupted \(kept in the conversation, marked as such\)\n>", 5)
        deadline = time.monotonic() + 5
        while slow_server.stats()["open"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert slow_server.stats() == {"open": 0, "completed": 0, "aborted": 1}
        user, assistant = saved(term, tmp_path / "chat.json")
        assert user == {"role": "user", "content": words}
        kept = assistant["content"]
        assert kept.endswith(" [interrupted]") and words.startswith(kept[: -len(" [interrupted]")])
        assert "w199" not in kept  # stopped well before the end
        term.send(b"\x04")  # Ctrl-D quits
        assert term.wait() == 0
        assert "Traceback" not in term.screen
    finally:
        term.close()


def test_history_across_sessions_and_ctrl_c_at_the_prompt(
    server: EmbeddedServer, tmp_path: pathlib.Path
) -> None:
    history = str(tmp_path / "state" / "history")  # its folder is created on first use
    first = Terminal("chat", "--server-url", server.url, "-m", "levante-echo", "--history", history)
    try:
        first.expect(PROMPT, timeout=20)
        first.send(b"remember this line\r")
        first.expect(DONE)
        first.send(b"\x04")
        assert first.wait() == 0
    finally:
        first.close()
    second = Terminal(
        "chat", "--server-url", server.url, "-m", "levante-echo", "--history", history
    )
    try:
        second.expect(PROMPT, timeout=20)
        second.send(b"\x1b[A", pause=0.2)  # Up: the line typed in the first session
        second.send(b"\r")
        second.expect(r"> remember this line\nremember this line\n")
        # Ctrl-C clears the line (and does not quit)...
        second.send(b"never sent", pause=0.2)
        second.send(b"\x03", pause=0.2)
        assert second.process.poll() is None
        second.send(b"sent\r")
        second.expect(r"\n> sent\nsent\n")
        assert "never" not in second.screen.split("> sent")[1]
        # ...and on an empty line shows a hint; a second Ctrl-C quits
        second.send(b"\x03")
        second.expect(r"> Ctrl-C again or Ctrl-D to quit")
        second.send(b"\x03")
        assert second.wait() == 130
        assert "Traceback" not in second.screen
    finally:
        second.close()


def test_ctrl_c_while_the_chat_starts(server: EmbeddedServer) -> None:
    # Ctrl-C while levante imports the client, prompt_toolkit and rich: the terminal is
    # still in cooked mode, so ^C is a SIGINT. If the chat is up already (a fast machine),
    # try again sooner.
    for delay in (0.4, 0.2, 0.1):
        term = Terminal("chat", "--server-url", server.url)
        try:
            term.send(b"", pause=delay)
            if "chatting with" in term.screen:
                continue
            term.send(b"\x03")
            assert term.wait() == 130
            assert "Traceback" not in term.screen and "Error" not in term.screen
            return
        finally:
            term.close()
    pytest.fail("the chat was always up within 0.1 s: nothing left to interrupt")
