"""The dev server in a child process, so that in a soak it has a core of its own.

An in-process server would share the GIL with the clients it serves and halve the soak's
throughput on two cores. Its stream counters are read over HTTP (``/_levante/stats``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["dev_server_process", "server_stats", "wait_for_open_streams"]

_CHILD = """
import json, sys
from levante.devserver import EmbeddedServer
server = EmbeddedServer(**json.loads(sys.argv[1])).start()
print(server.url, flush=True)
sys.stdin.read()  # until the parent closes our stdin, or dies
server.stop()
"""


@contextmanager
def dev_server_process(**options: Any) -> Iterator[str]:
    """Serve :class:`~levante.devserver.EmbeddedServer` (``options`` go to the app) in a
    child process; yields its URL."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        # asyncio logs "socket.send() raised exception." for every client that left
        # mid-write, which a soak does on purpose hundreds of times
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the dev server process did not start")
        yield url
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(5)
        if child.stdout is not None:
            child.stdout.close()


def server_stats(url: str) -> dict[str, int]:
    """The server's stream counters: ``open``, ``completed``, ``aborted``."""
    with urllib.request.urlopen(f"{url}/_levante/stats", timeout=10) as response:
        stats: dict[str, int] = json.loads(response.read())
    return stats


def wait_for_open_streams(url: str, expected: int = 0, timeout: float = 15.0) -> int:
    """Poll until the server holds ``expected`` open streams; the last count seen."""
    deadline = time.monotonic() + timeout
    while True:
        count = server_stats(url)["open"]
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.05)
