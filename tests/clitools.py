"""Running the ``levante`` command in tests: in a subprocess, or on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import re
import select
import socket
import struct
import subprocess
import sys
import termios
import time
from typing import Any

TIMEOUT = 30


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
    """``levante ARGS`` on a pseudo-terminal, read through a terminal emulator (pyte).

    :attr:`screen` is what a person would see on a ``rows`` x ``columns`` terminal, so
    tests assert on the rendered result (colours, cursor moves and redraws resolved), not
    on the escape sequences that produced it.
    """

    def __init__(self, *args: str, rows: int = 50, columns: int = 80, **extra_env: str) -> None:
        import pyte

        master, slave = os.openpty()
        # prompt_toolkit and rich ask the pty for its size: give it the emulator's
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
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
        self._screen = pyte.Screen(columns, rows)
        self._stream = pyte.ByteStream(self._screen)

    @property
    def screen(self) -> str:
        """The terminal's lines, right-trimmed, blank lines at the bottom dropped."""
        return "\n".join(line.rstrip() for line in self._screen.display).rstrip("\n")

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False once the terminal is closed."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        self.raw += data
        self._stream.feed(data)
        return bool(data)

    def expect(self, pattern: str, timeout: float = 10.0, count: int = 1) -> re.Match[str]:
        """Wait until ``pattern`` (a regex, DOTALL) shows ``count`` times on the screen."""
        regex = re.compile(pattern, re.DOTALL)
        deadline = time.monotonic() + timeout
        while len(matches := list(regex.finditer(self.screen))) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} (x{count}) not on screen:\n{self.screen}")
            if not self._read(remaining):
                raise AssertionError(f"{pattern!r} (x{count}) not seen before EOF:\n{self.screen}")
        return matches[count - 1]

    def send(self, data: bytes, pause: float = 0.0) -> None:
        """Type ``data``, then let the program react for ``pause`` seconds."""
        os.write(self.fd, data)
        deadline = time.monotonic() + pause
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for the process to exit (reading its output meanwhile); its exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"levante did not exit; screen:\n{self.screen}")
            self._read(0.05)  # keep draining, or a child blocked on a full pty never exits
        while time.monotonic() < deadline and select.select([self.fd], [], [], 0.05)[0]:
            if not self._read(0):
                break
        return self.process.returncode

    def close(self) -> None:
        """Kill the process if it still runs, and close the terminal."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.fd)
