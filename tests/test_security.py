"""The hardening table (issue 12), row by row: what a careless caller passes is refused
before any connection opens, and never quoted back.

Every row sends its bad input through the public client to a raw server that counts the
connections it accepts, sync and async, and checks that none was opened and that the
error does not quote the secret. The answers side of the table (redaction, bounds,
non-SSE answers, timeouts, the plain-http warning) is in ``test_security_answers.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from levante import Mistral
from levante.errors import APIError
from rawserver import RawServer, http_head, raw_server

KEY = "sk-CANARY-0123456789abcdef"
PASSWORD = "hunter2-CANARY"
MESSAGES = [{"role": "user", "content": "hi"}]
CHAT = {"model": "m", "messages": MESSAGES}


def _never_answer(conn: Any, request: bytes) -> None:
    conn.sendall(http_head(500) + b"")  # only reached if a row failed to refuse


@pytest.fixture
def server() -> Iterator[RawServer]:
    with raw_server(_never_answer) as srv:
        yield srv


def refused(
    server: RawServer, call: Callable[[], Any], error: type[Exception], *secrets: str
) -> Exception:
    """Run ``call``: it raises ``error`` quoting none of ``secrets``, and nothing connected."""
    with pytest.raises(error) as info:
        call()
    text = f"{info.value} {info.value!r}"
    for secret in secrets:
        assert secret not in text
    assert server.accepted == 0, "a connection was opened for a refused argument"
    return info.value


async def refused_async(
    server: RawServer, call: Callable[[], Any], error: type[Exception], *secrets: str
) -> Exception:
    with pytest.raises(error) as info:
        await call()
    for secret in secrets:
        assert secret not in f"{info.value} {info.value!r}"
    assert server.accepted == 0, "a connection was opened for a refused argument"
    return info.value


# -- row 1: keys -------------------------------------------------------------------------

BAD_KEYS = [
    KEY + "\n",  # read from a file
    KEY + "\r\n",
    " " + KEY,
    KEY[:6] + "\r\nX-Injected: 1\r\n" + KEY[6:],
    KEY + "\x00",
    KEY + "\u00e9",  # non-ASCII
    KEY + "\u2028",
]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_bad_key_refused_at_construction(bad: str, server: RawServer) -> None:
    refused(server, lambda: Mistral(api_key=bad, server_url=server.url), ValueError, KEY, bad)


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_bad_key_from_a_callable_refused_before_connecting(bad: str, server: RawServer) -> None:
    with Mistral(api_key=lambda: bad, server_url=server.url) as client:
        refused(server, lambda: client.chat.complete(**CHAT), ValueError, KEY)
        refused(server, lambda: client.chat.stream(**CHAT), ValueError, KEY)


@pytest.mark.anyio
@pytest.mark.parametrize("bad", BAD_KEYS[:3])
async def test_async_bad_key_refused_before_connecting(bad: str, server: RawServer) -> None:
    async with Mistral(api_key=lambda: bad, server_url=server.url) as client:
        await refused_async(server, lambda: client.chat.complete_async(**CHAT), ValueError, KEY)
        await refused_async(server, lambda: client.chat.stream_async(**CHAT), ValueError, KEY)


def test_bad_key_from_the_environment(server: RawServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", KEY + "\n")
    refused(server, lambda: Mistral(server_url=server.url), ValueError, KEY)


# -- rows 2 and 3: headers ---------------------------------------------------------------

BAD_HEADERS: list[tuple[dict[str, str], str]] = [
    ({"X-A": "v\r\nX-Injected: 1"}, "line break"),
    ({"X-A": "v\nw"}, "line break"),
    ({"X-A": "v\rw"}, "line break"),
    ({"X-A": "v\x00w"}, "control"),
    ({"X-A": "caf\u00e9"}, "non-ASCII"),
    ({"X-A\r\nX-B": "v"}, "header name"),
    ({"Content-Length": "0"}, "set by levante"),
    ({"content-length": "999"}, "set by levante"),
    ({"Transfer-Encoding": "chunked"}, "set by levante"),
    ({"Host": "evil.example"}, "server_url"),
    ({"HOST": "127.0.0.1"}, "server_url"),
]


@pytest.mark.parametrize(("headers", "phrase"), BAD_HEADERS)
def test_bad_header_refused_before_connecting(
    headers: dict[str, str], phrase: str, server: RawServer
) -> None:
    secret = next(iter(headers.values()))
    with Mistral(api_key=KEY, server_url=server.url) as client:
        for call in (client.chat.complete, client.chat.stream):
            error = refused(
                server,
                lambda call=call: call(**CHAT, http_headers={"Authorization": KEY, **headers}),
                ValueError,
                KEY,
            )
            assert phrase in str(error)
            if len(secret) > 3:
                assert secret not in str(error)  # a header value is never quoted


@pytest.mark.anyio
@pytest.mark.parametrize(("headers", "phrase"), BAD_HEADERS[::2])
async def test_async_bad_header_refused_before_connecting(
    headers: dict[str, str], phrase: str, server: RawServer
) -> None:
    async with Mistral(api_key=KEY, server_url=server.url) as client:
        error = await refused_async(
            server,
            lambda: client.chat.stream_async(**CHAT, http_headers=headers),
            ValueError,
            KEY,
        )
        assert phrase in str(error)


# -- row 5 and URLs ----------------------------------------------------------------------

BAD_URLS: list[tuple[str, str]] = [
    ("http://user:{pw}@127.0.0.1:{port}", "credentials"),
    ("http://:{pw}@127.0.0.1:{port}", "credentials"),
    ("http://{pw}@127.0.0.1:{port}", "credentials"),
    ("http://127.0.0.1:{port}?token={pw}", "query"),
    ("http://127.0.0.1:{port}/#{pw}", "fragment"),
    ("http://127.0.0.1:{port}/v1?", "query"),
    ("http://127.0.0.1:{port}\n", "whitespace"),
    ("ftp://127.0.0.1:{port}", "http"),
    ("http://127.0.0.1:99999", "port"),
    ("127.0.0.1:{port}", "http"),
]


def _url(template: str, server: RawServer) -> str:
    return template.format(pw=PASSWORD, port=server.url.rsplit(":", 1)[1])


@pytest.mark.parametrize(("template", "phrase"), BAD_URLS)
def test_bad_server_url_refused_without_showing_credentials(
    template: str, phrase: str, server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(template, server)
    error = refused(server, lambda: Mistral(api_key=KEY, server_url=url), ValueError, PASSWORD)
    assert phrase in str(error)
    monkeypatch.setenv("MISTRAL_SERVER_URL", url)
    refused(server, lambda: Mistral(api_key=KEY), ValueError, PASSWORD)
    monkeypatch.delenv("MISTRAL_SERVER_URL")
    with Mistral(api_key=KEY, server_url=server.url) as client:
        error = refused(
            server, lambda: client.chat.stream(**CHAT, server_url=url), ValueError, PASSWORD
        )
        assert phrase in str(error)


def test_url_credentials_never_reach_repr_or_logs(
    server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with pytest.raises(ValueError) as info:
        Mistral(api_key=KEY, server_url=_url(BAD_URLS[0][0], server))
    assert PASSWORD not in caplog.text
    assert PASSWORD not in "".join(map(str, info.traceback))
    client = Mistral(api_key=KEY, server_url=server.url)
    assert KEY not in repr(client) and KEY not in repr(client.chat)


# -- row 8: numbers ----------------------------------------------------------------------

BAD_NUMBERS: list[dict[str, Any]] = [
    {"temperature": math.nan},
    {"temperature": math.inf},
    {"top_p": math.inf},
    {"top_p": -math.inf},
    {"presence_penalty": math.nan},
    {"frequency_penalty": -math.inf},
    {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"x": math.nan}}}]},
    {"metadata": {"weight": math.inf}},
    {"response_format": {"type": "json_object", "extra": [1.0, -math.inf]}},
    {"first_event_timeout": math.nan},
    {"first_event_timeout": math.inf},
    {"idle_timeout": math.nan},
    {"idle_timeout": math.inf},
    {"timeout": math.nan},
    {"timeout": math.inf},
    {"timeout": httpx2.Timeout(5.0, read=math.inf)},
    {"timeout_ms": math.nan},
]


@pytest.mark.parametrize("kwargs", BAD_NUMBERS)
def test_nan_and_infinity_refused_not_sent_as_null(
    kwargs: dict[str, Any], server: RawServer
) -> None:
    with Mistral(api_key=KEY, server_url=server.url) as client:
        refused(server, lambda: client.chat.stream(**CHAT, **kwargs), ValueError, KEY)
        refused(server, lambda: client.chat.complete(**CHAT, **kwargs), ValueError, KEY)


@pytest.mark.anyio
@pytest.mark.parametrize("kwargs", BAD_NUMBERS[::3])
async def test_async_nan_and_infinity_refused(kwargs: dict[str, Any], server: RawServer) -> None:
    async with Mistral(api_key=KEY, server_url=server.url) as client:
        await refused_async(server, lambda: client.chat.stream_async(**CHAT, **kwargs), ValueError)


def test_nan_in_nested_conversation_arguments_refused(server: RawServer) -> None:
    with Mistral(api_key=KEY, server_url=server.url) as client:
        error = refused(
            server,
            lambda: client.beta.conversations.start(
                model="m", inputs="hi", completion_args={"temperature": math.nan}
            ),
            ValueError,
        )
        assert "NaN" in str(error)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_in_constructor_timeouts(value: float, server: RawServer) -> None:
    refused(server, lambda: Mistral(server_url=server.url, timeout=value), ValueError)
    refused(server, lambda: Mistral(server_url=server.url, timeout_ms=value), ValueError)  # type: ignore[arg-type]


def test_words_nan_and_infinity_in_text_are_sent() -> None:
    sent: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        return httpx2.Response(422, json={"detail": "stop here"})

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    with (
        Mistral(server_url="http://test", client=client, retries=None) as m,
        pytest.raises(APIError, match="stop here"),
    ):
        m.chat.complete(model="m", messages=[{"role": "user", "content": "NaN Infinity"}])
    assert b'"content":"NaN Infinity"' in sent[0]


# -- row 10: path parameters -------------------------------------------------------------


@pytest.mark.parametrize("value", ["..", ".", ""])
def test_dot_and_empty_path_parameters_refused(value: str, server: RawServer) -> None:
    with Mistral(api_key=KEY, server_url=server.url) as client:
        conversations = client.beta.conversations
        refused(
            server,
            lambda: conversations.append(conversation_id=value, inputs="x"),
            (ValueError, TypeError),  # type: ignore[arg-type]
        )
        refused(
            server,
            lambda: conversations.append_stream(conversation_id=value, inputs="x"),
            (ValueError, TypeError),  # type: ignore[arg-type]
        )


def test_path_parameters_are_percent_encoded() -> None:
    paths: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        paths.append(request.url.raw_path.decode())
        return httpx2.Response(404, json={"message": "no"})

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    with Mistral(server_url="http://test", client=client, retries=None) as m:
        for value in ("../v1/models", "a/b", "x?y#z", "%2e%2e"):
            with pytest.raises(APIError, match="no"):
                m.beta.conversations.append(conversation_id=value, inputs="x")
    assert paths == [
        "/v1/conversations/..%2Fv1%2Fmodels",
        "/v1/conversations/a%2Fb",
        "/v1/conversations/x%3Fy%23z",
        "/v1/conversations/%252e%252e",
    ]
