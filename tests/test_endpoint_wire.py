"""Requests of every shape, on the wire, against the official SDK sending the same call.

Both SDKs send through an ``httpx2.MockTransport`` that records the request; levante's
side is a declaration written here the way a resource writes it (multipart upload, GET
with list query parameters and a header parameter), sent by a real ``Sender``. Multipart
bodies are compared part by part (the boundaries are random).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mistralai.client import Mistral as OfficialMistral
from mistralai.client import models as official_models

from levante import EndRule, EventStream
from levante._endpoint import Call, Multipart, StreamCall, prepare
from levante._retry import RetryConfig
from levante._send import Sender
from levante.models import AudioTranscriptionRequest, File, TranscriptionResponse
from levante.resources.workflows import StreamEventsQuery

AUDIO = b"RIFF\x00\x00WAVEfmt \x00\x01binary\r\n--not-a-boundary\x00\xff"
TRANSCRIPTION = {
    "model": "voxtral-mini-latest",
    "text": "hello",
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    "language": "en",
}

TRANSCRIBE = Call(
    name="audio.transcriptions.complete",
    method="POST",
    path="/v1/audio/transcriptions",
    body=Multipart(AudioTranscriptionRequest, files=("file",), json=("speaker_references",)),
    response=TranscriptionResponse,
)


WORKFLOW_EVENTS = StreamCall(
    name="workflows.events.get_stream_events",
    method="GET",
    path="/v1/workflows/events/stream",
    query=StreamEventsQuery,
    headers={"last_event_id": "last-event-id"},
    stream=EventStream[str],
    stream_async=EventStream[str],
    decode=lambda sse: sse.data,
    end=EndRule.at_body_end(),
)


class Recorder:
    def __init__(self, answer: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.requests: list[httpx2.Request] = []
        self.answer = answer

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        return self.answer(request)


def json_answer(_: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=TRANSCRIPTION)


def sse_answer(_: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, content=b"data: a\n\ndata: b\n\n"
    )


@pytest.fixture
def pair() -> Iterator[tuple[Callable[..., Recorder], Callable[..., Recorder]]]:
    """Factories: (an official client's recorder, a levante sender's recorder)."""
    opened: list[httpx2.Client] = []

    def official(answer: Callable[[httpx2.Request], httpx2.Response]) -> Any:
        recorder = Recorder(answer)
        http = httpx2.Client(transport=httpx2.MockTransport(recorder))
        opened.append(http)
        client = OfficialMistral(api_key="k", server_url="http://wire.test", client=http)
        return recorder, client

    def ours(answer: Callable[[httpx2.Request], httpx2.Response]) -> Any:
        recorder = Recorder(answer)
        http = httpx2.Client(transport=httpx2.MockTransport(recorder))
        opened.append(http)
        sender = Sender(
            api_key="k",
            server_url="http://wire.test",
            timeout=None,
            retries=RetryConfig(max_retries=0),
            client=http,
        )
        return recorder, sender

    yield official, ours
    for http in opened:
        http.close()


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
    assert mine.method == theirs.method
    assert str(mine.url) == str(theirs.url)
    for name in ("accept", "authorization", "last-event-id"):
        assert mine.headers.get(name) == theirs.headers.get(name), name
    their_type = theirs.headers.get("content-type", "")
    if their_type.startswith("multipart/"):
        assert parts(mine) == parts(theirs)
    else:
        assert mine.headers.get("content-type") == theirs.headers.get("content-type")
        assert mine.content == theirs.content


FULL_FORM: dict[str, Any] = {
    "model": "voxtral-mini-latest",
    "language": "fr",
    "temperature": 0.2,
    "diarize": True,
    "context_bias": ["Mistral", "levante"],
    "timestamp_granularities": ["segment", "word"],
    "speaker_references": {"alice": "https://example.com/alice.wav", "bob": "é"},
}


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("every field", {**FULL_FORM, "file": {"file_name": "talk.wav", "content": AUDIO}}),
        ("diarize false", {"model": "m", "diarize": False, "file_id": "f-1"}),
        ("file_url only", {"model": "m", "file_url": "https://example.com/a.mp3"}),
        (
            "content type given",
            {"model": "m", "file": {"file_name": "a.bin", "content": AUDIO, "content_type": "x/y"}},
        ),
        ("unknown extension", {"model": "m", "file": {"file_name": "noext", "content": AUDIO}}),
    ],
)
def test_multipart_equals_the_official_sdk(pair: Any, name: str, kwargs: dict[str, Any]) -> None:
    official, ours = pair
    their_recorder, their_client = official(json_answer)
    my_recorder, sender = ours(json_answer)
    theirs = their_client.audio.transcriptions.complete(**_official_file(kwargs))
    mine = sender.request(TRANSCRIBE, _levante_file(kwargs))
    same_request(their_recorder.requests[0], my_recorder.requests[0])
    assert mine.text == theirs.text == "hello"


def _official_file(kwargs: dict[str, Any]) -> dict[str, Any]:
    if "file" not in kwargs:
        return kwargs
    spec = kwargs["file"]
    file = official_models.File(
        file_name=spec["file_name"], content=spec["content"], content_type=spec.get("content_type")
    )
    return {**kwargs, "file": file}


def _levante_file(kwargs: dict[str, Any]) -> dict[str, Any]:
    if "file" not in kwargs:
        return kwargs
    return {**kwargs, "file": File(**kwargs["file"])}


def test_every_form_of_file_sends_the_same_part(pair: Any, tmp_path: Path) -> None:
    official, ours = pair
    their_recorder, their_client = official(json_answer)
    their_client.audio.transcriptions.complete(
        model="m", file=official_models.File(file_name="talk.wav", content=AUDIO)
    )
    expected = parts(their_recorder.requests[0])
    path = tmp_path / "talk.wav"
    path.write_bytes(AUDIO)
    my_recorder, sender = ours(json_answer)
    forms: list[Any] = [
        File(content=AUDIO, file_name="talk.wav"),
        File(content=path),  # the name comes from the path
        File(content=str(path), file_name="talk.wav"),
        File(content=io.BytesIO(AUDIO), file_name="talk.wav"),
        official_models.File(file_name="talk.wav", content=AUDIO),  # the official model
        {"file_name": "talk.wav", "content": AUDIO},  # the official TypedDict
    ]
    with path.open("rb") as handle:
        forms.append(handle)  # a binary file: its own name
        for form in forms:
            sender.request(TRANSCRIBE, {"model": "m", "file": form})
    assert len(my_recorder.requests) == len(forms)
    for request in my_recorder.requests:
        assert parts(request) == expected


def test_bytes_alone_are_a_part_named_upload(pair: Any) -> None:
    _, ours = pair
    recorder, sender = ours(json_answer)
    sender.request(TRANSCRIBE, {"model": "m", "file": AUDIO})
    (headers, content), *_ = [p for p in parts(recorder.requests[0]) if p[1] == AUDIO]
    assert headers["Content-Disposition"] == 'form-data; name="file"; filename="upload"'
    assert content == AUDIO


@pytest.mark.parametrize(
    ("kwargs", "error", "phrase"),
    [
        ({"file": File(content=Path("/no/such/file.wav"))}, ValueError, "cannot read"),
        ({"file": io.StringIO("text")}, ValueError, "binary mode"),
        ({"file": 42}, ValueError, "bytes, a path or a binary file"),
        ({"stream": True}, ValueError, "does not stream"),
        ({"temperature": "hot"}, ValueError, "temperature"),
        ({"speaker_references": ["not", "a", "dict"]}, ValueError, "speaker_references"),
    ],
)
def test_bad_upload_fails_before_any_request(
    pair: Any, kwargs: dict[str, Any], error: type[Exception], phrase: str
) -> None:
    _, ours = pair
    recorder, sender = ours(json_answer)
    with pytest.raises(error, match=phrase):
        sender.request(TRANSCRIBE, {"model": "m", **kwargs})
    assert recorder.requests == []


def test_get_with_list_query_and_header_equals_the_official_sdk(pair: Any) -> None:
    official, ours = pair
    kwargs: dict[str, Any] = {
        "workflow_exec_id": "wf/1",
        "start_seq": 3,
        "metadata_filters": {"team": "core", "tier": "gold"},
        "workflow_event_types": ["WORKFLOW_EXECUTION_STARTED", "WORKFLOW_EXECUTION_COMPLETED"],
        "last_event_id": "42",
    }
    their_recorder, their_client = official(sse_answer)
    with their_client.workflows.events.get_stream_events(**kwargs):
        pass  # the request is what is compared; these test events are not workflow events
    my_recorder, sender = ours(sse_answer)
    with sender.stream(WORKFLOW_EVENTS, kwargs) as my_stream:
        assert list(my_stream) == ["a", "b"]  # the stream ends with its body
    theirs, mine = their_recorder.requests[0], my_recorder.requests[0]
    same_request(theirs, mine)
    assert mine.url.params.get_list("workflow_event_types") == kwargs["workflow_event_types"]
    assert mine.headers["last-event-id"] == "42"
    assert "content-type" not in mine.headers and mine.content == b""


def test_query_serialization_rules() -> None:
    names = StreamCall(
        name="t.list",
        method="GET",
        path="/v1/t",
        query=("ids", "flag", "off", "missing", "filters", "n"),
        stream=EventStream[str],
        stream_async=EventStream[str],
        decode=lambda sse: sse.data,
        end=EndRule.at_body_end(),
    )
    req = prepare(
        names,
        {"ids": ["a", None, "b"], "flag": True, "off": False, "missing": None, "n": 0.5,
         "filters": {"k": 1, "skip": None}},
        "t.list",
    )  # fmt: skip
    assert req.params == (
        ("ids", "a"),
        ("ids", "b"),
        ("flag", "true"),
        ("off", "false"),
        ("k", "1"),
        ("n", "0.5"),
    )
    assert req.body is None and req.stream
    with pytest.raises(TypeError, match="unexpected keyword arguments: extra"):
        prepare(names, {"extra": 1}, "t.list")
    with pytest.raises(ValueError, match="header"):
        prepare(WORKFLOW_EVENTS, {"last_event_id": "4\r\n2"}, "w")


def test_a_json_answer_decodes_through_the_sender(pair: Any) -> None:
    _, ours = pair
    recorder, sender = ours(json_answer)
    result = sender.request(TRANSCRIBE, {"model": "m", "file_id": "f"})
    assert isinstance(result, TranscriptionResponse)
    assert json.loads(result.model_dump_json())["text"] == "hello"
    assert recorder.requests[0].headers["accept"] == "application/json"
