"""``Mistral(server=...)``: the official servers by name, on the wire against the official
SDK, and how the name combines with ``server_url`` and ``MISTRAL_SERVER_URL``."""

from __future__ import annotations

import pytest
from mistralai.client import Mistral as OfficialMistral

from levante import Mistral
from levante.client import SERVERS
from levante.errors import MistralError
from wire import Recorder, json_answer, same_request

MODELS = {"object": "list", "data": []}
CHAT = {
    "id": "c",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("server", ["global", "eu", "us"])
def test_named_server_is_the_official_host(server: str) -> None:
    recorder = Recorder(json_answer(CHAT))
    official = OfficialMistral(api_key="k", server=server, client=recorder.client())
    ours = Mistral(api_key="k", server=server, client=recorder.client())
    official.chat.complete(model="m", messages=MESSAGES)
    ours.chat.complete(model="m", messages=MESSAGES)
    same_request(*recorder.requests)
    assert ours.server_url == SERVERS[server]
    host = {"global": "api.mistral.ai", "eu": "api.eu.mistral.ai", "us": "api.us.mistral.ai"}
    assert recorder.last.url.host == host[server]


def test_server_url_wins_and_server_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_SERVER_URL", "http://localhost:9")
    assert Mistral(api_key="k").server_url == "http://localhost:9"
    assert Mistral(api_key="k", server="eu").server_url == "https://api.eu.mistral.ai"
    both = Mistral(api_key="k", server="us", server_url="http://127.0.0.1:1/")
    assert both.server_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(("server", "error"), [("asia", ValueError), (3, TypeError)])
def test_unknown_server_is_refused(server: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="server"):
        Mistral(api_key="k", server=server)  # type: ignore[arg-type]


@pytest.mark.parametrize("server", ["eu", "us"])
def test_official_regional_hosts_need_a_key(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    recorder = Recorder(json_answer(MODELS))
    client = Mistral(server=server, client=recorder.client())
    with pytest.raises(MistralError, match="API key"):
        client.models.list()
    assert recorder.requests == []
