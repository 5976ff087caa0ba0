"""EventStream (sync) against a real uvicorn server: decoding, guards, lifecycle, timeouts.

Every test checks that the connection was released from both sides: the server's open
stream counter (SSEApp) and connection count, and the client's pool.
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

import levante._streaming as streaming
from conftest import Server, assert_dropped, assert_pooled, loads, raw
from levante._streaming import DRAIN_MAX_BYTES, EventStream, StreamStats
from levante.errors import (
    APITimeoutError,
    IncompleteStreamError,
    StreamAPIError,
    StreamClosed,
    StreamDecodeError,
    StreamEventTooLarge,
    StreamTimeout,
)
from levante.sse import EventTooLarge, ServerSentEvent
from liveserver import pool_connections, serve_raw_once

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = pytest.mark.usefixtures("body_reader")


@pytest.fixture
def client(sse_server: Server) -> Iterator[httpx2.Client]:
    srv = sse_server[1]
    # Every test starts from a quiet server, so counts below are this test's own.
    assert srv.wait_for_connections(0) == 0
    with httpx2.Client(base_url=srv.url, timeout=10) as client:
        yield client


# -- decoding and the normal end ----------------------------------------------------------


@pytest.mark.parametrize("per_write", [1, 2, 64])
def test_yields_decoded_events_then_returns_the_connection(
    sse_server: Server, client: httpx2.Client, per_write: int
) -> None:
    with client.stream("GET", f"/sse?n=100&per_write={per_write}") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert [item["i"] for item in stream] == list(range(100))
        assert stream.closed
        assert stream.stats.events == 100
        with pytest.raises(StopIteration):
            next(stream)
    assert_pooled(sse_server, client)


def test_next_request_reuses_the_connection(sse_server: Server, client: httpx2.Client) -> None:
    for _ in range(3):
        with client.stream("GET", "/sse?n=3") as response:
            assert len(list(EventStream(response, loads, sentinel="[DONE]"))) == 3
    assert_pooled(sse_server, client)
    conn = pool_connections(client)[0]
    assert "Request Count: 3" in repr(conn)


def test_the_stream_owns_the_body_once_it_reads(sse_server: Server, client: httpx2.Client) -> None:
    # levante reads the transport's stream directly; a second reader must still be refused
    with client.stream("GET", "/sse?n=3") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == {"i": 0}
        with pytest.raises(httpx2.StreamConsumed):
            next(response.iter_bytes())
        assert [item["i"] for item in stream] == [1, 2]
    assert_pooled(sse_server, client)


def test_without_sentinel_the_end_of_body_ends_the_stream(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=4&done=0") as response:
        assert [item["i"] for item in EventStream(response, loads)] == [0, 1, 2, 3]
    assert_pooled(sse_server, client)


def test_sentinel_is_not_yielded_and_events_after_it_are_dropped(
    sse_server: Server, client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\ndata: [DONE]\n\ndata: 2\n\n")
    with client.stream("GET", path) as response:
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [1]
    assert_pooled(sse_server, client)


def test_terminal_event_is_yielded_and_ends_the_stream(
    sse_server: Server, client: httpx2.Client
) -> None:
    path = raw(
        sse_server[0],
        b"event: delta\ndata: 1\n\n",
        b"event: done\ndata: 2\n\nevent: delta\ndata: 3\n\n",
        b"event: delta\ndata: 4\n\n",
    )
    with client.stream("GET", path) as response:
        stream = EventStream(response, loads, terminal_events={"done", "failed"})
        assert list(stream) == [1, 2]
        assert stream.closed
    assert_pooled(sse_server, client)


def test_decode_receives_the_raw_event(sse_server: Server, client: httpx2.Client) -> None:
    path = raw(sse_server[0], b"event: greet\nid: 7\ndata: a\ndata: b\n\n: comment\n\n")
    with client.stream("GET", path) as response:
        stream = EventStream(response, lambda event: event)
        assert list(stream) == [ServerSentEvent("greet", "a\nb", "7", None)]
        assert stream.last_event_id == "7"


def test_a_byte_order_mark_and_crlf_are_handled(sse_server: Server, client: httpx2.Client) -> None:
    path = raw(sse_server[0], b"\xef\xbb", b"\xbfdata: 1\r\n\r", b"\ndata: [DONE]\r\n\r\n")
    with client.stream("GET", path) as response:
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [1]
    assert_pooled(sse_server, client)


def test_gzip_content_encoding_is_decoded(sse_server: Server, client: httpx2.Client) -> None:
    import gzip

    body = gzip.compress(b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n")
    app = sse_server[0]
    key = str(len(app.bodies))
    app.bodies[key] = [body[:10], body[10:]]
    app.headers[key] = {"content-encoding": "gzip"}
    with client.stream("GET", f"/raw/{key}") as response:
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [1, 2]


def test_an_already_read_response_is_replayed(sse_server: Server, client: httpx2.Client) -> None:
    response = client.get("/sse?n=3")  # not streamed: the body is in memory, closed
    stream = EventStream(response, loads, sentinel="[DONE]")
    assert [item["i"] for item in stream] == [0, 1, 2]
    assert stream.closed
    assert_pooled(sse_server, client)


# -- correctness guards -------------------------------------------------------------------


def test_body_ending_before_the_sentinel_raises_incomplete(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=3&done=0") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == {"i": 0}
        assert next(stream) == {"i": 1}
        assert next(stream) == {"i": 2}
        with pytest.raises(IncompleteStreamError, match=r"before the '\[DONE\]'") as info:
            next(stream)
        assert info.value.events_delivered == 3
        assert stream.closed
        with pytest.raises(StopIteration):
            next(stream)
    # The body itself was complete: the connection is fine to reuse.
    assert_pooled(sse_server, client)


def test_body_ending_before_a_terminal_event_raises_incomplete(
    sse_server: Server, client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"event: delta\ndata: 1\n\n")
    with client.stream("GET", path) as response:
        stream = EventStream(response, loads, terminal_events=["done"])
        assert next(stream) == 1
        with pytest.raises(IncompleteStreamError, match="terminal event") as info:
            next(stream)
        assert info.value.events_delivered == 1


def test_body_ending_mid_event_raises_incomplete_even_without_sentinel(
    sse_server: Server, client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\n", b'data: {"half": ')
    with client.stream("GET", path) as response:
        stream = EventStream(response, lambda event: event.data)
        assert next(stream) == "1"
        with pytest.raises(IncompleteStreamError, match="middle of an event") as info:
            next(stream)
        assert info.value.events_delivered == 1


def test_trailing_line_ends_are_not_a_truncation(sse_server: Server, client: httpx2.Client) -> None:
    path = raw(sse_server[0], b"data: 1\n\n\n")
    with client.stream("GET", path) as response:
        assert list(EventStream(response, loads)) == [1]


@pytest.mark.parametrize(
    ("block", "payload"),
    [
        (b'event: error\ndata: {"message": "overloaded"}\n\n', {"message": "overloaded"}),
        (b"event: error\ndata: not json\n\n", "not json"),
        (
            b'data: {"error": {"message": "overloaded", "code": 503}}\n\n',
            {"error": {"message": "overloaded", "code": 503}},
        ),
        (
            b'data: {"object": "error", "message": "bad", "type": "invalid"}\n\n',
            {"object": "error", "message": "bad", "type": "invalid"},
        ),
    ],
)
def test_in_stream_error_raises_stream_api_error_after_earlier_events(
    sse_server: Server, client: httpx2.Client, block: bytes, payload: Any
) -> None:
    path = raw(sse_server[0], b"data: 1\n\n" + block + b"data: 2\n\ndata: [DONE]\n\n")
    with client.stream("GET", path) as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == 1
        with pytest.raises(StreamAPIError) as info:
            next(stream)
        assert info.value.payload == payload
        assert isinstance(info.value.event, ServerSentEvent)
        assert info.value.events_delivered == 1
        assert "error in the stream" in str(info.value)
        assert stream.closed
    assert_dropped(sse_server, client)


def test_error_message_quotes_the_server(sse_server: Server, client: httpx2.Client) -> None:
    path = raw(sse_server[0], b'data: {"error": {"message": "model overloaded"}}\n\n')
    with (
        client.stream("GET", path) as response,
        pytest.raises(StreamAPIError, match="model overloaded"),
    ):
        list(EventStream(response, loads))


@pytest.mark.parametrize(
    "data",
    [
        '{"error": null, "i": 1}',
        '{"content": "error"}',
        '{"content": "the \\"error\\" word"}',
        '{"object": "chat.completion.chunk", "finish_reason": "error"}',
        '["error"]',
    ],
)
def test_error_lookalikes_are_delivered(
    sse_server: Server, client: httpx2.Client, data: str
) -> None:
    path = raw(sse_server[0], f"data: {data}\n\n".encode())
    with client.stream("GET", path) as response:
        assert list(EventStream(response, loads)) == [json.loads(data)]


def test_normal_events_are_parsed_only_by_decode(
    sse_server: Server, client: httpx2.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = json.loads

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    with client.stream("GET", "/sse?n=50") as response:
        # decode parses with json.loads too: exactly one parse per event in all.
        assert len(list(EventStream(response, loads, sentinel="[DONE]"))) == 50
    assert len(calls) == 50


def test_decode_failure_raises_stream_decode_error_with_the_event(
    sse_server: Server, client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\ndata: {oops\n\ndata: 3\n\n")
    with client.stream("GET", path) as response:
        stream = EventStream(response, loads)
        assert next(stream) == 1
        with pytest.raises(StreamDecodeError) as info:
            next(stream)
        assert info.value.event.data == "{oops"
        assert isinstance(info.value.__cause__, json.JSONDecodeError)
        assert info.value.events_delivered == 1
        assert stream.closed
    assert_dropped(sse_server, client)


def test_oversized_event_raises_after_the_events_of_the_same_read(
    sse_server: Server, client: httpx2.Client
) -> None:
    # The decoder drops the oversized block and hands over every other event completed
    # by the same read; the stream delivers them all, then raises.
    big = b"data: " + b"x" * 200 + b"\n\n"
    path = raw(sse_server[0], b"data: 1\n\ndata: 2\n\n" + big + b"data: 3\n\n", b"data: 4\n\n")
    with client.stream("GET", path) as response:
        stream = EventStream(response, loads, max_event_size=100)
        assert [next(stream), next(stream), next(stream)] == [1, 2, 3]
        with pytest.raises(StreamEventTooLarge) as info:
            next(stream)
        assert info.value.events_delivered == 3
        assert isinstance(info.value.__cause__, EventTooLarge)
        assert stream.closed
    assert_dropped(sse_server, client)


# -- observability ------------------------------------------------------------------------


def test_stats_measure_first_event_gaps_and_bytes(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=3&first_delay=0.15&delay=0.1") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert stream.stats.time_to_first_event is None
        assert len(list(stream)) == 3
        stats = stream.stats
    assert isinstance(stats, StreamStats)
    assert stats.events == 3
    assert stats.time_to_first_event is not None and stats.time_to_first_event >= 0.1
    assert 0.05 <= stats.longest_gap <= stats.elapsed
    assert stats.elapsed >= stats.time_to_first_event + 0.15
    assert stats.bytes == 3 * len(b'data: {"i": 0}\n\n') + len(b"data: [DONE]\n\n")
    assert stream.stats.elapsed == stats.elapsed  # frozen once released


def test_response_and_repr(sse_server: Server, client: httpx2.Client) -> None:
    with (
        client.stream("GET", "/sse?n=1") as response,
        EventStream(response, loads, sentinel="[DONE]") as stream,
    ):
        assert stream.response is response
        assert "open" in repr(stream)
        list(stream)
        assert "closed" in repr(stream) and "events=1" in repr(stream)


# -- lifecycle ----------------------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.parametrize("exit_by", ["break", "exception", "normal-unfinished"])
def test_with_block_exit_releases_the_connection(
    sse_server: Server, client: httpx2.Client, exit_by: str
) -> None:
    with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
        try:
            with EventStream(response, loads, sentinel="[DONE]") as stream:
                for _item in stream:
                    if exit_by == "break":
                        break
                    if exit_by == "exception":
                        raise Boom
                    if exit_by == "normal-unfinished":
                        break
                # Leaving the block normally, without having reached the end.
        except Boom:
            pass
        assert stream.closed
        assert not response.is_closed or pool_connections(client) == []
    assert_dropped(sse_server, client)


def test_close_before_iterating_releases_without_reading(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=1&hang=1") as response:
        stream = EventStream(response, loads)
        stream.close()
        stream.close()  # idempotent
        assert stream.closed
        with pytest.raises(StopIteration):
            next(stream)
        assert stream.stats.bytes == 0
    assert_dropped(sse_server, client)


def test_close_inside_the_loop_ends_iteration(sse_server: Server, client: httpx2.Client) -> None:
    with client.stream("GET", "/sse?n=10&per_write=10") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        seen = []
        for item in stream:
            seen.append(item["i"])
            stream.close()
        assert seen == [0]
    assert_dropped(sse_server, client)


def test_close_from_another_thread_wakes_a_blocked_reader(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == {"i": 0}
        closer = threading.Timer(0.2, stream.close)
        start = time.monotonic()
        closer.start()
        with pytest.raises(StreamClosed) as info:
            next(stream)
        assert time.monotonic() - start < 2
        assert info.value.events_delivered == 1
        closer.join(5)
        assert stream.closed
        with pytest.raises(StopIteration):
            next(stream)
    assert_dropped(sse_server, client)


def test_close_from_another_thread_returns_after_the_release(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=0&hang=1&done=0") as response:
        stream = EventStream(response, loads)
        errors: list[BaseException] = []

        def consume() -> None:
            try:
                next(stream)
            except BaseException as exc:
                errors.append(exc)

        reader = threading.Thread(target=consume)
        reader.start()
        deadline = time.monotonic() + 5
        while not stream._reading and time.monotonic() < deadline:
            time.sleep(0.005)
        stream.close()
        # close() waited for the reader: the pool is already empty.
        assert pool_connections(client) == []
        reader.join(5)
        assert [type(e) for e in errors] == [StreamClosed]
    assert_dropped(sse_server, client)


def test_many_concurrent_closes_are_safe(sse_server: Server, client: httpx2.Client) -> None:
    with client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
        stream = EventStream(response, loads)
        next(stream)
        closers = [threading.Timer(0.1, stream.close) for _ in range(8)]
        for closer in closers:
            closer.start()
        with pytest.raises(StreamClosed):
            next(stream)
        for closer in closers:
            closer.join(5)
    assert_dropped(sse_server, client)


def test_dropped_stream_warns_and_releases(sse_server: Server, client: httpx2.Client) -> None:
    with client.stream("GET", "/sse?n=2&hang=1&done=0") as response:
        stream = EventStream(response, loads)
        next(stream)
        with pytest.warns(ResourceWarning, match="unclosed <EventStream"):
            del stream
            gc.collect()
        assert response.is_closed
    assert_dropped(sse_server, client)


def test_exhausted_stream_does_not_warn_when_dropped(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=2") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        list(stream)
        del stream
        gc.collect()  # warnings are errors in this suite: a warning here fails the test
    assert_pooled(sse_server, client)


def test_stream_that_never_took_the_response_does_not_warn() -> None:
    with pytest.raises(TypeError):
        EventStream("not a response", loads)  # type: ignore[arg-type]
    gc.collect()


# -- drain after the sentinel -------------------------------------------------------------


def test_small_tail_after_sentinel_is_drained_and_the_connection_reused(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=2&tail=4000") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert len(list(stream)) == 2
        assert stream.stats.bytes > 4000
    assert_pooled(sse_server, client)


def test_large_tail_after_sentinel_drops_the_connection(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", f"/sse?n=2&tail={DRAIN_MAX_BYTES * 3}") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert len(list(stream)) == 2
        assert stream.closed
        assert stream.stats.bytes < DRAIN_MAX_BYTES * 3
    assert_dropped(sse_server, client)


def test_body_left_open_after_sentinel_is_dropped_within_the_drain_timeout(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=2&hang=1") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        start = time.monotonic()
        assert len(list(stream)) == 2
        assert time.monotonic() - start < streaming.DRAIN_TIMEOUT + 1
    assert_dropped(sse_server, client)


# -- timeouts -----------------------------------------------------------------------------


def test_idle_timeout_is_not_reset_by_comment_keepalives(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=1&hang=1&done=0&ping=0.05") as response:
        stream = EventStream(response, loads, idle_timeout=0.4)
        assert next(stream) == {"i": 0}
        start = time.monotonic()
        with pytest.raises(StreamTimeout, match="idle_timeout") as info:
            next(stream)
        assert 0.3 < time.monotonic() - start < 3
        assert info.value.events_delivered == 1
        assert stream.stats.bytes > len(b'data: {"i": 0}\n\n')  # pings were read
    assert_dropped(sse_server, client)


def test_first_event_timeout(sse_server: Server, client: httpx2.Client) -> None:
    with client.stream("GET", "/sse?n=1&first_delay=30") as response:
        stream = EventStream(response, loads, first_event_timeout=0.2, idle_timeout=30)
        with pytest.raises(StreamTimeout, match="first_event_timeout"):
            next(stream)
    assert_dropped(sse_server, client)


def test_idle_timeout_applies_to_the_first_event_by_default(
    sse_server: Server, client: httpx2.Client
) -> None:
    with (
        client.stream("GET", "/sse?n=1&first_delay=30") as response,
        pytest.raises(StreamTimeout),
    ):
        next(EventStream(response, loads, idle_timeout=0.2))
    assert_dropped(sse_server, client)


def test_timeouts_do_not_fire_while_events_flow(sse_server: Server, client: httpx2.Client) -> None:
    with client.stream("GET", "/sse?n=4&delay=0.05") as response:
        stream = EventStream(
            response, loads, sentinel="[DONE]", first_event_timeout=1, idle_timeout=0.2
        )
        items = []
        for item in stream:
            items.append(item)
            time.sleep(0.3)  # the consumer's own time does not count
        assert len(items) == 4
    assert_pooled(sse_server, client)


def test_watchdog_moves_its_deadline_while_events_keep_coming(
    sse_server: Server, client: httpx2.Client
) -> None:
    # Each wait is shorter than the timeout, but the whole stream is much longer: the
    # watchdog wakes at stale deadlines during later reads and must re-arm, not fire.
    with client.stream("GET", "/sse?n=6&delay=0.12") as response:
        stream = EventStream(response, loads, sentinel="[DONE]", idle_timeout=0.3)
        assert [item["i"] for item in stream] == list(range(6))
        assert stream.stats.elapsed > 0.5
    assert_pooled(sse_server, client)


def test_timeouts_share_one_watchdog_thread(sse_server: Server, client: httpx2.Client) -> None:
    before = threading.active_count()
    for _ in range(10):
        with client.stream("GET", "/sse?n=20") as response:
            list(EventStream(response, loads, sentinel="[DONE]", idle_timeout=5))
    assert threading.active_count() <= before + 1


def test_httpx_read_timeout_becomes_api_timeout_error(
    sse_server: Server, client: httpx2.Client
) -> None:
    with client.stream("GET", "/sse?n=1&hang=1&done=0", timeout=0.3) as response:
        stream = EventStream(response, loads)
        next(stream)
        with pytest.raises(APITimeoutError) as info:
            next(stream)
        assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
        assert stream.closed
    assert_dropped(sse_server, client)


# -- transport errors ---------------------------------------------------------------------


def test_connection_lost_mid_body_becomes_incomplete_stream_error() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    url, thread = serve_raw_once(head + b"9\r\ndata: 1\n\n\r\n")
    with httpx2.Client(timeout=10) as client, client.stream("GET", url) as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == 1
        with pytest.raises(IncompleteStreamError) as info:
            next(stream)
        assert isinstance(info.value.__cause__, httpx2.RemoteProtocolError)
        assert info.value.events_delivered == 1
        assert stream.closed
        assert pool_connections(client) == []
    thread.join(5)


# -- construction -------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors(sse_server: Server, client: httpx2.Client) -> None:
    with client.stream("GET", "/sse?n=1") as response:
        with pytest.raises(TypeError, match="callable"):
            EventStream(response, "json")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="sentinel"):
            EventStream(response, loads, sentinel=b"[DONE]")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a string"):
            EventStream(response, loads, terminal_events="done")
        with pytest.raises(ValueError, match="idle_timeout"):
            EventStream(response, loads, idle_timeout=0)
        with pytest.raises(ValueError, match="first_event_timeout"):
            EventStream(response, loads, first_event_timeout=float("inf"))
        with pytest.raises(TypeError, match="idle_timeout"):
            EventStream(response, loads, idle_timeout=True)
        with pytest.raises(ValueError, match="max_event_size"):
            EventStream(response, loads, max_event_size=0)
        # The response was never taken: it is still usable.
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [{"i": 0}]


@pytest.mark.anyio
async def test_async_response_is_rejected(sse_server: Server) -> None:
    async with (
        httpx2.AsyncClient(base_url=sse_server[1].url) as client,
        client.stream("GET", "/sse?n=1") as response,
    ):
        with pytest.raises(TypeError, match="EventStreamAsync"):
            EventStream(response, loads)


def test_subclass_can_add_helpers(sse_server: Server, client: httpx2.Client) -> None:
    class Numbers(EventStream[dict[str, int]]):
        def __init__(self, response: httpx2.Response) -> None:
            super().__init__(response, loads, sentinel="[DONE]")
            self.seen: list[int] = []

        def total(self) -> int:
            for item in self:
                self.seen.append(item["i"])
            return sum(self.seen)

    with client.stream("GET", "/sse?n=5") as response, Numbers(response) as numbers:
        assert numbers.total() == 10
        assert numbers.seen == [0, 1, 2, 3, 4]
    assert_pooled(sse_server, client)
