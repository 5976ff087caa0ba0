"""X-Levante-Fault: the grammar, and every fault observed from the client and in the stats."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from levante.devserver import EmbeddedServer, FaultError, FaultPlan, parse_faults
from levante.sse import ServerSentEvent, SSEDecoder

BODY = {
    "model": "levante-long",
    "messages": [{"role": "user", "content": "go"}],
    "max_tokens": 5,
    "stream": True,
}  # 5 token chunks + the usage chunk + [DONE] = 7 events


@pytest.mark.parametrize(
    ("header", "plan"),
    [
        (None, FaultPlan()),
        ("  ", FaultPlan()),
        ("disconnect-after=3", FaultPlan(disconnect_after=3)),
        ("ERROR-AFTER = 2 ;", FaultPlan(error_after=2)),
        ("status=429; retry-after=1.5", FaultPlan(status=429, retry_after=1.5)),
        ("status=503;times=2", FaultPlan(status=503, times=2)),
        ("malformed-after=0;no-done", FaultPlan(malformed_after=0, no_done=True)),
        ("stall=2.5", FaultPlan(stall=2.5)),
        ("stall-after=4:0.25;byte-writes", FaultPlan(stall_after=(4, 0.25), byte_writes=True)),
        ("stall=1;ping=0.25", FaultPlan(stall=1.0, ping=0.25)),
        ("disconnect-mid-event=2", FaultPlan(disconnect_mid_event=2)),
        ("disconnect-random=3-40", FaultPlan(disconnect_random=(3, 40))),
    ],
)
def test_grammar_accepts(header: str | None, plan: FaultPlan) -> None:
    assert parse_faults(header) == plan


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("explode", "unknown fault 'explode'"),
        ("status=200", "400-599"),
        ("status=abc", "400-599"),
        ("disconnect-after=-1", "whole number"),
        ("disconnect-after", "needs a value"),
        ("stall=nan", "seconds >= 0"),
        ("stall=-1", "seconds >= 0"),
        ("stall-after=3", "N:SECONDS"),
        ("no-done=1", "takes no value"),
        ("retry-after=1", "only make sense with status"),
        ("stall=1;stall=2", "given twice"),
        ("ping=0", "interval > 0"),
        ("disconnect-random=5", "LOW-HIGH"),
        ("disconnect-random=9-2", "LOW <= HIGH"),
        ("disconnect-after=1;disconnect-mid-event=2", "exclude each other"),
    ],
)
def test_grammar_rejects(header: str, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        parse_faults(header)


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def stream(
    client: httpx2.Client,
    fault: str,
    body: dict[str, Any] | None = None,
    path: str = "/v1/chat/completions",
) -> tuple[list[ServerSentEvent], list[float], Exception | None]:
    """Read a faulted stream: (events, arrival time of each, transport error or None)."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    times: list[float] = []
    start = time.monotonic()
    error: Exception | None = None
    with client.stream(
        "POST", path, json=body or BODY, headers={"x-levante-fault": fault}
    ) as response:
        assert response.status_code == 200
        try:
            for data in response.iter_bytes():
                for event in decoder.feed(data):
                    events.append(event)
                    times.append(time.monotonic() - start)
        except httpx2.TransportError as exc:
            error = exc
    return events, times, error


