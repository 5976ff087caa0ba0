"""Record what the official SDK and levante send, and compare the two requests.

Both clients get an ``httpx2.Client`` over an ``httpx2.MockTransport`` that records each
request (body read) and answers with a canned response, so a wire test makes the same call
with both SDKs and compares method, URL, the headers that matter and the body: JSON bodies
byte for byte (the official SDK's field order included), multipart bodies part by part
(boundaries are random).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

__all__ = [
    "Recorder",
    "json_answer",
    "parts",
    "same_request",
    "sse_answer",
    "sse_body",
]

Answer = Callable[[httpx2.Request], httpx2.Response]


class Recorder:
    """A MockTransport handler that keeps every request and answers with ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.requests: list[httpx2.Request] = []
        self.answer = answer

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        return self.answer(request)

    def client(self) -> httpx2.Client:
        """A sync HTTP client whose every request comes here."""
        return httpx2.Client(transport=httpx2.MockTransport(self))

    def async_client(self) -> httpx2.AsyncClient:
        """An async HTTP client whose every request comes here."""
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self))

    @property
    def last(self) -> httpx2.Request:
        assert self.requests, "no request was sent"
        return self.requests[-1]


def json_answer(payload: Any) -> Answer:
    """Answer every request with ``payload`` as JSON."""
    return lambda _request: httpx2.Response(200, json=payload)


def sse_answer(body: bytes) -> Answer:
    """Answer every request with ``body`` as an event stream."""
    headers = {"content-type": "text/event-stream"}
    return lambda _request: httpx2.Response(200, headers=headers, content=body)


def sse_body(*events: tuple[str | None, Any]) -> bytes:
    """SSE blocks: ``(event type or None, data)``; data that is not a str is sent as JSON."""
    out = []
    for event, data in events:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        head = f"event: {event}\n" if event else ""
        out.append(f"{head}data: {text}\n\n")
    return "".join(out).encode()


def parts(request: httpx2.Request) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body: (headers, content), in order."""
    media, _, boundary = request.headers["content-type"].partition("; boundary=")
    assert media == "multipart/form-data"
    chunks = request.content.split(b"--" + boundary.encode())
    assert chunks[0] == b"" and chunks[-1] == b"--\r\n"
    found = []
    for chunk in chunks[1:-1]:
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        found.append((headers, content))
    return found


def same_request(theirs: httpx2.Request, mine: httpx2.Request) -> None:
    """Method, URL (query included; a ``#fragment`` is never sent), Accept, Authorization,
    Content-Type and body are equal."""
    assert mine.method == theirs.method
    assert str(mine.url.copy_with(fragment=None)) == str(theirs.url.copy_with(fragment=None))
    for name in ("accept", "authorization", "api-key"):
        assert mine.headers.get(name) == theirs.headers.get(name), name
    their_type = theirs.headers.get("content-type", "")
    if their_type.startswith("multipart/"):
        assert parts(mine) == parts(theirs)
    else:
        assert mine.headers.get("content-type") == their_type
        if their_type == "application/json":
            # equal values first: a clearer failure than unequal bytes
            assert json.loads(mine.content) == json.loads(theirs.content)
        assert mine.content == theirs.content
