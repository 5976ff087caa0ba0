"""Reading answers (levante/_response.py): bounded after decompression, sync and async alike.

A real server sends each body; both send paths must keep the same bytes, stay within
their bound even when a tiny compressed body inflates enormously (Content-Length counts
the compressed bytes), close every response, and never quote a credential.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from levante._response import ERROR_BODY_LIMIT, connection_error, error_for
from levante._retry import RetryConfig
from levante._send import Sender
from levante.errors import APIError, APITimeoutError, BadRequestError, MistralError
from levante.resources.models import LIST
from liveserver import LiveServer, live_server

MODELS = {"object": "list", "data": [{"id": "m", "object": "model", "created": 1}]}


def bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip'ed twice: about a thousand times smaller per layer."""
    return gzip.compress(gzip.compress(bytes(size), 9), 9)


# built before any test measures memory (the server shares this process)
BOMB_64M = bomb(64 << 20)
BOMB_8M = bomb(8 << 20)


def app() -> Starlette:
    async def handle(request: Request) -> Response:
        kind = request.query_params.get("provider", "")  # the call says what to answer
        if kind == "bomb-error":  # a 400 whose 64 MiB body arrives as a few hundred bytes
            return Response(BOMB_64M, 400, headers={"content-encoding": "gzip, gzip"})
        if kind == "bomb-ok":
            return Response(BOMB_8M, 200, headers={"content-encoding": "gzip, gzip"})
        if kind == "big-error":  # chunked, no Content-Length, 200 KB
            pieces = (b"x" * 1000 for _ in range(200))
            return StreamingResponse(pieces, 400, media_type="text/plain")
        if kind == "small-error":
            body = {"object": "error", "message": "nope", "type": "bad", "code": "1"}
            return Response(json.dumps(body), 400, media_type="application/json")
        return Response(json.dumps(MODELS), 200, media_type="application/json")

    return Starlette(routes=[Route("/v1/models", handle)])


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(app()) as live:
        yield live


def sender(server: LiveServer, **extra: Any) -> Sender:
    return Sender(api_key="k", server_url=server.url, timeout=None, retries=RetryConfig(0), **extra)


@pytest.mark.parametrize("kind", ["bomb-error", "big-error", "small-error"])
def test_error_bodies_are_bounded_and_released(server: LiveServer, kind: str) -> None:
    send = sender(server)
    tracemalloc.start()
    try:
        with pytest.raises(BadRequestError) as info:
            send.request(LIST, {"provider": kind})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        send.close()
    body = info.value.body
    assert len(body.encode()) <= ERROR_BODY_LIMIT
    if kind == "small-error":
        assert info.value.message == "nope (type=bad, code=1)"
    else:
        assert len(body) == ERROR_BODY_LIMIT  # cut at the limit, not before
    assert peak < 16 << 20, f"{peak} bytes held to read a bounded error body"
    assert server.wait_for_connections(0) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["bomb-error", "big-error", "small-error"])
async def test_async_error_bodies_agree_with_sync(server: LiveServer, kind: str) -> None:
    sync_send = sender(server)
    with pytest.raises(BadRequestError) as sync_info:
        sync_send.request(LIST, {"provider": kind})
    sync_send.close()
    async_send = sender(server)
    tracemalloc.start()
    try:
        with pytest.raises(BadRequestError) as async_info:
            await async_send.request_async(LIST, {"provider": kind})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await async_send.aclose()
    assert async_info.value.body == sync_info.value.body
    assert async_info.value.message == sync_info.value.message
    assert peak < 16 << 20, f"{peak} bytes held to read a bounded error body"
    assert server.wait_for_connections(0) == 0


def test_a_json_answer_past_the_limit_is_refused(server: LiveServer) -> None:
    send = sender(server, max_response_bytes=1 << 20)
    with pytest.raises(MistralError, match="exceeds 1048576 bytes"):
        send.request(LIST, {"provider": "bomb-ok"})
    assert send.request(LIST, {}).data[0].id == "m"  # an ordinary answer still fits
    send.close()
    assert server.wait_for_connections(0) == 0


@pytest.mark.anyio
async def test_async_json_answer_past_the_limit_is_refused(server: LiveServer) -> None:
    send = sender(server, max_response_bytes=1 << 20)
    with pytest.raises(MistralError, match="exceeds 1048576 bytes"):
        await send.request_async(LIST, {"provider": "bomb-ok"})
    assert (await send.request_async(LIST, {})).data[0].id == "m"
    await send.aclose()
    assert server.wait_for_connections(0) == 0


# -- messages never quote credentials (no sockets) ---------------------------------------

KEY = "sk-live-0123456789abcdef"


def request_with(headers: dict[str, str]) -> httpx2.Request:
    return httpx2.Request("POST", "https://api.example/v1/chat/completions", headers=headers)


@pytest.mark.parametrize(
    "headers", [{"authorization": f"Bearer {KEY}"}, {"api-key": KEY}, {"x-api-key": KEY}]
)
def test_error_for_redacts_the_credentials_sent(headers: dict[str, str]) -> None:
    request = request_with(headers)
    raw = json.dumps({"message": f"key {KEY} is revoked", "type": "auth"}).encode()
    error = error_for(httpx2.Response(401, request=request), raw)
    assert isinstance(error, APIError) and error.status_code == 401
    assert KEY not in str(error) and KEY not in error.body
    assert error.message == "key *** is revoked (type=auth)"


def test_error_message_falls_back_to_the_reason_then_the_status() -> None:
    request = request_with({})
    assert error_for(httpx2.Response(503, request=request), b"").message == "Service Unavailable"
    assert error_for(httpx2.Response(599, request=request), b"  ").message == "HTTP 599"
    long = error_for(httpx2.Response(500, request=request), b"y" * 2000)
    assert long.message == "y" * 500 + "..." and len(long.body) == 2000


def test_connection_errors_redact_the_credentials_sent() -> None:
    request = request_with({"authorization": f"Bearer {KEY}"})
    error = connection_error(httpx2.ReadTimeout(f"stalled on {KEY}"), request)
    assert isinstance(error, APITimeoutError)
    assert KEY not in str(error) and "timed out" in str(error)
