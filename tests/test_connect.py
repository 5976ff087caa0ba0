"""connect_sse / aconnect_sse against real servers: headers, refusals, argument checks
before I/O, and reconnection (random and mid-event drops, Last-Event-ID seen by the
server, retry:, the attempt bound, 204, HTTP errors, close() and cancellation during a
backoff, nothing left open)."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest

import levante
from conftest import open_streams
from levante import Reconnect
from levante.devserver import EmbeddedServer
from levante.errors import (
    APIConnectionError,
    IncompleteStreamError,
    InternalServerError,
    NotAnEventStream,
    NotFoundError,
    ReconnectError,
    StreamClosed,
)
from levante.sse import ServerSentEvent, SSEDecoder
from liveserver import live_server, pool_connections, serve_raw_once

FAST = Reconnect(initial_delay=0.001, max_delay=0.01)
RANDOM = {"x-levante-fault": "disconnect-random=3-40"}


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


def ids(events: list[ServerSentEvent]) -> list[str]:
    return [event.id for event in events]


def expected(n: int) -> list[str]:
    return [str(i) for i in range(1, n + 1)]


class MidEventCounter:
    """Counts the decoder resets that discarded part of an event (test instrumentation)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = SSEDecoder.end

        def end(decoder: SSEDecoder) -> list[ServerSentEvent]:
            events = original(decoder)
            self.count += decoder.truncated
            return events

        monkeypatch.setattr(SSEDecoder, "end", end)


def report(label: str, events: list[ServerSentEvent], drops: int, mid: int) -> None:
    duplicates = len(events) - len(set(ids(events)))
    print(f"{label}: drops={drops} (mid-event {mid}) events={len(events)} duplicates={duplicates}")


# -- a scripted server: each request gets the next answer; request headers are recorded ---


class Script:
    """An ASGI app answering request ``k`` with ``answers[k]``: ``(status, headers,
    parts, cut)``; ``cut`` drops the connection after the parts (no end of body)."""

    def __init__(self, *answers: tuple[int, dict[str, str], list[bytes], bool]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.requests.append({k.decode(): v.decode() for k, v in scope["headers"]})
        status, headers, parts, cut = self.answers[min(len(self.requests), len(self.answers)) - 1]
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        if not cut:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


SSE = {"content-type": "text/event-stream"}


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


@pytest.fixture
def quiet() -> Iterator[None]:
    """Hide uvicorn's complaint about the responses a Script cuts on purpose."""
    logger = logging.getLogger("uvicorn.error")
    quiet = _Quiet()
    logger.addFilter(quiet)
    yield
    logger.removeFilter(quiet)


# -- connect_sse without reconnection -----------------------------------------------------


def test_sends_the_sse_headers_and_yields_raw_events(quiet: None) -> None:
    body = b'event: error\ndata: {"error": "not an error here"}\n\nid: 7\ndata: x\n\n'
    script = Script((200, {"content-type": "text/event-stream; charset=utf-8"}, [body], False))
    with live_server(script) as srv, httpx2.Client() as client:
        with levante.connect_sse(
            client, "GET", srv.url, headers={"accept": "application/json", "x-a": "1"}
        ) as stream:
            events = list(stream)
        assert isinstance(stream, levante.EventStream)
        assert pool_connections(client)[0].is_idle()
    # raw: an error-shaped event is data like any other for a generic stream
    assert [(e.event, e.id) for e in events] == [("error", ""), ("message", "7")]
    sent = script.requests[0]
    assert sent["accept"] == "text/event-stream" and sent["cache-control"] == "no-store"
    assert sent["x-a"] == "1" and "last-event-id" not in sent


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/v1/models", NotAnEventStream, ("200", "application/json")),
        ("/no/such/path", NotFoundError, ("404", "application/json")),
    ],
)
def test_a_response_that_is_not_an_event_stream_is_refused(
    server: EmbeddedServer, path: str, error: type[Exception], words: tuple[str, ...]
) -> None:
    with httpx2.Client(base_url=server.url) as client:
        with pytest.raises(error) as caught:
            levante.connect_sse(client, "GET", path, reconnect=True)
        assert all(word in str(caught.value) for word in words), str(caught.value)
        assert "text/event-stream" in str(caught.value)
        # the body was read with a bound and the connection went back to the pool
        assert [c.is_idle() for c in pool_connections(client)] == [True]


def test_bad_arguments_fail_before_any_request(server: EmbeddedServer) -> None:
    with httpx2.Client(base_url=server.url) as client:
        bad: list[dict[str, Any]] = [
            {"reconnect": 3},
            {"reconnect": "yes"},
            {"idle_timeout": -1},
            {"first_event_timeout": float("nan")},
            {"max_event_size": 0},
            {"end": "[DONE]"},
            {"no_such_argument": 1},
        ]
        for kwargs in bad:
            with pytest.raises((TypeError, ValueError)):
                levante.connect_sse(client, "GET", "/_levante/events", **kwargs)
        with pytest.raises(TypeError, match=r"httpx2\.Client"):
            levante.connect_sse(httpx2.AsyncClient(), "GET", server.url)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="AsyncClient"):
            levante.aconnect_sse(client, "GET", server.url)  # type: ignore[arg-type]
    assert server.resumes() == []  # no request reached the server


