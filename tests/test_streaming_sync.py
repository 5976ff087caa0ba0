"""EventStream (sync) against a real uvicorn server: decoding, guards, stats, construction.

Every test checks that the connection was released from both sides: the server's open
stream counter (SSEApp) and connection count, and the client's pool. Closing, dropping,
draining, timeouts and transport errors: test_streaming_sync_lifecycle.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from conftest import Server, assert_dropped, assert_pooled, loads, raw
from levante._streaming import EventStream, StreamStats
from levante.errors import (
    IncompleteStreamError,
    StreamAPIError,
    StreamDecodeError,
    StreamEventTooLarge,
)
from levante.sse import EventTooLarge, ServerSentEvent
from liveserver import pool_connections

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = pytest.mark.usefixtures("body_reader")


# -- decoding and the normal end ----------------------------------------------------------


@pytest.mark.parametrize("per_write", [1, 2, 64])
def test_yields_decoded_events_then_returns_the_connection(
    sse_server: Server, sse_client: httpx2.Client, per_write: int
) -> None:
    with sse_client.stream("GET", f"/sse?n=100&per_write={per_write}") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert [item["i"] for item in stream] == list(range(100))
        assert stream.closed
        assert stream.stats.events == 100
        with pytest.raises(StopIteration):
            next(stream)
    assert_pooled(sse_server, sse_client)


def test_next_request_reuses_the_connection(sse_server: Server, sse_client: httpx2.Client) -> None:
    for _ in range(3):
        with sse_client.stream("GET", "/sse?n=3") as response:
            assert len(list(EventStream(response, loads, sentinel="[DONE]"))) == 3
    assert_pooled(sse_server, sse_client)
    conn = pool_connections(sse_client)[0]
    assert "Request Count: 3" in repr(conn)


def test_the_stream_owns_the_body_once_it_reads(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    # levante reads the transport's stream directly; a second reader must still be refused
    with sse_client.stream("GET", "/sse?n=3") as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == {"i": 0}
        with pytest.raises(httpx2.StreamConsumed):
            next(response.iter_bytes())
        assert [item["i"] for item in stream] == [1, 2]
    assert_pooled(sse_server, sse_client)


def test_without_sentinel_the_end_of_body_ends_the_stream(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=4&done=0") as response:
        assert [item["i"] for item in EventStream(response, loads)] == [0, 1, 2, 3]
    assert_pooled(sse_server, sse_client)


def test_sentinel_is_not_yielded_and_events_after_it_are_dropped(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\ndata: [DONE]\n\ndata: 2\n\n")
    with sse_client.stream("GET", path) as response:
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [1]
    assert_pooled(sse_server, sse_client)


def test_terminal_event_is_yielded_and_ends_the_stream(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(
        sse_server[0],
        b"event: delta\ndata: 1\n\n",
        b"event: done\ndata: 2\n\nevent: delta\ndata: 3\n\n",
        b"event: delta\ndata: 4\n\n",
    )
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, loads, terminal_events={"done", "failed"})
        assert list(stream) == [1, 2]
        assert stream.closed
    assert_pooled(sse_server, sse_client)


def test_decode_receives_the_raw_event(sse_server: Server, sse_client: httpx2.Client) -> None:
    path = raw(sse_server[0], b"event: greet\nid: 7\ndata: a\ndata: b\n\n: comment\n\n")
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, lambda event: event)
        assert list(stream) == [ServerSentEvent("greet", "a\nb", "7", None)]
        assert stream.last_event_id == "7"


def test_a_byte_order_mark_and_crlf_are_handled(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"\xef\xbb", b"\xbfdata: 1\r\n\r", b"\ndata: [DONE]\r\n\r\n")
    with sse_client.stream("GET", path) as response:
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [1]
    assert_pooled(sse_server, sse_client)


def test_gzip_content_encoding_is_decoded(sse_server: Server, sse_client: httpx2.Client) -> None:
    import gzip

    body = gzip.compress(b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n")
    app = sse_server[0]
    key = str(len(app.bodies))
    app.bodies[key] = [body[:10], body[10:]]
    app.headers[key] = {"content-encoding": "gzip"}
    with sse_client.stream("GET", f"/raw/{key}") as response:
        assert list(EventStream(response, loads, sentinel="[DONE]")) == [1, 2]


def test_an_already_read_response_is_replayed(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    response = sse_client.get("/sse?n=3")  # not streamed: the body is in memory, closed
    stream = EventStream(response, loads, sentinel="[DONE]")
    assert [item["i"] for item in stream] == [0, 1, 2]
    assert stream.closed
    assert_pooled(sse_server, sse_client)


# -- correctness guards -------------------------------------------------------------------


def test_body_ending_before_the_sentinel_raises_incomplete(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=3&done=0") as response:
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
    assert_pooled(sse_server, sse_client)


def test_body_ending_before_a_terminal_event_raises_incomplete(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"event: delta\ndata: 1\n\n")
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, loads, terminal_events=["done"])
        assert next(stream) == 1
        with pytest.raises(IncompleteStreamError, match="terminal event") as info:
            next(stream)
        assert info.value.events_delivered == 1


def test_body_ending_mid_event_raises_incomplete_even_without_sentinel(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\n", b'data: {"half": ')
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, lambda event: event.data)
        assert next(stream) == "1"
        with pytest.raises(IncompleteStreamError, match="middle of an event") as info:
            next(stream)
        assert info.value.events_delivered == 1


def test_trailing_line_ends_are_not_a_truncation(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\n\n")
    with sse_client.stream("GET", path) as response:
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
    sse_server: Server, sse_client: httpx2.Client, block: bytes, payload: Any
) -> None:
    path = raw(sse_server[0], b"data: 1\n\n" + block + b"data: 2\n\ndata: [DONE]\n\n")
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, loads, sentinel="[DONE]")
        assert next(stream) == 1
        with pytest.raises(StreamAPIError) as info:
            next(stream)
        assert info.value.payload == payload
        assert isinstance(info.value.event, ServerSentEvent)
        assert info.value.events_delivered == 1
        assert "error in the stream" in str(info.value)
        assert stream.closed
    assert_dropped(sse_server, sse_client)


def test_error_message_quotes_the_server(sse_server: Server, sse_client: httpx2.Client) -> None:
    path = raw(sse_server[0], b'data: {"error": {"message": "model overloaded"}}\n\n')
    with (
        sse_client.stream("GET", path) as response,
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
    sse_server: Server, sse_client: httpx2.Client, data: str
) -> None:
    path = raw(sse_server[0], f"data: {data}\n\n".encode())
    with sse_client.stream("GET", path) as response:
        assert list(EventStream(response, loads)) == [json.loads(data)]


def test_normal_events_are_parsed_only_by_decode(
    sse_server: Server, sse_client: httpx2.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = json.loads

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    with sse_client.stream("GET", "/sse?n=50") as response:
        # decode parses with json.loads too: exactly one parse per event in all.
        assert len(list(EventStream(response, loads, sentinel="[DONE]"))) == 50
    assert len(calls) == 50


def test_decode_failure_raises_stream_decode_error_with_the_event(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    path = raw(sse_server[0], b"data: 1\n\ndata: {oops\n\ndata: 3\n\n")
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, loads)
        assert next(stream) == 1
        with pytest.raises(StreamDecodeError) as info:
            next(stream)
        assert info.value.event.data == "{oops"
        assert isinstance(info.value.__cause__, json.JSONDecodeError)
        assert info.value.events_delivered == 1
        assert stream.closed
    assert_dropped(sse_server, sse_client)


def test_oversized_event_raises_after_the_events_of_the_same_read(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    # The decoder drops the oversized block and hands over every other event completed
    # by the same read; the stream delivers them all, then raises.
    big = b"data: " + b"x" * 200 + b"\n\n"
    path = raw(sse_server[0], b"data: 1\n\ndata: 2\n\n" + big + b"data: 3\n\n", b"data: 4\n\n")
    with sse_client.stream("GET", path) as response:
        stream = EventStream(response, loads, max_event_size=100)
        assert [next(stream), next(stream), next(stream)] == [1, 2, 3]
        with pytest.raises(StreamEventTooLarge) as info:
            next(stream)
        assert info.value.events_delivered == 3
        assert isinstance(info.value.__cause__, EventTooLarge)
        assert stream.closed
    assert_dropped(sse_server, sse_client)


# -- observability ------------------------------------------------------------------------


def test_stats_measure_first_event_gaps_and_bytes(
    sse_server: Server, sse_client: httpx2.Client
) -> None:
    with sse_client.stream("GET", "/sse?n=3&first_delay=0.15&delay=0.1") as response:
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


def test_response_and_repr(sse_server: Server, sse_client: httpx2.Client) -> None:
    with (
        sse_client.stream("GET", "/sse?n=1") as response,
        EventStream(response, loads, sentinel="[DONE]") as stream,
    ):
        assert stream.response is response
        assert "open" in repr(stream)
        list(stream)
        assert "closed" in repr(stream) and "events=1" in repr(stream)


# -- construction -------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors(sse_server: Server, sse_client: httpx2.Client) -> None:
    with sse_client.stream("GET", "/sse?n=1") as response:
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


def test_subclass_can_add_helpers(sse_server: Server, sse_client: httpx2.Client) -> None:
    class Numbers(EventStream[dict[str, int]]):
        def __init__(self, response: httpx2.Response) -> None:
            super().__init__(response, loads, sentinel="[DONE]")
            self.seen: list[int] = []

        def total(self) -> int:
            for item in self:
                self.seen.append(item["i"])
            return sum(self.seen)

    with sse_client.stream("GET", "/sse?n=5") as response, Numbers(response) as numbers:
        assert numbers.total() == 10
        assert numbers.seen == [0, 1, 2, 3, 4]
    assert_pooled(sse_server, sse_client)
