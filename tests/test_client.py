"""The client core over real sockets: configuration, headers, errors, timeouts, secrecy."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import anyio.to_thread
import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from levante.client import DEFAULT_SERVER_URL, ERROR_BODY_LIMIT, Mistral
from levante.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    HTTPValidationError,
    InternalServerError,
    MistralError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from liveserver import live_server

KEY = "sk-very-secret-key-0123456789"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
RESPONSE = {
    "id": "r",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
}


def one_route(handler, path: str = "/v1/chat/completions", methods=("POST",)) -> Starlette:
    return Starlette(routes=[Route(path, handler, methods=list(methods))])


def error_app(status: int, payload: object) -> Starlette:
    async def handler(request: Request) -> Response:
        return JSONResponse(payload, status_code=status)

    return one_route(handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- configuration -----------------------------------------------------------------------


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.delenv("MISTRAL_SERVER_URL", raising=False)
    assert Mistral().server_url == DEFAULT_SERVER_URL == "https://api.mistral.ai"
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://localhost:9/")
    assert Mistral().server_url == "http://localhost:9"
    assert Mistral(server_url="https://example.test").server_url == "https://example.test"


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="http"):
        Mistral(server_url="api.mistral.ai")
    with pytest.raises(TypeError, match=r"httpx2\.Client"):
        Mistral(client=httpx2.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AsyncClient"):
        Mistral(async_client=httpx2.Client())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        Mistral(timeout=-1)
    with pytest.raises(TypeError, match="not both"):
        Mistral(timeout=1, timeout_ms=1000)


def test_build_request_is_pure_and_joins_urls() -> None:
    from levante._request import APIRequest, RequestOptions, coerce_timeout

    client = Mistral(api_key="k", server_url="http://example.invalid/prefix/")
    with httpx2.Client(timeout=3) as http:
        request = client._sender.build(
            http, APIRequest("POST", "/v1/chat/completions", b"{}", stream=True)
        )
        assert str(request.url) == "http://example.invalid/prefix/v1/chat/completions"
        assert request.headers["accept"] == "text/event-stream"
        assert request.headers["authorization"] == "Bearer k"
        assert request.extensions["timeout"]["read"] == 3  # the user's client timeout
        options = RequestOptions(server_url="https://other.invalid", timeout=coerce_timeout(1.5))
        request = client._sender.build(http, APIRequest("GET", "/v1/models", options=options))
        assert str(request.url) == "https://other.invalid/v1/models"
        assert request.headers["accept"] == "application/json"
        assert "content-type" not in request.headers
        assert request.extensions["timeout"]["read"] == 1.5
    client.close()


def test_missing_key_for_official_api_fails_before_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.delenv("MISTRAL_SERVER_URL", raising=False)
    client = Mistral()
    with pytest.raises(MistralError, match="MISTRAL_API_KEY"):
        client.chat.complete(**CHAT)
    assert client._sender._client is None or not client._sender._client.is_closed
    client.close()


def test_headers_key_from_env_and_no_key_for_custom_server(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        return JSONResponse(RESPONSE)

    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    with live_server(one_route(handler)) as server:
        with Mistral(server_url=server.url) as client:
            client.chat.complete(**CHAT, http_headers={"X-Trace": "t1", "User-Agent": "mine"})
        monkeypatch.delenv("MISTRAL_API_KEY")
        with Mistral(server_url=server.url) as client:
            client.chat.complete(**CHAT)
    first, second = seen
    assert first["authorization"] == f"Bearer {KEY}"
    assert first["accept"] == "application/json"
    assert first["content-type"] == "application/json"
    assert first["x-trace"] == "t1"
    assert first["user-agent"] == "mine"  # http_headers replace levante's own
    assert "authorization" not in second
    assert second["user-agent"].startswith("levante/")


def test_callable_api_key_is_resolved_per_call() -> None:
    seen: list[str] = []

    async def handler(request: Request) -> Response:
        seen.append(request.headers["authorization"])
        return JSONResponse(RESPONSE)

    keys = iter(["k1", "k2"])
    with (
        live_server(one_route(handler)) as server,
        Mistral(lambda: next(keys), server_url=server.url) as client,
    ):
        client.chat.complete(**CHAT)
        client.chat.complete(**CHAT)
    assert seen == ["Bearer k1", "Bearer k2"]


def test_context_manager_closes_only_what_it_created() -> None:
    user_client = httpx2.Client()
    with Mistral(api_key="k", client=user_client) as client:
        assert client._sender.sync_client() is user_client
        own_async = client._sender.async_client()
    assert not user_client.is_closed
    user_client.close()

    with Mistral(api_key="k") as client:
        own = client._sender.sync_client()
    assert own.is_closed
    assert not own_async.is_closed  # sync exit cannot close the async client it made
    asyncio.run(own_async.aclose())


@pytest.mark.anyio
async def test_async_context_manager_closes_both_own_clients() -> None:
    user_async = httpx2.AsyncClient()
    async with Mistral(api_key="k", async_client=user_async) as client:
        own = client._sender.sync_client()
        assert client._sender.async_client() is user_async
    assert own.is_closed
    assert not user_async.is_closed
    await user_async.aclose()


# -- secrecy -----------------------------------------------------------------------------


def test_key_never_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: Request) -> Response:
        # a careless proxy echoing the credentials back
        echoed = request.headers["authorization"]
        return JSONResponse({"object": "error", "message": f"bad key {echoed}"}, status_code=401)

    caplog.set_level(logging.DEBUG)
    with live_server(one_route(handler)) as server:
        client = Mistral(api_key=KEY, server_url=server.url, retries=1)
        with client, pytest.raises(AuthenticationError) as info:
            client.chat.complete(**CHAT)
    error = info.value
    assert KEY not in repr(client)
    assert KEY not in str(error)
    assert KEY not in error.message
    assert KEY not in error.body
    assert "***" in error.message
    assert KEY not in caplog.text
    assert KEY not in repr(client.chat)


# -- error mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (418, APIError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
    ],
)
def test_error_status_mapped_to_class(status: int, error: type[APIError]) -> None:
    payload = {"object": "error", "message": "nope", "type": "invalid_request", "code": "3001"}
    with (
        live_server(error_app(status, payload)) as server,
        Mistral(server_url=server.url, retries=0) as client,
        pytest.raises(APIError) as info,
    ):
        client.chat.complete(**CHAT)
    assert type(info.value) is error
    assert info.value.status_code == status
    assert info.value.message == "nope (type=invalid_request, code=3001)"
    assert json.loads(info.value.body) == payload
    assert info.value.headers["content-type"] == "application/json"


def test_422_detail_is_parsed() -> None:
    detail = [
        {"loc": ["body", "messages", 0, "role"], "msg": "Input should be 'user'", "type": "x"},
        {"loc": ["body", "temperature"], "msg": "too hot", "type": "y"},
    ]
    with (
        live_server(error_app(422, {"detail": detail})) as server,
        Mistral(server_url=server.url) as client,
        pytest.raises(HTTPValidationError) as info,
    ):
        client.chat.complete(**CHAT)
    assert info.value.detail == detail
    assert info.value.message == "messages.0.role: Input should be 'user'; temperature: too hot"


def test_non_json_error_body_and_nested_message() -> None:
    async def handler(request: Request) -> Response:
        if request.path_params["n"] == "1":
            return Response("upstream exploded", status_code=502)
        return JSONResponse({"error": {"message": "quota", "type": "q"}}, status_code=403)

    app = Starlette(routes=[Route("/x{n}/v1/chat/completions", handler, methods=["POST"])])
    with live_server(app) as server, Mistral(server_url=server.url, retries=0) as client:
        with pytest.raises(InternalServerError, match="upstream exploded"):
            client.chat.complete(**CHAT, server_url=server.url + "/x1")
        with pytest.raises(PermissionDeniedError, match="quota"):
            client.chat.complete(**CHAT, server_url=server.url + "/x2")


def test_error_body_is_bounded_and_connection_released() -> None:
    async def handler(request: Request) -> Response:
        async def body():
            for _ in range(256):  # 16 MiB, far more than levante reads
                yield b"x" * 65536

        return StreamingResponse(body(), status_code=400, media_type="text/plain")

    with live_server(one_route(handler)) as server, Mistral(server_url=server.url) as client:
        with pytest.raises(BadRequestError) as info:
            client.chat.complete(**CHAT)
        assert len(info.value.body) == ERROR_BODY_LIMIT
        assert info.value.message == "x" * 500 + "..."
        assert server.wait_for_connections(0) == 0


def test_invalid_success_body_is_a_clear_error() -> None:
    async def handler(request: Request) -> Response:
        return JSONResponse({"unexpected": True})

    with (
        live_server(one_route(handler)) as server,
        Mistral(server_url=server.url) as client,
        pytest.raises(MistralError, match="not a valid ChatCompletionResponse"),
    ):
        client.chat.complete(**CHAT)


# -- timeouts and connection errors ------------------------------------------------------


def slow_app(delay: float) -> Starlette:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(delay)
        return JSONResponse(RESPONSE)

    return one_route(handler)


def test_user_client_timeout_is_not_overridden() -> None:
    with live_server(slow_app(1.0)) as server:
        user_client = httpx2.Client(timeout=0.2)
        with Mistral(server_url=server.url, client=user_client, retries=0) as client:
            with pytest.raises(APITimeoutError):
                client.chat.complete(**CHAT)
            # an explicit per-call timeout wins over the client's
            assert client.chat.complete(**CHAT, timeout=5).id == "r"
        user_client.close()


def test_per_call_timeout_ms_and_constructor_timeout() -> None:
    with live_server(slow_app(0.5)) as server:
        with Mistral(server_url=server.url, retries=0) as client:
            with pytest.raises(APITimeoutError, match="timed out"):
                client.chat.complete(**CHAT, timeout_ms=100)
            with pytest.raises(TypeError, match="not both"):
                client.chat.complete(**CHAT, timeout_ms=100, timeout=1)
        with (
            Mistral(server_url=server.url, retries=0, timeout=0.1) as client,
            pytest.raises(APITimeoutError),
        ):
            client.chat.complete(**CHAT)
        with (
            Mistral(server_url=server.url, retries=0, timeout_ms=100) as client,
            pytest.raises(APITimeoutError),
        ):
            client.chat.complete(**CHAT)


def test_unreachable_server_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Mistral(server_url=url, retries=0) as client, pytest.raises(APIConnectionError) as info:
        client.chat.complete(**CHAT)
    assert not isinstance(info.value, APITimeoutError)
    assert url in str(info.value)


@pytest.mark.anyio
async def test_async_errors_timeouts_and_connection_errors() -> None:
    payload = {"object": "error", "message": "who are you", "type": "auth"}
    with live_server(error_app(401, payload)) as server:
        async with Mistral(server_url=server.url, retries=0) as client:
            with pytest.raises(AuthenticationError, match="who are you"):
                await client.chat.complete_async(**CHAT)
            with pytest.raises(AuthenticationError):
                await client.chat.stream_async(**CHAT)
    with live_server(slow_app(0.5)) as server:
        async with Mistral(server_url=server.url, retries=0) as client:
            with pytest.raises(APITimeoutError):
                await client.chat.complete_async(**CHAT, timeout_ms=100)
    async with Mistral(server_url=f"http://127.0.0.1:{free_port()}", retries=0) as client:
        with pytest.raises(APIConnectionError):
            await client.models.list_async()


@pytest.mark.anyio
async def test_async_error_body_bounded() -> None:
    async def handler(request: Request) -> Response:
        async def body():
            for _ in range(64):
                yield b"y" * ERROR_BODY_LIMIT

        return StreamingResponse(body(), status_code=500)

    with live_server(one_route(handler)) as server:
        async with Mistral(server_url=server.url, retries=0) as client:
            with pytest.raises(InternalServerError) as info:
                await client.chat.complete_async(**CHAT)
            assert len(info.value.body) == ERROR_BODY_LIMIT
            # waited for in a thread: the client's event loop keeps running meanwhile, as it
            # would in a program (a socket asyncio closes is closed at its loop's next turn)
            assert await anyio.to_thread.run_sync(server.wait_for_connections, 0) == 0
