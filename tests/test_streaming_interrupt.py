"""levante._streaming._interrupt: waking a blocked read by socket shutdown, and the watchdog
thread that fires sync deadlines, on real sockets and a real thread."""

from __future__ import annotations

import socket
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from levante._streaming._interrupt import _Watchdog, own_socket, shutdown_socket


class NetworkStream:
    """What httpcore2 puts in a response's ``network_stream`` extension, around a socket."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None


def response_on(sock: Any, version: bytes = b"HTTP/1.1") -> httpx2.Response:
    return httpx2.Response(
        200, extensions={"http_version": version, "network_stream": NetworkStream(sock)}
    )


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        yield a, b


def test_own_socket_only_for_an_http11_socket(pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    assert own_socket(response_on(a)) is a
    assert own_socket(response_on(a, b"HTTP/2")) is None  # shared by other streams
    assert own_socket(httpx2.Response(200)) is None  # in-process: no socket at all
    assert own_socket(response_on(object())) is None  # nothing that can shut down


def test_shutdown_wakes_a_blocked_recv(pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(a.recv(10)))
    reader.start()
    time.sleep(0.05)
    assert reader.is_alive()  # blocked: nothing was sent
    shutdown_socket(response_on(a))
    reader.join(5)
    assert got == [b""]  # woken, seeing the end of the stream
    shutdown_socket(response_on(a))  # twice is fine
    a.close()
    shutdown_socket(response_on(a))  # and so is a closed socket


class Sleeper:
    """Records the deadlines the watchdog reports."""

    def __init__(self, log: list[tuple[str, float]], name: str) -> None:
        self.log = log
        self.name = name
        self.fired = threading.Event()

    def _on_deadline(self, when: float) -> None:
        self.log.append((self.name, when))
        self.fired.set()


def test_the_watchdog_fires_deadlines_in_order_on_one_thread() -> None:
    watchdog = _Watchdog()
    log: list[tuple[str, float]] = []
    now = time.monotonic()
    sleepers = {name: Sleeper(log, name) for name in "abc"}
    threads_before = threading.active_count()
    watchdog.arm(now + 0.15, sleepers["a"])
    watchdog.arm(now + 0.05, sleepers["b"])
    watchdog.arm(now + 0.10, sleepers["c"])
    assert threading.active_count() == threads_before + 1  # one thread, whatever the count
    for sleeper in sleepers.values():
        assert sleeper.fired.wait(5)
    assert log == [("b", now + 0.05), ("c", now + 0.10), ("a", now + 0.15)]
    assert time.monotonic() >= now + 0.15


def test_the_watchdog_keeps_no_stream_alive() -> None:
    watchdog = _Watchdog()
    log: list[tuple[str, float]] = []
    dropped = Sleeper(log, "dropped")
    ref = weakref.ref(dropped)
    watchdog.arm(time.monotonic() + 0.05, dropped)
    del dropped
    assert ref() is None  # armed, yet freed at once
    kept = Sleeper(log, "kept")
    watchdog.arm(time.monotonic() + 0.1, kept)
    assert kept.fired.wait(5)
    assert [name for name, _ in log] == ["kept"]
