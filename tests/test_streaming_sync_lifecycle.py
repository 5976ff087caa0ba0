"""EventStream (sync) against a real uvicorn server: closing from anywhere, dropping,
draining after the end marker, timeouts and transport errors.

Every test checks that the connection was released from both sides: the server's open
stream counter (SSEApp) and connection count, and the client's pool.
"""

from __future__ import annotations

import gc
import threading
import time

import httpx2
import pytest

import levante._streaming as streaming
from conftest import Server, assert_dropped, assert_pooled, loads
from levante._streaming import DRAIN_MAX_BYTES, EventStream
from levante.errors import (
    APITimeoutError,
    IncompleteStreamError,
    StreamClosed,
    StreamTimeout,
)
from liveserver import pool_connections, serve_raw_once

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = pytest.mark.usefixtures("body_reader")


# -- lifecycle ----------------------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.parametrize("exit_by", ["break", "exception", "normal-unfinished"])
def test_with_block_exit_releases_the_connection(
    sse_server: Server, sse_client: httpx2.Client, exit_by: str
) -> None:
    with sse_client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
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
        assert not response.is_closed or pool_connections(sse_client) == []
    assert_dropped(sse_server, sse_client)


def test_close_before_iterating_releases_without_reading(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=1&hang=1") as response:
        stream = EventStream(response, loads)
        stream.close()
        stream.close()  # idempotent
        assert stream.closed
        with pytest.raises(StopIteration):
            next(stream)
        assert stream.stats.bytes == 0
    assert_dropped(sse_server, sse_client)


def test_close_inside_the_loop_ends_iteration(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=10&per_write=10") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        seen = []
        for item in stream:
            seen.append(item["i"])
            stream.close()
        assert seen == [0]
    assert_dropped(sse_server, sse_client)


def test_close_from_another_thread_wakes_a_blocked_reader(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
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
    assert_dropped(sse_server, sse_client)


def test_close_from_another_thread_returns_after_the_release(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=0&hang=1&done=0") as response:
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
        assert pool_connections(sse_client) == []
        reader.join(5)
        assert [type(e) for e in errors] == [StreamClosed]
    assert_dropped(sse_server, sse_client)


def test_many_concurrent_closes_are_safe(sse_server: Server, sse_client: httpx2.Client) -> None:
    with sse_client.stream("GET", "/sse?n=1&hang=1&done=0") as response:
        stream = EventStream(response, loads)
        next(stream)
        closers = [threading.Timer(0.1, stream.close) for _ in range(8)]
        for closer in closers:
            closer.start()
        with pytest.raises(StreamClosed):
            next(stream)
        for closer in closers:
            closer.join(5)
    assert_dropped(sse_server, sse_client)


def test_dropped_stream_warns_and_releases(sse_server: Server, sse_client: httpx2.Client) -> None:
    with sse_client.stream("GET", "/sse?n=2&hang=1&done=0") as response:
        stream = EventStream(response, loads)
        next(stream)
        with pytest.warns(ResourceWarning, match="unclosed <EventStream"):
            del stream
            gc.collect()
        assert response.is_closed
    assert_dropped(sse_server, sse_client)


def test_exhausted_stream_does_not_warn_when_dropped(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=2") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        list(stream)
        del stream
        gc.collect()  # warnings are errors in this suite: a warning here fails the test
    assert_pooled(sse_server, sse_client)


def test_stream_that_never_took_the_response_does_not_warn() -> None:
    with pytest.raises(TypeError):
        EventStream("not a response", loads)  # type: ignore[arg-type]
    gc.collect()


# -- drain after the sentinel -------------------------------------------------------------


def test_small_tail_after_sentinel_is_drained_and_the_connection_reused(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=2&tail=4000") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert len(list(stream)) == 2
        assert stream.stats.bytes > 4000
    assert_pooled(sse_server, sse_client)


def test_large_tail_after_sentinel_drops_the_connection(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", f"/sse?n=2&tail={DRAIN_MAX_BYTES * 3}") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert len(list(stream)) == 2
        assert stream.closed
        assert stream.stats.bytes < DRAIN_MAX_BYTES * 3
    assert_dropped(sse_server, sse_client)


def test_body_left_open_after_sentinel_is_dropped_within_the_drain_timeout(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=2&hang=1") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        start = time.monotonic()
        assert len(list(stream)) == 2
        assert time.monotonic() - start < streaming.DRAIN_TIMEOUT + 1
    assert_dropped(sse_server, sse_client)


# -- timeouts -----------------------------------------------------------------------------


def test_idle_timeout_is_not_reset_by_comment_keepalives(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=1&hang=1&done=0&ping=0.05") as response:
        stream = EventStream(response, loads, idle_timeout=0.4)
        assert next(stream) == {"i": 0}
        start = time.monotonic()
        with pytest.raises(StreamTimeout, match="idle_timeout") as info:
            next(stream)
        assert 0.3 < time.monotonic() - start < 3
        assert info.value.events_delivered == 1
        assert stream.stats.bytes > len(b'data: {"i": 0}\n\n')  # pings were read
    assert_dropped(sse_server, sse_client)


def test_first_event_timeout(sse_server: Server, sse_client: httpx2.Client) -> None:
    with sse_client.stream("GET", "/sse?n=1&first_delay=30") as response:
        stream = EventStream(response, loads, first_event_timeout=0.2, idle_timeout=30)
        with pytest.raises(StreamTimeout, match="first_event_timeout"):
            next(stream)
    assert_dropped(sse_server, sse_client)


def test_idle_timeout_applies_to_the_first_event_by_default(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with (
        sse_client.stream("GET", "/sse?n=1&first_delay=30") as response,
        pytest.raises(StreamTimeout),
    ):
        next(EventStream(response, loads, idle_timeout=0.2))
    assert_dropped(sse_server, sse_client)


def test_timeouts_do_not_fire_while_events_flow(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=4&delay=0.05") as response:
        stream = EventStream(
            response, loads, sentinel="[DONE]", first_event_timeout=1, idle_timeout=0.2
        )
        items = []
        for item in stream:
            items.append(item)
            time.sleep(0.3)  # the consumer's own time does not count
        assert len(items) == 4
    assert_pooled(sse_server, sse_client)


def test_watchdog_moves_its_deadline_while_events_keep_coming(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    # Each wait is shorter than the timeout, but the whole stream is much longer: the
    # watchdog wakes at stale deadlines during later reads and must re-arm, not fire.
    with sse_client.stream("GET", "/sse?n=6&delay=0.12") as response:
        stream = EventStream(response, loads, sentinel="[DONE]", idle_timeout=0.3)
        assert [item["i"] for item in stream] == list(range(6))
        assert stream.stats.elapsed > 0.5
    assert_pooled(sse_server, sse_client)


def test_timeouts_share_one_watchdog_thread(sse_server: Server, sse_client: httpx2.Client) -> None:
    before = threading.active_count()
    for _ in range(10):
        with sse_client.stream("GET", "/sse?n=20") as response:
            list(EventStream(response, loads, sentinel="[DONE]", idle_timeout=5))
    assert threading.active_count() <= before + 1


def test_httpx_read_timeout_becomes_api_timeout_error(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=1&hang=1&done=0", timeout=0.3) as response:
        stream = EventStream(response, loads)
        next(stream)
        with pytest.raises(APITimeoutError) as info:
            next(stream)
        assert isinstance(info.value.__cause__, httpx2.ReadTimeout)
        assert stream.closed
    assert_dropped(sse_server, sse_client)


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
