"""The Azure and Vertex AI paths on the dev server, raw and through the official mistralai
Azure and GCP clients, over real sockets."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from mistralai.azure.client import MistralAzure
from mistralai.gcp.client import MistralGCP

from levante.devserver import EmbeddedServer
from levante.models import ChatCompletionResponse, CompletionEvent
from levante.sse import SSEDecoder

USER = [{"role": "user", "content": "Hello there"}]
GCP = "/v1/projects/proj-1/locations/europe-west4/publishers/mistralai/models"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(api_key="cloud-key") as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    headers = {"authorization": "Bearer cloud-key"}
    with httpx2.Client(base_url=server.url, timeout=10, headers=headers) as c:
        yield c


def test_azure_path_needs_api_version(client: httpx2.Client) -> None:
    body = {"model": "mistral-large-2411", "messages": USER}
    missing = client.post("/models/chat/completions", json=body)
    assert missing.status_code == 400 and "api-version" in missing.json()["message"]
    response = client.post("/models/chat/completions?api-version=2024-05-01-preview", json=body)
    reply = ChatCompletionResponse.model_validate_json(response.content)
    assert reply.choices[0].message.content.startswith("Hello! I am levante-chat")
    streamed = client.post(
        "/models/chat/completions?api-version=2024-05-01-preview", json={**body, "stream": True}
    )
    events = SSEDecoder().feed(streamed.content)
    assert events[-1].data == "[DONE]"
    text = "".join(
        str(CompletionEvent.from_sse_data(e.data).data.choices[0].delta.content or "")
        for e in events[:-1]
    )
    assert text == reply.choices[0].message.content


def test_gcp_paths_pick_stream_and_fim(client: httpx2.Client) -> None:
    chat = client.post(f"{GCP}/mistral-small-2503:rawPredict", json={"messages": USER})
    assert chat.json()["model"] == "mistral-small-2503"
    assert chat.json()["object"] == "chat.completion"
    fim = client.post(
        f"{GCP}/codestral-2405:streamRawPredict",
        json={"model": "codestral-2405", "prompt": "def f():", "stream": True},
    )
    assert fim.headers["content-type"].startswith("text/event-stream")
    events = SSEDecoder().feed(fim.content)
    assert events[-1].data == "[DONE]"
    text = "".join(
        str(CompletionEvent.from_sse_data(e.data).data.choices[0].delta.content or "")
        for e in events[:-1]
    )
    assert "filled in by the levante dev server" in text
    wrong = client.post(f"{GCP}/codestral-2405:predict", json={"prompt": "x"})
    assert wrong.status_code == 404


def test_official_azure_client(server: EmbeddedServer) -> None:
    with MistralAzure(api_key="cloud-key", server_url=server.url) as azure:
        whole = azure.chat.complete(model="mistral-small-2503", messages=USER)
        text = whole.choices[0].message.content
        assert isinstance(text, str) and text.startswith("Hello! I am levante-chat")
        with azure.chat.stream(model="mistral-small-2503", messages=USER) as stream:
            pieces = [str(e.data.choices[0].delta.content or "") for e in stream]
        assert "".join(pieces) == text


def test_official_gcp_client_chat_and_fim(server: EmbeddedServer) -> None:
    gcp = MistralGCP(
        project_id="proj-1", region="europe-west4", access_token="cloud-key", server_url=server.url
    )
    with gcp:
        whole = gcp.chat.complete(model="mistral-small-2503", messages=USER)
        text = whole.choices[0].message.content
        assert isinstance(text, str) and text.startswith("Hello! I am levante-chat")
        with gcp.chat.stream(model="mistral-small-2503", messages=USER) as stream:
            pieces = [str(e.data.choices[0].delta.content or "") for e in stream]
        assert "".join(pieces) == text
        fim = gcp.fim.complete(model="codestral-2405", prompt="def f():", suffix="\n")
        middle = fim.choices[0].message.content
        assert isinstance(middle, str) and "filled in by the levante dev server" in middle
        with gcp.fim.stream(model="codestral-2405", prompt="def f():") as stream:
            streamed = "".join(str(e.data.choices[0].delta.content or "") for e in stream)
        assert streamed == middle
