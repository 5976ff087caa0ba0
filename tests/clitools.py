"""Running the ``levante`` command in tests: in a subprocess, or on a pseudo-terminal."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import socket
import subprocess
import sys
import termios
import time
from typing import Any

TIMEOUT = 30
ANSI = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])"
)


def env(**extra: str) -> dict[str, str]:
    """This process's environment without MISTRAL_* (so no test reaches the real API)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MISTRAL_")}
    clean.pop("NO_COLOR", None)
    clean["PYTHONUNBUFFERED"] = "1"
    clean.update(extra)
    return clean


def levante(
    *args: str,
    timeout: float = TIMEOUT,
    extra_env: dict[str, str] | None = None,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m levante.cli ARGS`` to completion; stdin is empty unless ``input``."""
    if "input" not in kwargs:
        kwargs["stdin"] = subprocess.DEVNULL
    return subprocess.run(
        [sys.executable, "-m", "levante.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(**(extra_env or {})),
        **kwargs,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Terminal:
    """``levante ARGS`` whose stdin, stdout and stderr are a pty that this object controls.

    ``text`` is what the terminal showed, with escape sequences removed, so tests can match
    plain text whether the REPL draws with prompt_toolkit and rich or writes plain lines.
    """

    def __init__(self, *args: str, columns: int = 100, **extra_env: str) -> None:
        master, slave = os.openpty()
        # rows, columns: prompt_toolkit and rich read the size of the terminal
        fcntl.ioctl(slave, termios.TIOCSWINSZ, bytes([40, 0, columns, 0, 0, 0, 0, 0]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "levante.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", **extra_env),
            start_new_session=True,
            # Make the pty the child's controlling terminal, so that ^C becomes SIGINT.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.fd = master
        self.raw = b""

    @property
    def text(self) -> bytes:
        """Everything shown so far, escape sequences removed and ``\\r\\n`` made ``\\n``."""
        return ANSI.sub(b"", self.raw).replace(b"\r\n", b"\n")

    def _read(self, timeout: float) -> bool:
        if not select.select([self.fd], [], [], timeout)[0]:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        self.raw += data
        return bool(data)

    def expect(self, pattern: bytes, timeout: float = 10.0, start: int = 0) -> int:
        """Wait until ``pattern`` (a regex) shows in :attr:`text` after ``start``; its end."""
        regex = re.compile(pattern, re.DOTALL)
        deadline = time.monotonic() + timeout
        while (match := regex.search(self.text, start)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} not seen; screen so far: {self.text!r}")
            if not self._read(remaining):
                raise AssertionError(f"{pattern!r} not seen before EOF: {self.text!r}")
        return match.end()

    def send(self, data: bytes) -> None:
        """Type ``data``."""
        os.write(self.fd, data)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the process to exit (reading its output meanwhile); its exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"levante did not exit; screen: {self.text!r}")
            # keep draining, or a child blocked on a full pty would never exit
            self._read(0.05)
        with contextlib.suppress(OSError):
            while self._read(0.05) and time.monotonic() < deadline:
                pass
        return self.process.returncode

    def close(self) -> None:
        """Kill the process if it still runs, and close the terminal."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.fd)
