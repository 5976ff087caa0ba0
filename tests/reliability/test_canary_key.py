"""A canary key through every error path, and through the DEBUG logs of every library.

The key is random per run (it appears in no source file, so a traceback quoting source
lines cannot match it by accident). Each scenario sends it, sync and async (asyncio over
both transports, and trio), with every logger at DEBUG (levante, httpx2, httpcore2, h11,
aiohttp, asyncio, trio...), and checks that the error levante raises (message, repr,
attributes, payload, event, chained causes, formatted traceback) and every log record
(message and arguments) are free of it.

What levante cannot promise is left out on purpose and documented in SECURITY.md: a
server that echoes the key in a *response header* has it logged by httpcore2 at DEBUG
(``receive_response_headers.complete``); levante's own error still redacts it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import traceback
from collections.abc import Callable
from typing import Any

import anyio
import httpx2
import pytest

from levante import Mistral, RetryConfig
from levante._transport import AiohttpTransport
from rawserver import RawServer, http_head

KEY = "sk-canary-" + secrets.token_hex(12)
CALL = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}
ECHO = {"error": {"message": f"bad key Bearer {KEY}", "type": "auth", "key": KEY}}
FAST = RetryConfig(max_retries=2, initial_backoff=0.001, max_backoff=0.002)

Respond = Callable[[Any, bytes], None]


def answer(status: int, headers: dict[str, str], *parts: bytes) -> Respond:
    def respond(conn: Any, request: bytes) -> None:
        conn.sendall(http_head(status, headers) + b"".join(parts))

    return respond


def stalled(stop: threading.Event) -> Respond:
    def respond(conn: Any, request: bytes) -> None:
        stop.wait(10)

    return respond


def echo_request(conn: Any, request: bytes) -> None:
    """A 400 whose body is the whole request, Authorization header included."""
    conn.sendall(http_head(400, {"content-type": "text/plain"}) + request)


def sse(*blocks: bytes) -> bytes:
    return b"".join(blocks)


E = json.dumps(ECHO).encode()
# (name, server or None for no server, call kind, client options, call options)
SCENARIOS: list[tuple[str, Respond | None, str, dict[str, Any], dict[str, Any]]] = [
    ("HTTP 400 body", answer(400, JSON, E), "complete", {}, {}),
    ("HTTP 401 text body", answer(401, {"content-type": "text/plain"}, KEY.encode()), "stream", {}, {}),  # noqa: E501
    ("HTTP 422 detail", answer(422, JSON, json.dumps({"detail": [{"loc": ["body", KEY], "msg": KEY}]}).encode()), "complete", {}, {}),  # noqa: E501
    ("the request echoed back", echo_request, "complete", {}, {}),
    ("429 retried, then failed", answer(429, {**JSON, "retry-after": "0"}, E), "stream", {"retries": FAST}, {}),  # noqa: E501
    ("in-stream error event", answer(200, SSE, b"event: error\ndata: " + E + b"\n\n"), "stream", {}, {}),  # noqa: E501
    ("in-stream error object", answer(200, SSE, b"data: " + E + b"\n\n"), "stream", {}, {}),
    ("in-stream error text", answer(200, SSE, b"event: error\ndata: " + KEY.encode() + b"\n\n"), "stream", {}, {}),  # noqa: E501
    ("undecodable event", answer(200, SSE, b'data: {"choices": "' + KEY.encode() + b'"}\n\n'), "stream", {}, {}),  # noqa: E501
    ("event type and id", answer(200, SSE, f"event: {KEY}\nid: {KEY}\ndata: 1\n\n".encode()), "stream", {}, {}),  # noqa: E501
    ("HTML answer to a stream", answer(200, {"content-type": "text/html"}, KEY.encode()), "stream", {}, {}),  # noqa: E501
    ("invalid JSON answer", answer(200, JSON, json.dumps({"id": KEY, "choices": KEY}).encode()), "complete", {}, {}),  # noqa: E501
    ("body cut off", answer(200, {**SSE, "content-length": "900"}, b"data: " + E + b"\n"), "stream", {}, {}),  # noqa: E501
    ("stalled server", None, "stall", {"timeout": 0.3}, {}),
    ("connection refused", None, "refused", {"retries": FAST}, {}),
]  # fmt: skip


def assert_clean(exc: BaseException | None, records: list[logging.LogRecord]) -> None:
    assert exc is not None, "the scenario raised nothing"
    text = "".join(traceback.format_exception(exc))
    seen: BaseException | None = exc
    while seen is not None:
        text += f"{seen!r} {vars(seen)!r}"
        for name in ("payload", "event", "body", "headers", "detail"):
            text += repr(getattr(seen, name, None))
        seen = seen.__cause__ or seen.__context__
    assert KEY not in text, f"{type(exc).__name__} quotes the key"
    for record in records:
        line = f"{record.name} {record.getMessage()} {record.args!r}"
        assert KEY not in line, f"a log record of {record.name} quotes the key: {line[:300]}"


def run_sync(kind: str, url: str, client_options: dict[str, Any]) -> BaseException | None:
    with Mistral(api_key=KEY, server_url=url, **client_options) as client:
        try:
            if kind == "complete":
                client.chat.complete(**CALL)
            else:
                with client.chat.stream(**CALL) as stream:
                    for _ in stream:
                        pass
        except Exception as exc:
            return exc
    return None


async def run_async(
    kind: str, url: str, client_options: dict[str, Any], transport: str
) -> BaseException | None:
    http = httpx2.AsyncClient(transport=AiohttpTransport() if transport == "aiohttp" else None)
    try:
        async with Mistral(
            api_key=KEY, server_url=url, async_client=http, **client_options
        ) as client:
            try:
                if kind == "complete":
                    await client.chat.complete_async(**CALL)
                else:
                    async with client.chat.stream_async(**CALL) as stream:
                        async for _ in stream:
                            pass
            except Exception as exc:
                return exc
    finally:
        await http.aclose()
    return None


MODES = ["sync", "asyncio-httpx2", "asyncio-aiohttp", "trio-httpx2"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("respond", "kind", "client_options"),
    [pytest.param(s[1], s[2], s[3], id=s[0]) for s in SCENARIOS],
)
def test_canary_key_never_in_errors_or_debug_logs(
    respond: Respond | None,
    kind: str,
    client_options: dict[str, Any],
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    stop = threading.Event()
    server: RawServer | None = None
    if kind == "stall":
        server, kind = RawServer(stalled(stop)), "complete"
    elif respond is not None:
        server = RawServer(respond)
    if kind == "refused":
        listener = RawServer(answer(500, {}))
        url, kind = listener.url, "stream"
        listener.close()  # nothing listens there any more
    else:
        assert server is not None
        url = server.url
    try:
        if mode == "sync":
            exc = run_sync(kind, url, client_options)
        else:
            backend, transport = mode.split("-")
            exc = anyio.run(run_async, kind, url, client_options, transport, backend=backend)
    finally:
        stop.set()
        if server is not None:
            server.close()
    assert_clean(exc, caplog.records)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # logs were captured


@pytest.mark.parametrize(
    "make",
    [
        lambda url: Mistral(api_key=KEY + "\n", server_url=url),
        lambda url: Mistral(api_key=KEY, server_url=url.replace("//", f"//user:{KEY}@")),
        lambda url: Mistral(api_key=KEY, server_url=f"{url}?key={KEY}"),
        lambda url: Mistral(server_url=url).chat.complete(
            **CALL, http_headers={"Authorization": f"Bearer {KEY}\r\n"}
        ),
        lambda url: Mistral(api_key=lambda: KEY + "\x00", server_url=url).chat.stream(**CALL),
    ],
    ids=["key with newline", "key as URL password", "key in URL query", "header", "callable"],
)
def test_canary_key_never_in_argument_errors(
    make: Callable[[str], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValueError) as info:
        make("http://127.0.0.1:9")
    assert_clean(info.value, caplog.records)
