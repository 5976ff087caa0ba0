"""Shared pytest configuration, fixtures and helpers.

Async tests run on asyncio and trio through anyio. Stream tests run over every body reader
(``body_reader``: httpx2's direct and generic ones, and levante's aiohttp transport)
against one live SSE server per module (``sse_server``); the helpers below (``loads``,
``raw``, ``assert_pooled``, ``assert_dropped``) are imported by them with
``from conftest import ...``. ``dev_server`` serves levante's own dev server;
``counted_dev_server`` also counts the requests it sees.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest

import levante._streaming._body as body
import liveserver
import typecheck
from levante._streaming._core import StreamCore
from levante._streaming._end import EndRule
from levante._streaming._state import CHECKPOINT, READ, State, Step
from levante._transport import AiohttpTransport
from liveserver import CountingApp, LiveServer, SSEApp, live_server, pool_connections

#: The live SSE server of a module: the app (to register bodies, count streams) and the
#: running server (its URL, its connection count).
Server = tuple[SSEApp, LiveServer]

_raw_keys = itertools.count()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["direct", "generic", "aiohttp"])
def body_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test over every way a stream reads its body (see levante/_streaming/_body.py).

    ``direct`` is what a response from httpx2's own HTTP/1.1 transport gets; ``generic``
    (the byte iterator every other transport gets) is forced by hiding the known chain;
    ``aiohttp`` sends through levante's aiohttp transport (``Mistral()``'s default on
    asyncio), whose bodies have a reader of their own: async suites take their client's
    transport from ``liveserver.async_transport``.
    """
    if request.param == "generic":
        monkeypatch.setattr(body, "_CHAINS", None)
    elif request.param == "aiohttp":
        monkeypatch.setattr(liveserver, "async_transport", AiohttpTransport)
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The aiohttp transport sends with aiohttp on asyncio only (on trio it hands over to
    httpx2's own transport, which ``direct`` covers): drop its sync and trio duplicates."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        aiohttp_elsewhere = params.get("body_reader") == "aiohttp" and (
            params.get("anyio_backend") != "asyncio"
        )
        (drop if aiohttp_elsewhere else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


#: Test files that share a worker under ``--dist loadfile`` (what ``make pytest`` runs):
#: the typing tests share one mypy run (the ``mypy_snippets`` fixture, ~10 s).
SAME_WORKER = {
    "tests/test_client_typing.py": "typing",
    "tests/test_resources_typing.py": "typing",
}


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown without the plugin
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` with the files of :data:`SAME_WORKER` as one unit: each test
    file runs in one worker, in order, so its module fixtures (servers in processes of
    their own) start once and the tables the reliability tests gather stay whole."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return SAME_WORKER.get(scope, scope)

    return Scheduling(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker: hand the reliability lines to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        from reliability_report import LINES

        workeroutput["reliability"] = [(t, line, str(d) if d else "") for t, line, d in LINES]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from reliability_report import LINES

    LINES.extend(tuple(entry) for entry in node.workeroutput.get("reliability", ()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What the reliability suite measured (soak counts, hostile-server outcomes, the
    concurrency run's event-loop lag), shown after the tests without ``-s``: see
    tests/reliability_report.py."""
    from reliability_report import LINES

    if LINES:
        terminalreporter.section("reliability")
    for title, line, details in LINES:
        terminalreporter.write_line(f"{title}: {line}")
        if details:
            terminalreporter.write_line(f"    {details}")


@pytest.fixture(scope="session")
def mypy_snippets(tmp_path_factory: pytest.TempPathFactory) -> typecheck.Checked:
    """One mypy run over every typing test's snippet (see tests/typecheck.py)."""
    return typecheck.check_all(tmp_path_factory.mktemp("mypy"))


@pytest.fixture(scope="module")
def sse_server() -> Iterator[Server]:
    """A live :class:`~liveserver.SSEApp` on 127.0.0.1, one per test module."""
    app = SSEApp()
    with live_server(app.app) as srv:
        yield app, srv


@pytest.fixture
def sse_client(sse_server: Server) -> Iterator[httpx2.Client]:
    """A sync client of ``sse_server``; the server is quiet when the test starts."""
    # Every test starts from a quiet server, so counts in it are this test's own.
    assert sse_server[1].wait_for_connections(0) == 0
    with httpx2.Client(base_url=sse_server[1].url, timeout=10) as client:
        yield client


@pytest.fixture
def dev_server() -> Iterator[LiveServer]:
    """levante's dev server, live on 127.0.0.1, fresh for each test."""
    from levante.devserver import create_app

    with live_server(create_app()) as srv:
        yield srv


@pytest.fixture
def counted_dev_server() -> Iterator[tuple[CountingApp, LiveServer]]:
    """levante's dev server, fresh for each test, counting the requests it sees (for "bad
    input never sends a request" tests)."""
    from levante.devserver import create_app

    app = CountingApp(create_app())
    with live_server(app) as srv:
        yield app, srv


def loads(event: Any) -> Any:
    """The decode function most stream tests use: the event's data as JSON."""
    return json.loads(event.data)


def raw(app: SSEApp, *parts: bytes, headers: dict[str, str] | None = None) -> str:
    """Register a body written as ``parts`` (one write each); return its path."""
    key = f"r{next(_raw_keys)}"
    app.bodies[key] = list(parts)
    if headers:
        app.headers[key] = headers
    return f"/raw/{key}"


def assert_pooled(server: Server, client: httpx2.Client | httpx2.AsyncClient) -> None:
    """The body was read to its end: one idle connection, kept open on both sides."""
    app, srv = server
    assert app.wait_for_streams(0) == 0
    conns = pool_connections(client)
    assert len(conns) == 1 and conns[0].is_idle(), conns
    assert srv.open_connections == 1


def assert_dropped(server: Server, client: httpx2.Client | httpx2.AsyncClient) -> None:
    """The stream ended early: the connection is closed on both sides, nothing pooled."""
    app, srv = server
    assert app.wait_for_streams(0) == 0
    assert pool_connections(client) == []
    assert srv.wait_for_connections(0) == 0


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run ``levante ARGS`` in this process (``levante.cli.main``) with no MISTRAL_* set;
    returns (exit code, stdout, stderr). Much faster than a subprocess, which tests of the
    process itself (signals, pipes, encodings, startup) still need."""
    from levante.cli import main

    for name in ("MISTRAL_API_KEY", "MISTRAL_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def open_streams(server: Any, timeout: float = 5.0) -> int:
    """The streams a dev server (``EmbeddedServer``) still has open, once its bookkeeping
    has caught up with what the client saw (it counts a stream closed a moment later)."""
    deadline = time.monotonic() + timeout
    while (count := server.stats()["open"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return int(count)


@asynccontextmanager
async def async_client(server: Server, **kwargs: Any) -> AsyncIterator[httpx2.AsyncClient]:
    """An async client of ``server`` (the ``sse_server`` fixture), from a quiet server."""
    assert server[1].wait_for_connections(0) == 0
    transport = liveserver.async_transport()  # see the body_reader fixture
    async with httpx2.AsyncClient(
        base_url=server[1].url, timeout=10, transport=transport, **kwargs
    ) as client:
        yield client


async def wait_until_reading(stream: Any) -> None:
    """Wait until another task's ``__anext__`` is blocked in a read of ``stream``."""
    with anyio.fail_after(5):
        while not stream._reading:  # noqa: ASYNC110 - polling private state on purpose
            await anyio.sleep(0.005)


# -- driving the sans-IO stream core (test_streaming_core*.py) ------------------------------


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_core(end: EndRule | None = None, decode: Any = loads, **kwargs: Any) -> StreamCore[Any]:
    """A core ending at ``[DONE]`` unless told otherwise, decoding JSON."""
    return StreamCore(decode, end=end or EndRule.at_sentinel(), **kwargs)


@dataclass
class Run:
    """What :func:`run_core` saw: the items, the step that ended it, the core's verdict."""

    items: list[Any]
    step: Step
    failure: BaseException | None
    state: State
    checkpoints: list[int] = field(default_factory=list)


def run_core(core: StreamCore[Any], reads: Sequence[bytes | None]) -> Run:
    """Step ``core`` as a twin would, over ``reads`` (the body ends after the last).

    READ is answered with the next read (None: the end of the body), a CHECKPOINT is
    counted (where it came, in items), items are collected, and the first other step ends
    the run.
    """
    script = iter(reads)
    items: list[Any] = []
    checkpoints: list[int] = []
    while True:
        step = core._step()
        if step is READ:
            data = next(script, None)
            if data is None:
                core._body_ended()
            else:
                core._feed(data)
        elif step is CHECKPOINT:
            checkpoints.append(len(items))
        elif isinstance(step, Step):
            return Run(items, step, core._failure, core._state, checkpoints)
        else:
            items.append(step)
