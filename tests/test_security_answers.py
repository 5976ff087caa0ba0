"""The hardening table (issue 12), the answers side: what a server sends back.

The key is redacted from every error (HTTP errors, headers, in-stream errors, decode and
parse errors); bodies are bounded after decompression, sync and async alike; a stream
answered with anything but a 2xx ``text/event-stream`` fails before its first event,
naming the status and the content type; a stalled server fails within the read timeout
and is not retried; a key about to cross the network in clear is warned about once.
Every server here is a raw socket (tests/rawserver.py); async tests run on asyncio and
trio, and on asyncio over both async transports (httpx2's and levante's aiohttp one).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest

from levante import Mistral
from levante._send import DEFAULT_TIMEOUT
from levante._transport import AiohttpTransport
from levante.errors import (
    APIError,
    APITimeoutError,
    BadRequestError,
    IncompleteStreamError,
    MistralError,
    ResponseTooLarge,
    StreamAPIError,
    StreamDecodeError,
)
from rawserver import RawServer, gzip_bomb, http_head, raw_server

KEY = "sk-CANARY-0123456789abcdef"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
SSE = {"content-type": "text/event-stream"}
CHUNK = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}


def answer(status: int, headers: dict[str, str], *parts: bytes) -> Callable[[Any, bytes], None]:
    """A raw answer: the head, then each part as one write; the connection then closes."""

    def respond(conn: Any, request: bytes) -> None:
        conn.sendall(http_head(status, headers))
        for part in parts:
            conn.sendall(part)

    return respond


def sse(*events: dict[str, Any] | str) -> bytes:
    return b"".join(
        f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events
    )


# The aiohttp transport sends with httpx2's own transport on trio: two ways on asyncio, one
# on trio.
@pytest.fixture(
    params=[("asyncio", "httpx2"), ("asyncio", "aiohttp"), ("trio", "httpx2")], ids="-".join
)
def loop_and_transport(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(loop_and_transport: tuple[str, str]) -> str:
    return loop_and_transport[0]


@pytest.fixture
def transport(loop_and_transport: tuple[str, str]) -> str:
    return loop_and_transport[1]


@asynccontextmanager
async def async_client(url: str, transport: str, **kwargs: Any) -> AsyncIterator[Mistral]:
    # explicit clients: levante's default on asyncio is the aiohttp one
    kind = AiohttpTransport() if transport == "aiohttp" else None
    http = httpx2.AsyncClient(transport=kind, timeout=kwargs.pop("timeout", DEFAULT_TIMEOUT))
    try:
        async with Mistral(api_key=KEY, server_url=url, async_client=http, **kwargs) as client:
            yield client
    finally:
        await http.aclose()


def assert_no_key(error: BaseException) -> None:
    """Neither the error, its attributes nor its chained causes quote the key."""
    seen = 0
    while error is not None and seen < 5:
        text = f"{error} {error!r} {vars(error)!r}"
        assert KEY not in text, f"{type(error).__name__} quotes the key"
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        seen += 1


# -- row 4: the key is redacted from every error -----------------------------------------

ECHO = {"error": {"message": f"invalid key Bearer {KEY}", "key": KEY, "echo": [KEY]}}
ERROR_EVENT = f"event: error\ndata: {json.dumps(ECHO)}\n\n".encode()
ODD_FIELDS = f'event: {KEY}\nid: {KEY}\ndata: {{"choices": 1}}\n\n'.encode()
JSON_TYPE = {"content-type": "application/json"}
REDACTING = [
    pytest.param(answer(200, SSE, sse(CHUNK), ERROR_EVENT), StreamAPIError, id="error event"),
    pytest.param(answer(200, SSE, sse(CHUNK, ECHO)), StreamAPIError, id="error object"),
    pytest.param(
        answer(200, SSE, f"event: error\ndata: {KEY}\n\n".encode()), StreamAPIError, id="text"
    ),
    pytest.param(answer(200, SSE, sse({"choices": KEY})), StreamDecodeError, id="undecodable"),
    pytest.param(answer(200, SSE, ODD_FIELDS), StreamDecodeError, id="event id and type"),
    pytest.param(answer(400, JSON_TYPE, json.dumps(ECHO).encode()), BadRequestError, id="body"),
    pytest.param(answer(400, {"x-echo": f"Bearer {KEY}"}, b"no"), BadRequestError, id="header"),
]


def _stream_all(client: Mistral) -> None:
    with client.chat.stream(**CHAT, retries=0) as stream:
        for _ in stream:
            pass


@pytest.mark.parametrize(("respond", "error"), REDACTING)
def test_key_redacted_from_stream_errors(respond: Any, error: type[Exception]) -> None:
    with (
        raw_server(respond) as server,
        Mistral(api_key=KEY, server_url=server.url) as client,
        pytest.raises(error) as info,
    ):
        _stream_all(client)
    assert_no_key(info.value)
    assert "***" in f"{info.value} {vars(info.value)}"
    if isinstance(info.value, StreamAPIError):
        assert KEY not in json.dumps(info.value.payload)
        assert KEY not in info.value.event.data


@pytest.mark.anyio
@pytest.mark.parametrize(("respond", "error"), REDACTING)
async def test_async_key_redacted_from_stream_errors(
    respond: Any, error: type[Exception], transport: str
) -> None:
    with raw_server(respond) as server:
        async with async_client(server.url, transport) as client:
            with pytest.raises(error) as info:
                async with client.chat.stream_async(**CHAT, retries=0) as stream:
                    async for _ in stream:
                        pass
    assert_no_key(info.value)


def test_key_redacted_from_a_json_answer_that_does_not_validate() -> None:
    body = json.dumps({"id": KEY, "choices": [{"index": KEY}]}).encode()
    with (
        raw_server(answer(200, JSON_TYPE, body)) as server,
        Mistral(api_key=KEY, server_url=server.url) as client,
        pytest.raises(MistralError, match="not a valid ChatCompletionResponse") as info,
    ):
        client.chat.complete(**CHAT)
    assert_no_key(info.value)


def test_control_characters_from_the_server_are_escaped_in_messages() -> None:
    # a terminal escape (set the window title, move the cursor) and a forged log line
    message = "\x1b]0;pwned\x07 overloaded\n2025-01-01 INFO all fine\x9b2J"
    payload = json.dumps({"message": message}).encode()
    with (
        raw_server(answer(400, JSON_TYPE, payload)) as server,
        Mistral(server_url=server.url) as client,
        pytest.raises(BadRequestError) as info,
    ):
        client.chat.complete(**CHAT)
    text = str(info.value)
    assert not any(ch in text for ch in "\x1b\x07\n\x9b"), text
    assert "\\x1b]0;pwned\\x07 overloaded 2025-01-01 INFO all fine\\x9b2J" in text
    assert json.loads(info.value.body)["message"] == message  # the body is kept as sent


# -- rows 6 and 7: bodies bounded after decompression ------------------------------------


def bomb_server(status: int, size: int, layers: int) -> Callable[[Any, bytes], None]:
    payload = gzip_bomb(size, layers)
    encoding = ", ".join(["gzip"] * layers)
    headers = {"content-type": "application/json", "content-encoding": encoding}
    return answer(status, {**headers, "content-length": str(len(payload))}, payload)


def peak_of(call: Callable[[], Any]) -> tuple[BaseException, int]:
    tracemalloc.start()
    try:
        try:
            call()
        except MistralError as exc:
            return exc, tracemalloc.get_traced_memory()[1]
        raise AssertionError("no error")
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("layers", [1, 2])
def test_error_body_bomb_kept_at_64_kib(layers: int) -> None:
    with (
        raw_server(bomb_server(400, 256 << 20, layers)) as server,
        Mistral(api_key=KEY, server_url=server.url) as client,
    ):
        exc, peak = peak_of(lambda: client.chat.complete(**CHAT))
    assert isinstance(exc, BadRequestError)
    assert len(exc.body) == 64 * 1024
    assert peak < 16 << 20, f"peak {peak >> 20} MiB"


@pytest.mark.anyio
@pytest.mark.parametrize("layers", [1, 2])
async def test_async_error_body_bomb_kept_at_64_kib(layers: int, transport: str) -> None:
    with raw_server(bomb_server(400, 256 << 20, layers)) as server:
        async with async_client(server.url, transport) as client:
            tracemalloc.start()
            try:
                with pytest.raises(BadRequestError) as info:
                    await client.chat.complete_async(**CHAT)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert len(info.value.body) == 64 * 1024
    assert peak < 16 << 20, f"peak {peak >> 20} MiB"


@pytest.mark.parametrize("limit", [None, 1 << 20])
def test_json_answer_bomb_refused_at_the_cap(limit: int | None) -> None:
    extra = {} if limit is None else {"max_response_bytes": limit}
    cap = limit or 64 << 20
    with (
        raw_server(bomb_server(200, 256 << 20, 2)) as server,
        Mistral(api_key=KEY, server_url=server.url, **extra) as client,
    ):
        exc, peak = peak_of(lambda: client.chat.complete(**CHAT))
    assert isinstance(exc, ResponseTooLarge)
    assert str(cap) in str(exc)
    assert peak < cap + (16 << 20), f"peak {peak >> 20} MiB for a cap of {cap >> 20} MiB"


@pytest.mark.anyio
async def test_async_json_answer_bomb_refused_at_the_cap(transport: str) -> None:
    with raw_server(bomb_server(200, 256 << 20, 2)) as server:
        async with async_client(server.url, transport, max_response_bytes=1 << 20) as client:
            tracemalloc.start()
            try:
                with pytest.raises(ResponseTooLarge):
                    await client.chat.complete_async(**CHAT)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak >> 20} MiB"


def test_max_response_bytes_is_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        Mistral(max_response_bytes=0)
    with pytest.raises(TypeError, match="int"):
        Mistral(max_response_bytes=1.5)  # type: ignore[arg-type]


# -- row 9: a stream answered with something else ----------------------------------------

PORTAL = b"<html><body>Sign in to the hotel wifi</body></html>"
REDIRECT = {"location": "https://evil.example/", **SSE}
NOT_SSE = [
    pytest.param(
        answer(200, {"content-type": "text/html"}, PORTAL), ("200", "text/html"), id="portal"
    ),
    pytest.param(answer(200, JSON_TYPE, b"{}"), ("200", "application/json"), id="JSON"),
    pytest.param(answer(200, {}, sse(CHUNK, "[DONE]")), ("200", "no content type"), id="untyped"),
    pytest.param(answer(302, REDIRECT, b""), ("302", "redirect"), id="redirect"),
    pytest.param(answer(204, SSE), ("204",), id="no content"),
]


@pytest.mark.parametrize(("respond", "words"), NOT_SSE)
def test_stream_answered_without_sse_fails_before_the_first_event(
    respond: Any, words: tuple[str, ...]
) -> None:
    with (
        raw_server(respond) as server,
        Mistral(api_key=KEY, server_url=server.url) as client,
        pytest.raises(APIError) as info,
    ):
        client.chat.stream(**CHAT)  # raises here: no stream is handed out
    for word in words:
        assert word in str(info.value)
    assert server.accepted == 1  # not retried


@pytest.mark.anyio
@pytest.mark.parametrize(("respond", "words"), NOT_SSE)
async def test_async_stream_answered_without_sse_fails_before_the_first_event(
    respond: Any, words: tuple[str, ...], transport: str
) -> None:
    with raw_server(respond) as server:
        async with async_client(server.url, transport) as client:
            with pytest.raises(APIError) as info:
                await client.chat.stream_async(**CHAT)
    for word in words:
        assert word in str(info.value)


@pytest.mark.anyio
async def test_async_invalid_chunk_mid_body_fails_the_stream(transport: str) -> None:
    # aiohttp's compiled parser used to leave the reader waiting forever here
    stop = threading.Event()

    def respond(conn: Any, request: bytes) -> None:
        conn.sendall(http_head(200, {**SSE, "transfer-encoding": "chunked"}))
        event = sse(CHUNK)
        conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
        stop.wait(0.1)  # the first event is read before the bad chunk arrives
        conn.sendall(b"zz\r\nboom\r\n")
        stop.wait(10)

    with raw_server(respond) as server:
        async with async_client(server.url, transport) as client:
            items = 0
            with anyio.fail_after(5), pytest.raises(IncompleteStreamError):
                async with client.chat.stream_async(**CHAT) as stream:
                    async for _ in stream:
                        items += 1
        stop.set()
    assert items == 1


def test_json_call_answered_with_html_names_it() -> None:
    portal = answer(200, {"content-type": "text/html"}, PORTAL)
    with (
        raw_server(portal) as server,
        Mistral(server_url=server.url) as client,
        pytest.raises(APIError, match="text/html") as info,
    ):
        client.chat.complete(**CHAT)
    assert info.value.body.startswith("<html>")


# -- row 11: a key in clear to another host ----------------------------------------------


def mock_client() -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(401, json={"message": "no"})

    return httpx2.Client(transport=httpx2.MockTransport(handler))


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://api.example.test", True),
        ("http://10.0.0.7:8000", True),
        ("http://localhost:8000", False),
        ("http://127.0.0.2:8000", False),
        ("http://[::1]:8000", False),
        ("https://api.example.test", False),
    ],
)
def test_plain_http_key_warned_once_per_client(
    url: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="levante")
    for _ in range(2):
        with Mistral(api_key=KEY, server_url=url, client=mock_client(), retries=0) as client:
            for _ in range(3):
                with pytest.raises(APIError):
                    client.chat.complete(**CHAT)
    warnings = [r for r in caplog.records if "plain http://" in r.getMessage()]
    assert len(warnings) == (2 if warned else 0)  # once per client, not per call
    assert KEY not in caplog.text


def test_no_warning_without_a_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="levante")
    url = "http://api.example.test"
    with Mistral(server_url=url, client=mock_client(), retries=0) as m, pytest.raises(APIError):
        m.chat.complete(**CHAT)
    assert "plain http://" not in caplog.text


# -- row 12: timeouts --------------------------------------------------------------------


def test_default_read_timeout_is_a_minute() -> None:
    assert DEFAULT_TIMEOUT.read == 60.0 and DEFAULT_TIMEOUT.connect == 10.0


def stall(server_stop: threading.Event) -> Callable[[Any, bytes], None]:
    def respond(conn: Any, request: bytes) -> None:
        server_stop.wait(30)

    return respond


@pytest.fixture
def stalled() -> Iterator[RawServer]:
    stop = threading.Event()
    with raw_server(stall(stop)) as server:
        yield server
        stop.set()


def test_stalled_server_fails_within_the_read_timeout_once(stalled: RawServer) -> None:
    with Mistral(api_key=KEY, server_url=stalled.url, timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            client.chat.complete(**CHAT)
    assert time.monotonic() - started < 2.0
    assert stalled.accepted == 1  # a read timeout is not retried
    assert not str(info.value).rstrip(")").endswith((":", ": "))


@pytest.mark.anyio
async def test_async_stalled_server_fails_with_a_reason(stalled: RawServer, transport: str) -> None:
    async with async_client(stalled.url, transport, timeout=0.3) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.chat.complete_async(**CHAT)
    message = str(info.value)
    assert not message.rstrip(")").endswith((":", ": ")), message
    assert stalled.accepted == 1


@pytest.mark.anyio
async def test_async_stream_stalled_mid_body_fails_with_a_reason(transport: str) -> None:
    stop = threading.Event()

    def respond(conn: Any, request: bytes) -> None:
        conn.sendall(http_head(200, SSE) + sse(CHUNK))
        stop.wait(30)

    with raw_server(respond) as server:
        async with async_client(server.url, transport, timeout=0.3) as client:
            with pytest.raises(APITimeoutError) as info:
                async with client.chat.stream_async(**CHAT) as stream:
                    async for _ in stream:
                        pass
        stop.set()
    message = str(info.value)
    assert message.startswith("timed out reading the stream: ")
    assert message.split(": ", 1)[1].strip(), message
