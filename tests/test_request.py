"""Per-call options are validated once, at the call, before any I/O (levante/_request.py).

The table-driven part needs no socket; the last tests send every bad option to a real
server that counts what reaches it, sync and async, and check that nothing does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from levante import Mistral
from levante._checks import check_api_key, check_headers, check_server_url
from levante._request import NOT_GIVEN, RequestOptions, coerce_timeout, split_options
from levante._retry import RetryConfig
from liveserver import LiveServer, live_server

SECRET = "sk-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "hi"}]

# (keyword arguments, exception type, a phrase of the message)
BAD_OPTIONS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"idle_timeout": math.inf}, ValueError, "idle_timeout"),
    ({"idle_timeout": math.nan}, ValueError, "idle_timeout"),
    ({"idle_timeout": 0}, ValueError, "idle_timeout"),
    ({"idle_timeout": "5"}, TypeError, "idle_timeout"),
    ({"first_event_timeout": -1}, ValueError, "first_event_timeout"),
    ({"first_event_timeout": -math.inf}, ValueError, "first_event_timeout"),
    ({"first_event_timeout": True}, TypeError, "first_event_timeout"),
    ({"timeout": math.nan}, ValueError, "timeout"),
    ({"timeout": math.inf}, ValueError, "timeout"),
    ({"timeout": 0}, ValueError, "timeout"),
    ({"timeout": "10"}, TypeError, "timeout"),
    ({"timeout": httpx2.Timeout(5.0, read=math.nan)}, ValueError, r"timeout\.read"),
    ({"timeout_ms": 0}, ValueError, "timeout_ms"),
    ({"timeout_ms": math.inf}, ValueError, "timeout_ms"),
    ({"timeout_ms": "100"}, TypeError, "timeout_ms"),
    ({"timeout_ms": 100, "timeout": 1.0}, TypeError, "not both"),
    ({"retries": -1}, ValueError, "max_retries"),
    ({"retries": "3"}, TypeError, "retries"),
    ({"retries": True}, TypeError, "bool"),
    ({"server_url": "ftp://example.com"}, ValueError, "http"),
    ({"server_url": "http://"}, ValueError, "host"),
    ({"server_url": "http://example.com:99999"}, ValueError, "port"),
    ({"server_url": " http://example.com"}, ValueError, "whitespace"),
    ({"server_url": 42}, TypeError, "server_url"),
    ({"http_headers": ["X-A", "1"]}, TypeError, "mapping"),
    ({"http_headers": {"X-A": 1}}, TypeError, "str"),
    ({"http_headers": {b"X-A": "1"}}, TypeError, "str"),
    ({"http_headers": {"X A": "1"}}, ValueError, "header name"),
    ({"http_headers": {"X-A": "1\r\nX-Injected: yes"}}, ValueError, "line break"),
    ({"http_headers": {"X-A": "a\nb"}}, ValueError, "line break"),
    ({"http_headers": {"X-A": "a\x00b"}}, ValueError, "control"),
    ({"http_headers": {"X-A": "caf\u00e9"}}, ValueError, "non-ASCII"),
    ({"http_headers": {"Content-Length": "0"}}, ValueError, "set by levante"),
    ({"http_headers": {"transfer-encoding": "chunked"}}, ValueError, "set by levante"),
]


@pytest.mark.parametrize(("kwargs", "error", "phrase"), BAD_OPTIONS)
def test_split_options_refuses(kwargs: dict[str, Any], error: type[Exception], phrase: str) -> None:
    with pytest.raises(error, match=phrase) as info:
        split_options(kwargs, "chat.stream")
    assert str(info.value).startswith("chat.stream(): ")


def test_split_options_keeps_body_fields_and_resolves_options() -> None:
    options, fields = split_options(
        {
            "model": "m",
            "retries": 5,
            "server_url": "https://other.example/",
            "timeout_ms": 1500,
            "http_headers": {"X-Trace": "t\t1"},
            "first_event_timeout": 2,
            "idle_timeout": 0.5,
        },
        "chat.stream",
    )
    assert fields == {"model": "m"}
    assert options.retries == RetryConfig(max_retries=5)
    assert options.server_url == "https://other.example"
    assert isinstance(options.timeout, httpx2.Timeout) and options.timeout.read == 1.5
    assert options.http_headers == (("X-Trace", "t\t1"),)
    assert (options.first_event_timeout, options.idle_timeout) == (2.0, 0.5)


def test_no_options_means_the_clients_settings() -> None:
    options, fields = split_options({"model": "m", "timeout": None, "timeout_ms": None}, "x")
    assert options == RequestOptions()
    assert options.timeout is NOT_GIVEN and options.retries is None
    assert fields == {"model": "m"}


def test_coerce_timeout() -> None:
    assert coerce_timeout(None) == httpx2.Timeout(None)
    assert coerce_timeout(2) == httpx2.Timeout(2.0)
    given = httpx2.Timeout(5.0, connect=1.0)
    assert coerce_timeout(given) is given
    with pytest.raises(ValueError, match=r"timeout\.connect"):
        coerce_timeout(httpx2.Timeout(5.0, connect=math.inf))


def test_header_and_key_messages_never_quote_the_value() -> None:
    for headers in ({"Authorization": f"Bearer {SECRET}\n"}, {"X-Key": f"{SECRET}\x00"}):
        with pytest.raises(ValueError) as info:
            check_headers(headers)
        assert SECRET not in str(info.value)
    for key in (f"{SECRET}\n", f" {SECRET}", f"{SECRET}\u00e9", f"{SECRET}\r"):
        with pytest.raises(ValueError, match="newline") as info:
            check_api_key(key)
        assert SECRET not in str(info.value)


def test_server_url_with_credentials_is_refused_without_showing_them() -> None:
    with pytest.raises(ValueError, match="credentials") as info:
        check_server_url(f"https://user:{SECRET}@api.example")
    assert SECRET not in str(info.value)
    assert check_server_url("http://127.0.0.1:8000/prefix/") == "http://127.0.0.1:8000/prefix"


# -- nothing reaches a real server -------------------------------------------------------


class Counter:
    def __init__(self) -> None:
        self.seen = 0
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        self.seen += 1
        return JSONResponse({"object": "list", "data": []})


@pytest.fixture
def counter() -> Iterator[tuple[Counter, LiveServer]]:
    count = Counter()
    with live_server(count.app) as server:
        yield count, server


def test_bad_options_never_send_a_request(counter: tuple[Counter, LiveServer]) -> None:
    count, server = counter
    with Mistral(api_key="k", server_url=server.url, retries=0) as client:
        for kwargs, error, _ in BAD_OPTIONS:
            with pytest.raises(error):
                client.chat.stream(model="m", messages=MESSAGES, **kwargs)
            with pytest.raises(error):
                client.chat.complete(model="m", messages=MESSAGES, **kwargs)
            with pytest.raises(error):
                client.models.list(**kwargs)
        client.models.list()  # the server is there: a good call reaches it
    assert count.seen == 1


@pytest.mark.anyio
async def test_bad_options_fail_at_the_async_call(counter: tuple[Counter, LiveServer]) -> None:
    count, server = counter
    async with Mistral(api_key="k", server_url=server.url, retries=0) as client:
        for kwargs, error, _ in BAD_OPTIONS:
            with pytest.raises(error):
                # raised by the call itself: nothing to await, nothing sent
                client.chat.stream_async(model="m", messages=MESSAGES, **kwargs)
            with pytest.raises(error):
                await client.chat.complete_async(model="m", messages=MESSAGES, **kwargs)
    assert count.seen == 0


@pytest.mark.parametrize("key", [f"{SECRET}\n", f"{SECRET}\r\n", f"{SECRET} "])
def test_bad_api_key_fails_before_any_connection(
    counter: tuple[Counter, LiveServer], key: str
) -> None:
    count, server = counter
    # a str key is checked by the constructor; a callable's, as each request is built
    with pytest.raises(ValueError) as info:
        Mistral(api_key=key, server_url=server.url)
    assert SECRET not in str(info.value)
    with Mistral(api_key=lambda: key, server_url=server.url) as client:
        with pytest.raises(ValueError) as info:
            client.models.list()
        assert SECRET not in str(info.value)
        assert SECRET not in repr(client)
        assert server.open_connections == 0  # not even a connection was opened
    assert count.seen == 0


def test_bad_constructor_options_are_refused() -> None:
    with pytest.raises(ValueError, match="credentials"):
        Mistral(server_url=f"https://u:{SECRET}@api.example")
    with pytest.raises(ValueError, match="timeout"):
        Mistral(timeout=math.nan)
    with pytest.raises(ValueError, match="timeout_ms"):
        Mistral(timeout_ms=-5)
    with pytest.raises(ValueError, match="finite"):
        Mistral(retries=RetryConfig(max_backoff=math.inf))
