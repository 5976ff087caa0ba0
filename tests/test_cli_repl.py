"""The interactive ``levante chat`` driven through a pseudo-terminal, Ctrl-C included."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator

import pytest

from levante.devserver import EmbeddedServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")


class Terminal:
    """A child process whose stdin, stdout and stderr are a pty it controls."""

    def __init__(self, *args: str) -> None:
        master, slave = os.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MISTRAL_")}
        env["TERM"] = "dumb"  # no colour or bracketed-paste escapes from readline
        self.process = subprocess.Popen(
            [sys.executable, "-m", "levante.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            # Make the pty the child's controlling terminal, so that ^C becomes SIGINT.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.fd = master
        self.output = b""

    def expect(self, pattern: bytes, timeout: float = 10.0, start: int = 0) -> int:
        """Read until ``pattern`` (a regex) appears after offset ``start``; return its end."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while (match := regex.search(self.output, start)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} not seen; output so far: {self.output!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    raise AssertionError(f"{pattern!r} not seen before EOF: {self.output!r}")
                self.output += data
        return match.end()

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the REPL did not exit; output: {self.output!r}")
            # keep draining, or a child blocked on a full pty would never exit
            if select.select([self.fd], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.fd, 4096)
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.fd)


@pytest.fixture
def slow_server() -> Iterator[EmbeddedServer]:
    # strict: an unknown model must be the API's 400 (levante serve --strict-models)
    with EmbeddedServer(tokens_per_second=40, strict_models=True) as srv:
        yield srv


def open_streams(server: EmbeddedServer) -> int:
    deadline = time.monotonic() + 5
    while server.stats()["open"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return server.stats()["open"]


def test_repl_ctrl_c_stops_a_reply_and_the_chat_goes_on(slow_server: EmbeddedServer) -> None:
    term = Terminal("chat", "--server-url", slow_server.url, "--model", "levante-echo")
    try:
        at = term.expect(rb"> ")
        term.send(b"alpha beta gamma\r")
        # the reply, its stats line, then the next prompt
        at = term.expect(rb"alpha beta gamma\r\n(?:.*\r\n)?alpha beta gamma", start=at)
        at = term.expect(rb"first token [0-9.]+ s.*finish stop.*\r\n> ", start=at)

        # ~200 tokens at 40/s: five seconds unless interrupted
        words = " ".join(f"w{i}" for i in range(200))
        term.send(words.encode() + b"\r")
        at = term.expect(rb"w199\r\n", start=at)  # the terminal echoes the typed line
        at = term.expect(rb"w3 ", start=at)  # the reply is streaming
        term.send(b"\x03")
        at = term.expect(rb"reply interrupted\r\n> ", start=at, timeout=5)
        reply = term.output[:at].rsplit(b"w199\r\n", 1)[1]
        assert b"w199" not in reply  # stopped well before the end
        assert b"Traceback" not in term.output
        assert open_streams(slow_server) == 0
        assert slow_server.stats()["aborted"] == 1

        term.send(b"delta epsilon\r")
        at = term.expect(rb"delta epsilon\r\n(?:.*\r\n)?delta epsilon", start=at)
        at = term.expect(rb"finish stop.*\r\n> ", start=at)
        # the interrupted turn was forgotten: history is alpha (2 msgs) + delta = 3 messages
        stats_lines = re.findall(rb"usage (\d+) prompt", term.output)
        assert [int(n) for n in stats_lines] == [4, 4 + 4 + 3]

        term.send(b"\x04")  # Ctrl-D at the prompt
        assert term.wait() == 0
        assert slow_server.stats() == {"open": 0, "completed": 2, "aborted": 1}
    finally:
        term.close()


def test_repl_ctrl_c_at_the_prompt_exits_130(slow_server: EmbeddedServer) -> None:
    term = Terminal("chat", "--server-url", slow_server.url, "--model", "levante-echo")
    try:
        term.expect(rb"> ")
        # CPython's readline loses a SIGINT that lands between drawing the prompt and its
        # select() (it then waits for input); a person is never that fast, so neither are we.
        time.sleep(0.3)
        term.send(b"\x03")
        assert term.wait() == 130
        assert b"Traceback" not in term.output
    finally:
        term.close()


def test_repl_exit_command_and_errors_keep_the_chat_alive(slow_server: EmbeddedServer) -> None:
    term = Terminal("chat", "--server-url", slow_server.url, "--model", "no-such-model")
    try:
        at = term.expect(rb"> ")
        term.send(b"hello\r")
        at = term.expect(
            rb"levante: unknown model \(400\): Invalid model: no-such-model.*\r\n> ", start=at
        )
        term.send(b"/exit\r")
        # an API error in the chat makes the exit status 1, like a one-shot error would
        assert term.wait() == 1
        assert b"Traceback" not in term.output
    finally:
        term.close()