def test_disconnect_after(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, _, error = stream(client, "disconnect-after=3")
    assert len(events) == 3
    assert isinstance(error, httpx2.RemoteProtocolError)
    assert server.fetch_stats() == {"open": 0, "completed": 0, "aborted": 1}


def raw_body(url: str, fault: str) -> bytes:
    """The de-chunked body of a raw faulted request, read to the connection's end."""
    body = raw_request(url, fault, max_tokens=5).split(b"\r\n\r\n", 1)[1]
    data = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        data, body = data + body[:size], body[size + 2 :]
    return data


def _stable(body: bytes) -> bytes:
    """``body`` with its random completion id and clock time blanked, to compare bodies."""
    return re.sub(rb'"(id|created)":("\w+"|\d+)', rb'"\1":0', body)


def test_disconnect_mid_event_cuts_inside_the_next_event(server: EmbeddedServer) -> None:
    whole = _stable(raw_body(server.url, "no-done"))
    cut = _stable(raw_body(server.url, "disconnect-mid-event=2"))
    blocks = whole.split(b"\n\n")
    two = b"".join(block + b"\n\n" for block in blocks[:2])
    assert cut.startswith(two)
    rest = cut[len(two) :]
    assert rest and blocks[2].startswith(rest) and b"\n\n" not in rest
    decoder = SSEDecoder()
    assert len(decoder.feed(cut)) == 2
    assert server.fetch_stats()["aborted"] == 2 - 1  # the no-done stream completed


def test_disconnect_random_draws_per_request_within_bounds(server: EmbeddedServer) -> None:
    cuts = []
    for _ in range(12):
        data = raw_body(server.url, "disconnect-random=1-4")
        whole_events = data.count(b"\n\n")
        assert 1 <= whole_events <= 4
        cuts.append((whole_events, not data.endswith(b"\n\n")))
    assert len(set(cuts)) > 1  # the draw differs between requests
    assert any(mid for _, mid in cuts) and not all(mid for _, mid in cuts)


def test_disconnect_before_a_non_streamed_body(
    server: EmbeddedServer, client: httpx2.Client
) -> None:
    with pytest.raises(httpx2.RemoteProtocolError):
        client.post(
            "/v1/chat/completions",
            json={**BODY, "stream": False},
            headers={"x-levante-fault": "disconnect-after=0"},
        )


def test_error_after(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, _, error = stream(client, "error-after=2")
    assert error is None
    assert len(events) == 3
    assert events[2].event == "error"
    payload = json.loads(events[2].data)
    assert payload["object"] == "error" and payload["message"]
    assert all(e.data != "[DONE]" for e in events)
    assert server.fetch_stats() == {"open": 0, "completed": 0, "aborted": 1}


def test_error_after_in_a_conversation(client: httpx2.Client) -> None:
    body = {"model": "levante-echo", "inputs": "a b c", "stream": True}
    events, _, _ = stream(client, "error-after=1", body, "/v1/conversations")
    assert [e.event for e in events] == [
        "conversation.response.started",
        "conversation.response.error",
    ]
    assert json.loads(events[1].data)["code"] == 3000


def test_malformed_after(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, _, error = stream(client, "malformed-after=1")
    assert error is None
    assert len(events) == 8
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[1].data)
    json.loads(events[0].data)
    json.loads(events[2].data)
    assert events[-1].data == "[DONE]"
    assert server.fetch_stats() == {"open": 0, "completed": 1, "aborted": 0}


def test_no_done(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, _, error = stream(client, "no-done")
    assert error is None
    assert len(events) == 6
    assert json.loads(events[-1].data)["choices"][0]["finish_reason"] == "length"
    body = {"model": "levante-echo", "inputs": "a b", "stream": True}
    conv_events, _, _ = stream(client, "no-done", body, "/v1/conversations")
    assert conv_events[-1].event == "message.output.delta"
    assert server.fetch_stats() == {"open": 0, "completed": 2, "aborted": 0}


def test_stall_delays_the_first_event_not_the_headers(client: httpx2.Client) -> None:
    start = time.monotonic()
    with client.stream(
        "POST", "/v1/chat/completions", json=BODY, headers={"x-levante-fault": "stall=0.5"}
    ) as response:
        headers_at = time.monotonic() - start
        chunks = response.iter_bytes()
        first = next(chunks)
        first_at = time.monotonic() - start
        for _ in chunks:
            pass
    assert first_at - headers_at >= 0.45  # the headers came first, then the pause
    assert first.startswith(b"data: {")


def test_stall_after(client: httpx2.Client) -> None:
    events, times, _ = stream(client, "stall-after=2:0.3")
    assert len(events) == 7
    assert times[2] - times[1] >= 0.29
    assert times[1] - times[0] < times[2] - times[1] - 0.2  # the pause is after event 2


def test_stall_on_a_non_streamed_response(client: httpx2.Client) -> None:
    start = time.monotonic()
    response = client.post(
        "/v1/chat/completions",
        json={**BODY, "stream": False},
        headers={"x-levante-fault": "stall=0.3"},
    )
    assert response.status_code == 200
    assert time.monotonic() - start >= 0.29


@pytest.mark.parametrize("status", [429, 500, 503, 400, 418])
def test_status_with_retry_after(client: httpx2.Client, status: int) -> None:
    response = client.post(
        "/v1/chat/completions",
        json=BODY,
        headers={"x-levante-fault": f"status={status};retry-after=1"},
    )
    assert response.status_code == status
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["object"] == "error"
    assert body["code"] == str(status)
    assert "injected" in body["message"]


def test_status_times_fails_only_the_first_requests(client: httpx2.Client) -> None:
    headers = {"x-levante-fault": "status=429;times=2"}
    statuses = [
        client.post(
            "/v1/chat/completions", json={**BODY, "stream": False}, headers=headers
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [429, 429, 200]
    assert (
        "retry-after"
        not in client.post(
            "/v1/chat/completions", json=BODY, headers={"x-levante-fault": "status=500"}
        ).headers
    )


def raw_request(url: str, fault: str, max_tokens: int = 1) -> bytes:
    """The raw HTTP/1.1 response bytes, chunked framing included."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps({**BODY, "max_tokens": max_tokens}).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nX-Levante-Fault: {fault}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_byte_writes_frames_one_byte_per_write(server: EmbeddedServer) -> None:
    normal = raw_request(server.url, "no-done")
    single = raw_request(server.url, "byte-writes")
    assert b"\r\n1\r\nd\r\n1\r\na\r\n1\r\nt\r\n1\r\na\r\n" in single  # "data" in 4 chunks
    assert b"\r\n1\r\nd\r\n1\r\na\r\n" not in normal
    # De-chunked, the bytes are a normal stream.
    body = single.split(b"\r\n\r\n", 1)[1]
    data = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        data, body = data + body[:size], body[size + 2 :]
    events = SSEDecoder().feed(data)
    assert len(events) == 3 and events[-1].data == "[DONE]"


def test_byte_writes_through_a_client(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, _, error = stream(client, "byte-writes")
    assert error is None
    assert len(events) == 7
    assert server.fetch_stats()["completed"] == 1


def test_faults_combine(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, times, error = stream(
        client, "byte-writes; malformed-after=0; stall-after=1:0.2; disconnect-after=4"
    )
    assert [e.data.startswith("{this") for e in events] == [True, False, False, False, False]
    assert times[2] - times[1] >= 0.19
    assert isinstance(error, httpx2.RemoteProtocolError)
    assert server.fetch_stats() == {"open": 0, "completed": 0, "aborted": 1}


def test_unknown_fault_is_a_clear_400(client: httpx2.Client) -> None:
    response = client.post(
        "/v1/chat/completions", json=BODY, headers={"x-levante-fault": "meteor=1"}
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert "unknown fault 'meteor'" in message
    assert "disconnect-after" in message  # the known faults are listed


def test_a_fault_past_the_end_never_fires(server: EmbeddedServer, client: httpx2.Client) -> None:
    events, _, error = stream(client, "disconnect-after=50")
    assert error is None and events[-1].data == "[DONE]"
    assert server.fetch_stats() == {"open": 0, "completed": 1, "aborted": 0}


def test_server_wide_faults_apply_when_the_header_is_absent() -> None:
    with EmbeddedServer(faults="error-after=1") as srv, httpx2.Client(base_url=srv.url) as c:
        events, _, _ = stream(c, "", None)  # an empty header: no fault for this request
        assert events[-1].data == "[DONE]"
        response = c.post("/v1/chat/completions", json=BODY)
        decoded = SSEDecoder().feed(response.content)
        assert [e.event for e in decoded] == ["message", "error"]
    with pytest.raises(FaultError):
        EmbeddedServer(faults="explode")


def test_ping_sends_comments_during_a_stall(server: EmbeddedServer, client: httpx2.Client) -> None:
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json=BODY,
        headers={"x-levante-fault": "stall=0.35;ping=0.1"},
    ) as response:
        raw = response.read()
    before_first_event = raw.split(b"data:", 1)[0]
    assert before_first_event == b": ping\n\n" * 3
    events = SSEDecoder().feed(raw)
    assert len(events) == 7 and events[-1].data == "[DONE]"  # comments are not events
    assert server.fetch_stats() == {"open": 0, "completed": 1, "aborted": 0}
