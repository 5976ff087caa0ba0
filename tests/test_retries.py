"""Retries: which failures are retried, how long levante waits, and that nothing leaks."""

from __future__ import annotations

import math
import socket
import threading
import time
from email.utils import formatdate
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from levante._retry import (
    RetryConfig,
    RetryState,
    backoff_delay,
    parse_retry_after,
    resolve_retries,
)
from levante.client import Mistral
from levante.errors import (
    APIConnectionError,
    BadRequestError,
    IncompleteStreamError,
    InternalServerError,
    RateLimitError,
)
from liveserver import live_server

FAST = RetryConfig(max_retries=3, initial_backoff=0.01, max_backoff=0.02)
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
RESPONSE = {
    "id": "r",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
ERROR = {"object": "error", "message": "slow down", "type": "rate_limited", "code": "1300"}


def failing_then_ok(statuses: list[int], headers: dict[str, str] | None = None) -> Starlette:
    """An app answering the given error statuses in turn, then a chat completion."""
    attempts: list[float] = []

    async def handler(request: Request) -> Response:
        await request.body()
        attempts.append(time.monotonic())
        if len(attempts) <= len(statuses):
            return JSONResponse(ERROR, status_code=statuses[len(attempts) - 1], headers=headers)
        return JSONResponse(RESPONSE)

    app = Starlette(routes=[Route("/v1/chat/completions", handler, methods=["POST"])])
    app.state.attempts = attempts
    return app


# -- pure policy -------------------------------------------------------------------------


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after(httpx2.Headers({"retry-after": "2"})) == 2.0
    assert parse_retry_after(httpx2.Headers({"retry-after": "0.05"})) == 0.05
    assert parse_retry_after(httpx2.Headers({"retry-after-ms": "250"})) == 0.25
    assert parse_retry_after(httpx2.Headers({"retry-after": "-3"})) == 0.0
    assert parse_retry_after(httpx2.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx2.Headers({"retry-after": "nan"})) is None
    assert parse_retry_after(httpx2.Headers({})) is None
    now = 1_700_000_000.0
    date = formatdate(now + 30, usegmt=True)
    assert parse_retry_after(httpx2.Headers({"retry-after": date}), now=now) == pytest.approx(30)
    past = formatdate(now - 30, usegmt=True)
    assert parse_retry_after(httpx2.Headers({"retry-after": past}), now=now) == 0.0


def test_backoff_grows_with_jitter_and_caps() -> None:
    config = RetryConfig(initial_backoff=1.0, max_backoff=3.0, multiplier=2.0, jitter=0.25)
    for _ in range(50):
        assert 0.75 <= backoff_delay(config, 0, None) <= 1.0
        assert 1.5 <= backoff_delay(config, 1, None) <= 2.0
        assert 2.25 <= backoff_delay(config, 5, None) <= 3.0
    assert backoff_delay(config, 0, 7.0) == 7.0
    assert backoff_delay(config, 0, 3600.0) == config.max_retry_after


def test_resolve_retries_accepts_int_config_none_and_official_shape() -> None:
    from mistralai.client.utils import BackoffStrategy
    from mistralai.client.utils import RetryConfig as OfficialRetryConfig

    assert resolve_retries(4).max_retries == 4
    assert resolve_retries(None).max_retries == 0
    assert resolve_retries(FAST) is FAST
    official = resolve_retries(
        OfficialRetryConfig("backoff", BackoffStrategy(10, 50, 1.5, 900), False)
    )
    assert (official.initial_backoff, official.max_backoff, official.multiplier) == (
        0.01,
        0.05,
        1.5,
    )
    assert official.max_elapsed == 0.9
    assert official.retry_connection_errors is False
    assert (
        resolve_retries(OfficialRetryConfig("none", BackoffStrategy(1, 1, 1, 1), True)).max_retries
        == 0
    )
    with pytest.raises(TypeError, match="retries must be"):
        resolve_retries("3")
    with pytest.raises(TypeError):
        resolve_retries(True)
    with pytest.raises(ValueError):
        RetryConfig(max_retries=-1)


@pytest.mark.parametrize(
    "bad",
    [
        {"initial_backoff": math.nan},
        {"max_backoff": math.inf},
        {"multiplier": -1.0},
        {"max_retry_after": math.nan},
        {"max_elapsed": math.inf},
        {"jitter": 1.5},
        {"max_retries": 2.5},
    ],
)
def test_retry_config_refuses_values_that_never_or_always_fire(bad: dict[str, Any]) -> None:
    with pytest.raises((TypeError, ValueError)):
        RetryConfig(**bad)


def test_retry_state_decides_and_counts() -> None:
    state = RetryState(RetryConfig(max_retries=2, initial_backoff=0.1, jitter=0.0))
    assert state.after_status(400, httpx2.Headers()) is None  # not retryable: no attempt used
    assert state.after_status(503, httpx2.Headers()) == pytest.approx(0.1)
    assert state.after_error(httpx2.ConnectError("refused")) == pytest.approx(0.2)
    assert state.after_status(429, httpx2.Headers({"retry-after": "0"})) is None  # none left
    assert state.attempt == 2
    assert RetryState(FAST).after_error(ValueError("not a transport error")) is None
    no_conn = RetryState(RetryConfig(retry_connection_errors=False))
    assert no_conn.after_error(httpx2.ReadTimeout("slow")) is None
    assert no_conn.after_status(502, httpx2.Headers({"retry-after-ms": "5"})) == 0.005


def test_retry_state_stops_at_max_elapsed() -> None:
    state = RetryState(RetryConfig(max_retries=100, max_elapsed=0.5, jitter=0.0))
    assert state.after_status(503, httpx2.Headers({"retry-after": "0.4"})) == 0.4
    # elapsed time counts from the first attempt, waits included: no sleep happened here
    assert state.after_status(503, httpx2.Headers({"retry-after": "0.6"})) is None


# -- over the wire -----------------------------------------------------------------------


def test_429_retried_honouring_retry_after() -> None:
    app = failing_then_ok([429, 429], headers={"Retry-After": "0.05"})
    with live_server(app) as server, Mistral(server_url=server.url, retries=FAST) as client:
        started = time.monotonic()
        response = client.chat.complete(**CHAT)
        elapsed = time.monotonic() - started
    assert response.choices[0].message is not None
    assert response.choices[0].message.content == "ok"
    attempts = app.state.attempts
    assert len(attempts) == 3
    # each wait honoured the server's 0.05 s (not FAST's 0.01-0.02 s backoff)
    assert attempts[1] - attempts[0] >= 0.04
    assert attempts[2] - attempts[1] >= 0.04
    assert elapsed < 5


def test_http_date_retry_after_is_honoured() -> None:
    # an HTTP date has 1 s resolution: a date ~now means "retry now", so this stays fast
    app = failing_then_ok([503], headers={"Retry-After": formatdate(time.time(), usegmt=True)})
    with live_server(app) as server, Mistral(server_url=server.url, retries=FAST) as client:
        client.chat.complete(**CHAT)
    assert len(app.state.attempts) == 2


@pytest.mark.parametrize(("status", "error"), [(429, RateLimitError), (503, InternalServerError)])
def test_storm_gives_up_after_max_retries_without_leaking(status: int, error: type) -> None:
    app = failing_then_ok([status] * 50, headers={"Retry-After": "0"})
    with live_server(app) as server:
        with Mistral(server_url=server.url, retries=FAST) as client:
            with pytest.raises(error) as info:
                client.chat.complete(**CHAT)
            assert info.value.status_code == status
            assert len(app.state.attempts) == FAST.max_retries + 1
            # every failed response was closed: at most the one pooled keep-alive connection
            assert server.wait_for_at_most(1, timeout=2) <= 1
        assert server.wait_for_connections(0) == 0


def test_non_retryable_status_is_not_retried() -> None:
    app = failing_then_ok([400])
    with (
        live_server(app) as server,
        Mistral(server_url=server.url, retries=FAST) as client,
        pytest.raises(BadRequestError),
    ):
        client.chat.complete(**CHAT)
    assert len(app.state.attempts) == 1


def test_per_call_retries_override_client() -> None:
    app = failing_then_ok([500, 500])
    with live_server(app) as server, Mistral(server_url=server.url, retries=FAST) as client:
        with pytest.raises(InternalServerError):
            client.chat.complete(**CHAT, retries=0)
        assert len(app.state.attempts) == 1
        client.chat.complete(**CHAT, retries=RetryConfig(max_retries=1, initial_backoff=0.01))
        assert len(app.state.attempts) == 3


def test_official_retry_config_shape_per_call() -> None:
    from mistralai.client.utils import BackoffStrategy
    from mistralai.client.utils import RetryConfig as OfficialRetryConfig

    app = failing_then_ok([502, 504])
    with live_server(app) as server, Mistral(server_url=server.url, retries=0) as client:
        official = OfficialRetryConfig("backoff", BackoffStrategy(10, 20, 1.5, 5000), True)
        client.chat.complete(**CHAT, retries=official)
    assert len(app.state.attempts) == 3


def test_client_wide_official_retry_config_argument() -> None:
    from mistralai.client.utils import BackoffStrategy
    from mistralai.client.utils import RetryConfig as OfficialRetryConfig

    app = failing_then_ok([503])
    official = OfficialRetryConfig("backoff", BackoffStrategy(10, 20, 1.5, 5000), True)
    with (
        live_server(app) as server,
        Mistral(server_url=server.url, retry_config=official) as client,
    ):
        assert client.retries.initial_backoff == 0.01
        client.chat.complete(**CHAT)
    assert len(app.state.attempts) == 2


class DroppingServer:
    """Accepts TCP connections and closes them at once: a connection error on every try."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _run(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()


def test_connection_errors_retried_then_raised() -> None:
    server = DroppingServer()
    try:
        with (
            Mistral(server_url=server.url, retries=FAST) as client,
            pytest.raises(APIConnectionError),
        ):
            client.chat.complete(**CHAT)
        assert server.accepted == FAST.max_retries + 1
        no_conn_retry = RetryConfig(
            max_retries=3, initial_backoff=0.01, retry_connection_errors=False
        )
        before = server.accepted
        with (
            Mistral(server_url=server.url, retries=no_conn_retry) as client,
            pytest.raises(APIConnectionError),
        ):
            client.chat.complete(**CHAT)
        assert server.accepted == before + 1
    finally:
        server.stop()


def test_stream_is_not_retried_after_first_event() -> None:
    attempts = []

    async def handler(request: Request) -> Response:
        attempts.append(1)
        chunk = (
            b'data: {"id":"c","model":"m","choices":[{"index":0,'
            b'"delta":{"content":"hi"},"finish_reason":null}]}\n\n'
        )
        return Response(chunk, media_type="text/event-stream")  # no [DONE]: truncated

    app = Starlette(routes=[Route("/v1/chat/completions", handler, methods=["POST"])])
    with (
        live_server(app) as server,
        Mistral(server_url=server.url, retries=FAST) as client,
        client.chat.stream(**CHAT) as stream,
        pytest.raises(IncompleteStreamError),
    ):
        for _ in stream:
            pass
    assert len(attempts) == 1


@pytest.mark.anyio
async def test_async_429_retried_honouring_retry_after() -> None:
    app = failing_then_ok([429, 503, 500], headers={"Retry-After": "0.05"})
    with live_server(app) as server:
        async with Mistral(server_url=server.url, retries=FAST) as client:
            with pytest.raises(RateLimitError):
                await client.chat.complete_async(**CHAT, retries=0)
            assert len(app.state.attempts) == 1
            response = await client.chat.complete_async(**CHAT)
            assert response.id == "r"
            attempts = app.state.attempts
            assert len(attempts) == 4
            assert attempts[2] - attempts[1] >= 0.04
            assert attempts[3] - attempts[2] >= 0.04


@pytest.mark.anyio
async def test_async_storm_does_not_leak() -> None:
    app = failing_then_ok([429] * 50, headers={"Retry-After": "0"})
    with live_server(app) as server:
        async with Mistral(server_url=server.url, retries=FAST) as client:
            with pytest.raises(RateLimitError):
                await client.chat.stream_async(**CHAT)
            assert len(app.state.attempts) == FAST.max_retries + 1
        assert server.wait_for_connections(0) == 0


@pytest.mark.anyio
async def test_async_connection_errors_retried_then_raised() -> None:
    server = DroppingServer()
    try:
        async with Mistral(server_url=server.url, retries=FAST) as client:
            with pytest.raises(APIConnectionError):
                await client.chat.stream_async(**CHAT)
        assert server.accepted == FAST.max_retries + 1
    finally:
        server.stop()
