"""The quick request builder builds exactly what ``httpx2``'s ``build_request`` builds."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from levante._build import CACHE_SIZE, RequestBuilder, set_headers

URL = "https://api.example.test/v1/chat/completions"
BODY = b'{"model":"m","messages":[],"stream":true}'
HEADERS = {
    "accept": "text/event-stream",
    "user-agent": "levante/test",
    "authorization": "Bearer k",
    "content-type": "application/json",
}


def reference(http: Any, url: str, headers: dict[str, str], timeout: Any) -> httpx2.Request:
    return http.build_request(
        "POST",
        url,
        content=BODY,
        headers=headers,
        timeout=httpx2.USE_CLIENT_DEFAULT if timeout is None else timeout,
    )


def same(a: httpx2.Request, b: httpx2.Request) -> None:
    assert a.method == b.method
    assert a.url == b.url
    assert a.headers.raw == b.headers.raw  # names, values and order
    assert a.content == b.content
    assert a.extensions == b.extensions
    assert type(a.stream) is type(b.stream)


CLIENTS = {
    "default": lambda: httpx2.Client(),
    "async": lambda: httpx2.AsyncClient(),
    "client headers": lambda: httpx2.Client(headers={"X-Team": "a", "User-Agent": "theirs"}),
    "client timeout": lambda: httpx2.Client(timeout=httpx2.Timeout(3.0, read=7.0)),
    "base_url": lambda: httpx2.Client(base_url="https://elsewhere.test/api"),
    "client params": lambda: httpx2.Client(params={"key": "v"}),
    "client cookies": lambda: httpx2.Client(cookies={"session": "s"}),
}


@pytest.mark.parametrize("name", sorted(CLIENTS))
@pytest.mark.parametrize("timeout", [None, httpx2.Timeout(1.0, connect=2.0)])
@pytest.mark.parametrize(
    "url", [URL, URL + "?api-version=2024-05-01", "http://127.0.0.1:8000/v1/fim/completions"]
)
def test_same_request_as_build_request(name: str, timeout: Any, url: str) -> None:
    http = CLIENTS[name]()
    builder = RequestBuilder()
    for _ in range(2):  # the second time from the caches
        built = builder.build(http, "POST", url, body=BODY, headers=HEADERS, timeout=timeout)
        same(built, reference(http, url, HEADERS, timeout))


def test_no_body_and_a_get() -> None:
    http = httpx2.Client()
    built = RequestBuilder().build(
        http, "GET", URL, body=None, headers={"accept": "application/json"}, timeout=None
    )
    same(built, http.build_request("GET", URL, headers={"accept": "application/json"}))


def test_a_change_to_the_clients_headers_is_seen() -> None:
    http = httpx2.Client()
    builder = RequestBuilder()
    builder.build(http, "POST", URL, body=BODY, headers=HEADERS, timeout=None)
    http.headers["X-Added-Later"] = "yes"
    built = builder.build(http, "POST", URL, body=BODY, headers=HEADERS, timeout=None)
    assert built.headers["x-added-later"] == "yes"
    same(built, reference(http, URL, HEADERS, None))


def test_a_new_key_is_seen_and_requests_do_not_share_headers() -> None:
    http = httpx2.Client()
    builder = RequestBuilder()
    first = builder.build(http, "POST", URL, body=BODY, headers=HEADERS, timeout=None)
    first.headers["x-mutated"] = "1"
    rotated = {**HEADERS, "authorization": "Bearer other"}
    second = builder.build(http, "POST", URL, body=BODY, headers=rotated, timeout=None)
    assert second.headers["authorization"] == "Bearer other"
    assert "x-mutated" not in second.headers
    third = builder.build(http, "POST", URL, body=BODY, headers=HEADERS, timeout=None)
    assert "x-mutated" not in third.headers


def test_cookies_set_by_a_server_after_the_first_request_are_sent() -> None:
    http = httpx2.Client()
    builder = RequestBuilder()
    builder.build(http, "POST", URL, body=BODY, headers=HEADERS, timeout=None)
    http.cookies.set("lb", "node-3", domain="api.example.test")
    built = builder.build(http, "POST", URL, body=BODY, headers=HEADERS, timeout=None)
    assert built.headers["cookie"] == "lb=node-3"
    same(built, reference(http, URL, HEADERS, None))


def test_caches_stay_bounded() -> None:
    http = httpx2.Client()
    builder = RequestBuilder()
    for i in range(CACHE_SIZE * 3):
        headers = {**HEADERS, "authorization": f"Bearer k{i}"}
        built = builder.build(http, "POST", f"{URL}/{i}", body=BODY, headers=headers, timeout=None)
        assert built.headers["authorization"] == f"Bearer k{i}"
        assert str(built.url).endswith(f"/{i}")
    assert len(builder._urls) <= CACHE_SIZE
    assert len(builder._headers) <= CACHE_SIZE


@pytest.mark.parametrize(
    "extra",
    [
        [("X-Trace", "1")],
        [("User-Agent", "mine/1.0")],  # replaces levante's "user-agent" in place
        [("user-agent", "mine/1.0")],
        [("ACCEPT", "application/json"), ("x-a", "1"), ("X-A", "2")],
        [("Authorization", "Bearer other"), ("x-b", "3")],
    ],
)
def test_set_headers_sets_as_httpx2_headers_do(extra: list[tuple[str, str]]) -> None:
    expected = httpx2.Headers(HEADERS)
    for name, value in extra:
        expected[name] = value
    merged = set_headers(HEADERS, extra)
    assert httpx2.Headers(merged).raw == expected.raw
    http = httpx2.Client()
    built = RequestBuilder().build(http, "POST", URL, body=BODY, headers=merged, timeout=None)
    same(built, http.build_request("POST", URL, content=BODY, headers=expected))


def test_query_parameters_and_multipart_go_to_build_request() -> None:
    http = httpx2.Client()
    builder = RequestBuilder()
    built = builder.build(
        http,
        "GET",
        URL + "?api-version=1",
        body=None,
        headers={},
        timeout=None,
        params={"after": "evt-7"},
    )
    same(built, http.build_request("GET", URL + "?api-version=1", params={"after": "evt-7"}))
    assert built.url.params["after"] == "evt-7"
    files = {"file": ("a.wav", b"RIFF", "audio/wav")}
    upload = builder.build(
        http, "POST", URL, body=None, headers={}, timeout=None, data={"model": "m"}, files=files
    )
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="model"' in upload.read() and b"RIFF" in upload.content
