"""MistralGCP against the dev server's Vertex AI paths over real sockets: chat and FIM,
streamed and not, sync and async; tokens fixed or from google-auth (a fake credentials
object) refreshed before they expire, off the event loop on the async path; and the
error that names the extra when google-auth is missing."""

from __future__ import annotations

import sys
import threading
from typing import Any

import google.auth
import pytest

from levante import MistralGCP
from levante.gcp import GCPSender
from liveserver import CountingApp, LiveServer

MESSAGES = [{"role": "user", "content": "Tell me about the levante wind"}]
PREFIX = "/v1/projects/proj-1/locations/europe-west4/publishers/mistralai/models/"


class FakeCredentials:
    """What google-auth's credentials offer: ``token``, ``valid``, ``refresh(request)``.

    Valid until :meth:`expire`; each refresh issues the next token and records the thread
    it ran on.
    """

    def __init__(self) -> None:
        self.token: str | None = None
        self.valid = False
        self.refreshes: list[int] = []

    def refresh(self, request: Any) -> None:
        assert type(request).__module__ == "google.auth.transport.requests"
        self.refreshes.append(threading.get_ident())
        self.token = f"token-{len(self.refreshes)}"
        self.valid = True

    def expire(self) -> None:
        # google-auth reports a token invalid some minutes before it actually expires
        self.valid = False


def test_chat_and_fim_with_an_access_token(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    with MistralGCP("proj-1", access_token="fixed", server_url=server.url, retries=0) as client:
        reply = client.chat.complete(model="mistral-large-2411", messages=MESSAGES)
        with client.chat.stream(model="mistral-large-2411", messages=MESSAGES) as stream:
            text = "".join(stream.text_stream)
        fim = client.fim.complete(model="codestral-2501", prompt="def add(a, b):")
        with client.fim.stream(model="codestral-2501", prompt="def add(a, b):") as fim_stream:
            fim_text = "".join(chunk.data.choices[0].delta.content or "" for chunk in fim_stream)
    assert text and text == reply.choices[0].message.content
    assert fim_text and fim_text == fim.choices[0].message.content
    paths = [path for _, path, _, _ in app.requests]
    assert paths == [
        PREFIX + "mistral-large-2411:rawPredict",
        PREFIX + "mistral-large-2411:streamRawPredict",
        PREFIX + "codestral-2501:rawPredict",
        PREFIX + "codestral-2501:streamRawPredict",
    ]
    assert {h["authorization"] for *_, h in app.requests} == {"Bearer fixed"}


def test_default_credentials_are_refreshed_before_expiry(
    counted_dev_server: tuple[CountingApp, LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, server = counted_dev_server
    credentials = FakeCredentials()
    asked: list[Any] = []

    def default(scopes: Any = None) -> tuple[FakeCredentials, str]:
        asked.append(scopes)
        return credentials, "detected-proj"

    monkeypatch.setattr(google.auth, "default", default)
    client = MistralGCP(server_url=server.url, region="us-east5", retries=0)
    assert client.project_id == "detected-proj"
    assert asked == [["https://www.googleapis.com/auth/cloud-platform"]]
    assert credentials.refreshes == []  # no I/O in the constructor
    with client:
        client.chat.complete(model="m", messages=MESSAGES)
        client.chat.complete(model="m", messages=MESSAGES)
        credentials.expire()
        client.chat.complete(model="m", messages=MESSAGES)
    tokens = [headers["authorization"] for *_, headers in app.requests]
    assert tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert app.requests[0][1].startswith("/v1/projects/detected-proj/locations/us-east5/")


@pytest.mark.anyio
async def test_async_refresh_runs_off_the_event_loop(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    credentials = FakeCredentials()
    loop_thread = threading.get_ident()
    async with MistralGCP("proj-1", credentials=credentials, server_url=server.url) as client:
        reply = await client.chat.complete_async(model="m", messages=MESSAGES)
        credentials.expire()
        async with client.chat.stream_async(model="m", messages=MESSAGES) as stream:
            text = "".join([piece async for piece in stream.text_stream])
        fim = await client.fim.complete_async(model="codestral", prompt="x = ")
    assert text == reply.choices[0].message.content
    assert fim.choices
    assert len(credentials.refreshes) == 2
    assert loop_thread not in credentials.refreshes
    tokens = [headers["authorization"] for *_, headers in app.requests]
    assert tokens == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]


def test_without_google_auth_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an import of google.auth now fails, as it does when the extra is not installed
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(ImportError, match=r"pip install 'levante\[gcp\]'"):
        MistralGCP("proj-1")
    # a fixed token needs no google-auth
    client = MistralGCP("proj-1", access_token="t")
    assert isinstance(client._sender, GCPSender)


def test_bad_input_fails_before_any_request(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    with MistralGCP("proj-1", access_token="t", server_url=server.url) as client:
        with pytest.raises(ValueError, match="model"):
            client.chat.complete(messages=MESSAGES)  # type: ignore[call-arg]
        with pytest.raises(ValueError, match="always streams"):
            client.fim.stream(model="codestral", prompt="x", stream=False)
        with pytest.raises(ValueError, match="does not stream"):
            client.chat.complete(model="m", messages=MESSAGES, stream=True)
    assert app.seen == 0
    with pytest.raises(ValueError, match="project_id"):
        MistralGCP(access_token="t")
    with pytest.raises(TypeError, match="access_token"):
        MistralGCP("p", access_token="")
