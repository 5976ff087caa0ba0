"""Running the dev server: in the foreground (``serve``) or in a background thread
(``EmbeddedServer``, used by the CLI and by tests)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.request
from types import TracebackType
from typing import Any

import uvicorn

from .app import create_app

__all__ = ["EmbeddedServer", "serve"]


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    api_key: str | None = None,
    tokens_per_second: float | None = None,
    ttft: float = 0.0,
    faults: str | None = None,
    strict_models: bool = False,
) -> None:
    """Serve the dev server until interrupted (Ctrl-C); blocks the calling thread.

    The options are those of :func:`levante.devserver.create_app`; ``strict_models=True``
    is ``levante serve --strict-models``.
    """
    app = create_app(
        api_key=api_key,
        tokens_per_second=tokens_per_second,
        ttft=ttft,
        faults=faults,
        strict_models=strict_models,
    )
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
    uvicorn.Server(config).run()


class EmbeddedServer:
    """The dev server on a free loopback port, in a daemon thread of this process.

    >>> with EmbeddedServer(tokens_per_second=50) as server:  # doctest: +SKIP
    ...     print(server.url)
    http://127.0.0.1:54321

    ``start()`` returns once the server accepts connections; ``stop()`` (also called on
    leaving a ``with`` block) shuts it down, giving open streams ``grace`` seconds to end.
    Keyword arguments other than ``host``, ``grace`` and ``log_level`` go to
    :func:`levante.devserver.create_app`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        grace: int = 1,
        log_level: str = "warning",
        **app_options: Any,
    ) -> None:
        self.app = create_app(**app_options)
        self._host = host
        self._sock: socket.socket | None = None
        config = uvicorn.Config(
            self.app,
            log_level=log_level,
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=grace,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, timeout: float = 10.0) -> EmbeddedServer:
        """Bind a free port, start serving, and wait until the server is up."""
        if self._thread is not None:
            raise RuntimeError("the embedded server was already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        self._sock = sock
        self.url = f"http://{self._host}:{sock.getsockname()[1]}"
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name="levante-devserver",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the embedded dev server did not start")
            time.sleep(0.005)
        return self

    def stats(self) -> dict[str, int]:
        """The server's stream counters (``GET /_levante/stats``), read in-process."""
        counters: dict[str, int] = self.app.state.levante.stats.as_dict()
        return counters

    def resumes(self) -> list[dict[str, str | None]]:
        """The resume cursor (``Last-Event-ID`` or ``last_event_id``) each resumable stream
        request carried, oldest first (``GET /_levante/resumes``), read in-process."""
        return list(self.app.state.levante.resumes)

    def fetch_stats(self, timeout: float = 5.0) -> dict[str, int]:
        """The stream counters fetched over HTTP, as an external client would see them."""
        with urllib.request.urlopen(f"{self.url}/_levante/stats", timeout=timeout) as resp:
            data: dict[str, int] = json.loads(resp.read())
        return data

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down and wait for its thread; safe to call twice."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> EmbeddedServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