def test_204_is_an_empty_stream(server: EmbeddedServer) -> None:
    with httpx2.Client(base_url=server.url) as client:
        headers = {"last-event-id": "5"}
        with levante.connect_sse(client, "GET", "/_levante/events?n=5", headers=headers) as s:
            assert list(s) == []
    assert s.closed


def test_without_reconnect_a_drop_raises(server: EmbeddedServer) -> None:
    fault = {"x-levante-fault": "disconnect-after=3"}
    with httpx2.Client(base_url=server.url) as client:
        stream = levante.connect_sse(client, "GET", "/_levante/events", headers=fault)
        got = []
        with pytest.raises(IncompleteStreamError) as caught, stream:
            got.extend(stream)
    assert ids(got) == ["1", "2", "3"] and not isinstance(caught.value, ReconnectError)
    assert len(server.resumes()) == 1


def test_an_unreachable_server_is_a_connection_error() -> None:
    with httpx2.Client() as client, pytest.raises(APIConnectionError):
        levante.connect_sse(client, "GET", "http://127.0.0.1:9/events", reconnect=True)


# -- reconnection: the bar and the drops --------------------------------------------------


@pytest.mark.timeout(30)
def test_random_drops_every_event_once_in_order(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mid = MidEventCounter(monkeypatch)
    n = 2200  # about 100 drops at one every 3 to 40 events
    with httpx2.Client(base_url=server.url) as client:
        url = f"/_levante/events?n={n}&retry=0"
        with levante.connect_sse(client, "GET", url, headers=RANDOM, reconnect=FAST) as stream:
            events = list(stream)
        drops = stream.stats.reconnections
        report("sync", events, drops, mid.count)
        assert ids(events) == expected(n)  # complete, each once, in order
        assert drops >= 100 and mid.count >= 30
        assert [c.is_idle() for c in pool_connections(client)] == [True]
    # the server saw Last-Event-ID = the last whole event of each cut connection
    cursors = [r["last_event_id"] for r in server.resumes()]
    assert cursors[0] is None and len(cursors) == drops + 1
    assert all(int(a or 0) < int(b) for a, b in itertools.pairwise(cursors))
    assert open_streams(server) == 0


def test_the_bar_400_events_dropped_every_3_to_40(server: EmbeddedServer) -> None:
    with httpx2.Client(base_url=server.url) as client:
        url = "/_levante/events?n=400&retry=0"
        with levante.connect_sse(client, "GET", url, headers=RANDOM, reconnect=True) as stream:
            events = list(stream)
    report("bar", events, stream.stats.reconnections, -1)
    assert ids(events) == expected(400) and stream.stats.reconnections >= 400 // 40


@pytest.mark.anyio
async def test_random_drops_every_event_once_in_order_async(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    mid = MidEventCounter(monkeypatch)
    n = 2200
    with anyio.fail_after(30):
        async with httpx2.AsyncClient(base_url=server.url) as client:
            url = f"/_levante/events?n={n}&retry=0"
            async with levante.aconnect_sse(
                client, "GET", url, headers=RANDOM, reconnect=FAST
            ) as stream:
                events = [event async for event in stream]
            assert isinstance(stream, levante.EventStreamAsync)
    drops = stream.stats.reconnections
    report(anyio_backend, events, drops, mid.count)
    assert ids(events) == expected(n)
    assert drops >= 100 and mid.count >= 30
    assert len(server.resumes()) == drops + 1 and open_streams(server) == 0


@pytest.mark.parametrize("fault", ["disconnect-mid-event=2", "disconnect-after=2"])
def test_the_partial_event_is_discarded(
    server: EmbeddedServer, fault: str, body_reader: str
) -> None:
    with httpx2.Client(base_url=server.url) as client:
        headers = {"x-levante-fault": fault}
        url = "/_levante/events?n=9&retry=0"
        with levante.connect_sse(client, "GET", url, headers=headers, reconnect=FAST) as s:
            events = list(s)
    assert ids(events) == expected(9)
    assert [json.loads(e.data)["seq"] for e in events] == list(range(1, 10))
    assert [r["last_event_id"] for r in server.resumes()] == [None, "2", "4", "6", "8"]


def test_last_event_id_is_sent_only_once_an_id_was_seen(quiet: None) -> None:
    script = Script(
        (200, SSE, [b"data: no id\n\n"], True),
        (200, SSE, [b"id: 41\ndata: a\n\nid: 42\ndata: b\n\nid: 43\nda"], True),
        (200, SSE, [b"id: 44\ndata: c\n\n"], False),
    )
    with (
        live_server(script) as srv,
        httpx2.Client() as client,
        levante.connect_sse(client, "GET", srv.url, reconnect=FAST) as stream,
    ):
        assert [e.data for e in stream] == ["no id", "a", "b", "c"]
    seen = [request.get("last-event-id") for request in script.requests]
    assert seen == [None, None, "42"]
    assert stream.stats.reconnections == 2


def test_the_servers_retry_is_honoured(server: EmbeddedServer) -> None:
    fault = {"x-levante-fault": "disconnect-after=1"}
    policy = Reconnect(initial_delay=0, jitter=0)  # without retry: there would be no wait
    with httpx2.Client(base_url=server.url) as client:
        for retry, low, high in ((300, 0.6, 3.0), (0, 0.0, 0.25)):
            url = f"/_levante/events?n=3&retry={retry}"
            started = time.monotonic()
            with levante.connect_sse(client, "GET", url, headers=fault, reconnect=policy) as s:
                assert ids(list(s)) == expected(3)
                assert s.retry == retry
            took = time.monotonic() - started
            # two drops, each followed by a wait of retry ms
            assert low <= took < high, (retry, took)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("attempts", [1, 3])
def test_gives_up_after_max_attempts_when_the_server_is_gone(attempts: int) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    event = b"id: 1\ndata: only\n\n"
    url, thread = serve_raw_once(head + b"%x\r\n%s\r\n" % (len(event), event))
    policy = Reconnect(max_attempts=attempts, initial_delay=0.01, max_delay=0.05)
    started = time.monotonic()
    with httpx2.Client() as client:
        stream = levante.connect_sse(client, "GET", url, reconnect=policy)
        got = []
        with pytest.raises(ReconnectError) as caught, stream:
            got.extend(stream)
        assert pool_connections(client) == []
    thread.join(5)
    assert ids(got) == ["1"]
    assert caught.value.attempts == attempts
    assert f"after {attempts} attempt" in str(caught.value)
    assert isinstance(caught.value.__cause__, APIConnectionError)
    assert isinstance(caught.value.__cause__.__cause__, httpx2.TransportError)
    assert caught.value.events_delivered == 1
    assert time.monotonic() - started < 5


@pytest.mark.anyio
async def test_gives_up_after_max_attempts_when_the_server_is_gone_async() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    event = b"id: 1\ndata: only\n\n"
    url, thread = serve_raw_once(head + b"%x\r\n%s\r\n" % (len(event), event))
    policy = Reconnect(max_attempts=2, initial_delay=0.01, max_delay=0.05)
    got: list[ServerSentEvent] = []
    with anyio.fail_after(5):
        async with httpx2.AsyncClient() as client:
            stream = await levante.aconnect_sse(client, "GET", url, reconnect=policy)
            with pytest.raises(ReconnectError, match="after 2 attempts") as caught:
                async with stream:
                    async for event in stream:
                        got.append(event)  # noqa: PERF401 (what arrived must outlive the error)
            assert pool_connections(client) == []
    thread.join(5)
    assert ids(got) == ["1"] and caught.value.attempts == 2 and stream.closed
    assert isinstance(caught.value.__cause__, APIConnectionError)


def test_connections_without_events_count_as_attempts(server: EmbeddedServer) -> None:
    fault = {"x-levante-fault": "disconnect-after=0"}
    policy = Reconnect(max_attempts=2, initial_delay=0.001)
    with httpx2.Client(base_url=server.url) as client:
        stream = levante.connect_sse(
            client, "GET", "/_levante/events", headers=fault, reconnect=policy
        )
        with pytest.raises(ReconnectError, match="after 2 attempts") as caught, stream:
            list(stream)
    assert isinstance(caught.value.__cause__, IncompleteStreamError)
    assert len(server.resumes()) == 3  # the first request, then two attempts


def test_progress_resets_the_attempt_count(server: EmbeddedServer) -> None:
    fault = {"x-levante-fault": "disconnect-after=1"}
    policy = Reconnect(max_attempts=1, initial_delay=0.001)
    with httpx2.Client(base_url=server.url) as client:
        url = "/_levante/events?n=30&retry=0"
        with levante.connect_sse(client, "GET", url, headers=fault, reconnect=policy) as s:
            assert ids(list(s)) == expected(30)
    assert s.stats.reconnections == 29


def test_204_stops_reconnecting(server: EmbeddedServer) -> None:
    # the cut falls after the last event: the next request resumes at the end and gets 204
    fault = {"x-levante-fault": "disconnect-after=5"}
    with httpx2.Client(base_url=server.url) as client:
        url = "/_levante/events?n=5&retry=0"
        with levante.connect_sse(client, "GET", url, headers=fault, reconnect=FAST) as s:
            assert ids(list(s)) == expected(5)
        assert [c.is_idle() for c in pool_connections(client)] == [True]
    assert [r["last_event_id"] for r in server.resumes()] == [None, "5"]
    assert s.stats.reconnections == 0


def test_an_http_error_stops_reconnecting(quiet: None) -> None:
    error = {"content-type": "application/json"}
    script = Script(
        (200, SSE, [b"id: 1\ndata: a\n\n"], True),
        (503, error, [b'{"message": "overloaded"}'], False),
        (200, SSE, [b"id: 2\ndata: never\n\n"], False),
    )
    with live_server(script) as srv, httpx2.Client() as client:
        stream = levante.connect_sse(client, "GET", srv.url, reconnect=FAST)
        got = []
        with pytest.raises(InternalServerError, match="overloaded") as caught, stream:
            got.extend(stream)
    assert [e.data for e in got] == ["a"] and len(script.requests) == 2
    assert "503" in str(caught.value) and "application/json" in str(caught.value)


def test_on_end_follows_eventsource_and_reconnects_after_a_clean_end(quiet: None) -> None:
    pages = [(200, SSE, [f"id: {i}\ndata: {i}\n\n".encode()], False) for i in (1, 2, 3)]
    script = Script(*pages, (204, {}, [], False))
    with live_server(script) as srv, httpx2.Client() as client:
        with levante.connect_sse(client, "GET", srv.url, reconnect=True) as plain:
            assert ids(list(plain)) == ["1"]  # by default a clean end is the end
        on_end = Reconnect(initial_delay=0.001, on_end=True)
        with levante.connect_sse(client, "GET", srv.url, reconnect=on_end) as stream:
            assert ids(list(stream)) == ["2", "3"]
    assert [r.get("last-event-id") for r in script.requests] == [None, None, "2", "3"]


# -- close() and cancellation during a backoff --------------------------------------------

SLOW = {"x-levante-fault": "disconnect-after=2"}
LONG_RETRY = "/_levante/events?n=10&retry=60000"  # the server asks for a 60 s wait


@pytest.mark.timeout(10)
def test_close_from_another_thread_ends_a_backoff_at_once(server: EmbeddedServer) -> None:
    with httpx2.Client(base_url=server.url) as client:
        stream = levante.connect_sse(client, "GET", LONG_RETRY, headers=SLOW, reconnect=True)
        assert ids([next(stream), next(stream)]) == ["1", "2"]
        outcome: list[BaseException] = []

        def consume() -> None:
            try:
                next(stream)
            except BaseException as exc:
                outcome.append(exc)

        reader = threading.Thread(target=consume)
        reader.start()
        time.sleep(0.3)  # the reader is in its 60 s backoff now
        assert reader.is_alive()
        started = time.monotonic()
        stream.close()
        reader.join(5)
        assert time.monotonic() - started < 1
        assert len(outcome) == 1 and isinstance(outcome[0], StreamClosed)
        assert stream.closed and pool_connections(client) == []
        with pytest.raises(StopIteration):
            next(stream)
    assert len(server.resumes()) == 1 and open_streams(server) == 0


@pytest.mark.anyio
async def test_aclose_from_another_task_ends_a_backoff_at_once(server: EmbeddedServer) -> None:
    async with httpx2.AsyncClient(base_url=server.url) as client:
        stream = await levante.aconnect_sse(client, "GET", LONG_RETRY, headers=SLOW, reconnect=True)
        outcome: list[BaseException] = []

        async def consume() -> None:
            try:
                async for _ in stream:
                    pass
            except BaseException as exc:
                outcome.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await anyio.sleep(0.3)
                started = anyio.current_time()
                await stream.aclose()
                assert anyio.current_time() - started < 1
        assert len(outcome) == 1 and isinstance(outcome[0], StreamClosed)
        assert stream.closed and pool_connections(client) == []
    assert len(server.resumes()) == 1 and open_streams(server) == 0


@pytest.mark.anyio
async def test_cancellation_ends_a_backoff_at_once(server: EmbeddedServer) -> None:
    async with httpx2.AsyncClient(base_url=server.url) as client:
        got = []
        with anyio.fail_after(5):
            async with levante.aconnect_sse(
                client, "GET", LONG_RETRY, headers=SLOW, reconnect=True
            ) as stream:
                with anyio.move_on_after(0.3) as scope:
                    # a loop, not a comprehension: what arrived must outlive the cancellation
                    async for event in stream:
                        got.append(event)  # noqa: PERF401
                assert scope.cancelled_caught
                assert stream.closed  # released before the cancellation left the stream
        assert ids(got) == ["1", "2"] and pool_connections(client) == []
    assert len(server.resumes()) == 1 and open_streams(server) == 0
