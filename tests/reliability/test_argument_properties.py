"""Property: an invalid argument never reaches the server, whatever it is and wherever.

Hypothesis draws one invalid argument at a time (a key, a header name or value, a
reserved header, a base URL, a non-finite number anywhere in a body, a timeout, a retry
policy, a path parameter) and a method to pass it to (chat, FIM, conversations; complete
and stream; sync and async). The call must raise ``ValueError`` or ``TypeError``, quoting
no secret it was given, and the raw server behind the client must not have accepted a
single connection. A control property sends valid arguments through the same harness
and sees them arrive, so the harness can tell.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from levante import Mistral
from rawserver import RawServer, http_head, raw_server

SECRET = "sk-property-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]
_FIELD_CHARS = set("\t" + "".join(chr(c) for c in range(0x20, 0x7F)))
_TOKEN_CHARS = set("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)


def _bad_field(text: str) -> bool:
    return any(ch not in _FIELD_CHARS for ch in text)


bad_field_text = st.text(min_size=1, max_size=12).filter(_bad_field)
bad_key = st.one_of(
    bad_field_text.map(lambda t: SECRET + t),
    st.sampled_from([" ", "\t", "\n", "\r\n"]).map(lambda ws: SECRET + ws),
    st.sampled_from([" ", "\t"]).map(lambda ws: ws + SECRET),
)
bad_header_name = st.text(min_size=1, max_size=10).filter(
    lambda t: any(ch not in _TOKEN_CHARS for ch in t)
)
reserved_header = st.sampled_from(["content-length", "host", "transfer-encoding"]).flatmap(
    lambda name: st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in name)).map("".join)
)
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
bad_timeout = st.one_of(
    non_finite,
    st.floats(max_value=0, allow_nan=False),
    st.integers(max_value=0),
    st.sampled_from(["10", True, b"1", [1]]),
)
bad_url = st.one_of(
    st.sampled_from(["ftp://{h}", "{h}", "http://", "http://{h}:99999", "http://{h}:x"]),
    st.sampled_from(["http://u:{s}@{h}", "http://{s}@{h}", "http://{h}?k={s}", "http://{h}#{s}"]),
    bad_field_text.map(lambda t: "http://{h}/" + t),
)

# (method, extra arguments making the call valid, body fields that take a number)
METHODS: list[tuple[str, dict[str, Any]]] = [
    ("chat.complete", {"model": "m", "messages": MESSAGES}),
    ("chat.stream", {"model": "m", "messages": MESSAGES}),
    ("fim.complete", {"model": "m", "prompt": "def"}),
    ("fim.stream", {"model": "m", "prompt": "def"}),
    ("beta.conversations.start", {"model": "m", "inputs": "hi"}),
    ("beta.conversations.append_stream", {"conversation_id": "c1", "inputs": "hi"}),
]
NUMBER_FIELDS = {
    "chat": ["temperature", "top_p", "presence_penalty", "frequency_penalty"],
    "fim": ["temperature", "top_p"],
    "beta": [],
}


@st.composite
def invalid_call(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """(method, call arguments, client arguments, a secret the error must not quote)."""
    method, valid = draw(st.sampled_from(METHODS))
    call = dict(valid)
    client: dict[str, Any] = {"api_key": SECRET}
    kind = draw(
        st.sampled_from(
            ["key", "callable key", "header name", "header value", "reserved header",
             "url", "call url", "number", "nested number", "timeout", "stream timeout",
             "retries", "path"]
        )
    )  # fmt: skip
    secret = SECRET
    if kind == "key":
        client["api_key"] = draw(bad_key)
    elif kind == "callable key":
        key = draw(bad_key)
        client["api_key"] = lambda: key
    elif kind == "header name":
        call["http_headers"] = {draw(bad_header_name): SECRET}
    elif kind == "header value":
        secret = draw(bad_field_text.map(lambda t: SECRET + t))
        call["http_headers"] = {"X-Secret": secret}
    elif kind == "reserved header":
        call["http_headers"] = {draw(reserved_header): "0"}
    elif kind in ("url", "call url"):
        url = draw(bad_url).replace("{s}", SECRET)
        (client if kind == "url" else call)["server_url"] = url
    elif kind == "number":
        fields = NUMBER_FIELDS[method.split(".")[0]] or ["timeout"]
        call[draw(st.sampled_from(fields))] = draw(non_finite)
    elif kind == "nested number":
        nested = {"weight": draw(non_finite)}
        if method.startswith("beta"):
            call["completion_args"] = {"temperature": nested["weight"]}
        else:
            call["metadata"] = nested
    elif kind == "timeout":
        call[draw(st.sampled_from(["timeout", "timeout_ms"]))] = draw(bad_timeout)
    elif kind == "stream timeout":
        call[draw(st.sampled_from(["first_event_timeout", "idle_timeout"]))] = draw(bad_timeout)
    elif kind == "retries":
        call["retries"] = draw(st.sampled_from([-1, "3", True, 1.5, object()]))
    else:
        if "conversation_id" not in call:
            method, call = "beta.conversations.append_stream", {"inputs": "hi"}
        call["conversation_id"] = draw(st.sampled_from([".", "..", ""]))
    return method, call, client, secret


def _answer(conn: Any, request: bytes) -> None:
    conn.sendall(http_head(404, {"content-type": "application/json"}) + b"{}")


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    with raw_server(_answer) as srv:
        yield srv


def _resolve(client: Mistral, method: str) -> Any:
    target: Any = client
    for part in method.split("."):
        target = getattr(target, part)
    return target


def call_sync(server: RawServer, method: str, call: dict[str, Any], client: dict[str, Any]) -> None:
    options = {"server_url": server.url, "retries": 0, **client}
    with Mistral(**options) as mistral:
        result = _resolve(mistral, method)(**call)
        if hasattr(result, "close"):
            result.close()


async def call_async(
    server: RawServer, method: str, call: dict[str, Any], client: dict[str, Any]
) -> None:
    options = {"server_url": server.url, "retries": 0, **client}
    async with Mistral(**options) as mistral:
        async_method = _resolve(mistral, method + "_async")
        result = async_method(**call)
        if hasattr(result, "__aenter__"):
            async with result:
                pass
        else:
            await result


_settings = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(case=invalid_call(), use_async=st.booleans())
def test_no_invalid_argument_reaches_the_server(
    server: RawServer, case: tuple[str, dict[str, Any], dict[str, Any], str], use_async: bool
) -> None:
    method, call, client, secret = case
    before = server.accepted
    with pytest.raises((ValueError, TypeError)) as info:
        if use_async:
            anyio.run(call_async, server, method, call, client)
        else:
            call_sync(server, method, call, client)
    assert server.accepted == before, f"{method}({call}) reached the server"
    assert secret not in f"{info.value} {info.value!r}"


@settings(max_examples=15, deadline=None)
@given(method=st.sampled_from(METHODS), temperature=st.floats(0, 1))
def test_control_valid_arguments_do_reach_it(
    method: tuple[str, dict[str, Any]], temperature: float
) -> None:
    name, call = method
    if name.startswith(("chat", "fim")):
        call = {**call, "temperature": temperature}
    with raw_server(_answer) as srv:
        with pytest.raises(Exception) as info:  # the server answers 404
            call_sync(srv, name, call, {"api_key": SECRET})
        assert srv.accepted == 1, info.value
