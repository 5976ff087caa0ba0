"""Audio on the wire: levante and the official SDK make the same calls and must send the same
requests (multipart parts, JSON bytes, URL, Accept, per-call options) and read the same
attribute values from the same answer bytes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from mistralai.client import Mistral as OfficialMistral
from mistralai.client import models as official_models
from mistralai.client.utils import BackoffStrategy
from mistralai.client.utils import RetryConfig as OfficialRetryConfig

from levante import Mistral
from levante.models import File
from official_compare import assert_same_attributes
from wire import Recorder, json_answer, same_request, sse_answer, sse_body

AUDIO = b"RIFF\x00\x00WAVEfmt \x00\x01binary\r\n--not-a-boundary\x00\xff"
USAGE = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
TRANSCRIPTION = {
    "model": "voxtral-mini-latest",
    "text": "Hello there",
    "usage": USAGE,
    "language": "en",
}
TRANSCRIPTION_SSE = sse_body(
    ("transcription.language", {"audio_language": "en", "type": "transcription.language"}),
    ("transcription.text.delta", {"text": "Hello", "type": "transcription.text.delta"}),
    ("transcription.text.delta", {"text": " there", "type": "transcription.text.delta"}),
    # a type neither SDK knows: kept, not rejected
    ("transcription.mystery", {"type": "transcription.mystery", "hint": [1, 2]}),
    (
        "transcription.segment",
        {"text": "Hello there", "start": 0.0, "end": 1.5, "type": "transcription.segment"},
    ),
    (
        "transcription.done",
        {**TRANSCRIPTION, "type": "transcription.done"},
    ),
)
PCM = bytes(range(256)) * 4
SPEECH = {"audio_data": base64.b64encode(PCM).decode()}
SPEECH_SSE = sse_body(
    *[
        (
            "speech.audio.delta",
            {
                "audio_data": base64.b64encode(PCM[i : i + 300]).decode(),
                "type": "speech.audio.delta",
            },
        )
        for i in range(0, len(PCM), 300)
    ],
    ("speech.mystery", {"type": "speech.mystery"}),
    ("speech.audio.done", {"usage": USAGE, "type": "speech.audio.done"}),
)

FULL_FORM: dict[str, Any] = {
    "model": "voxtral-mini-latest",
    "language": "fr",
    "temperature": 0.2,
    "diarize": True,
    "context_bias": ["Mistral", "levante"],
    "timestamp_granularities": ["segment", "word"],
    "speaker_references": {"alice": "https://example.com/alice.wav", "bob": "é"},
}
FORMS = {
    "every field, a file": {**FULL_FORM, "file": ("talk.wav", AUDIO)},
    "file_url": {"model": "m", "file_url": "https://example.com/a.mp3"},
    "file_id": {"model": "m", "file_id": "file-1", "diarize": False},
    "an unknown extension": {"model": "m", "file": ("noext", AUDIO)},
    "an mp3": {"model": "m", "file": ("clip.mp3", AUDIO), "language": None},
}


#: The official SDK's async calls run on asyncio only (its hooks use asyncio.to_thread);
#: levante's async twins run on trio too, in tests/test_resources_audio.py.
OFFICIAL_ASYNC = pytest.mark.parametrize("anyio_backend", ["asyncio"])


def clients(recorder: Recorder) -> tuple[OfficialMistral, Mistral]:
    official = OfficialMistral(api_key="k", server_url="http://wire.test", client=recorder.client())
    ours = Mistral(api_key="k", server_url="http://wire.test", client=recorder.client())
    return official, ours


def async_clients(recorder: Recorder) -> tuple[OfficialMistral, Mistral]:
    official = OfficialMistral(
        api_key="k", server_url="http://wire.test", async_client=recorder.async_client()
    )
    ours = Mistral(api_key="k", server_url="http://wire.test", async_client=recorder.async_client())
    return official, ours


def with_files(form: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same form for each SDK, with each SDK's own File."""
    if "file" not in form:
        return form, form
    name, content = form["file"]
    theirs = official_models.File(file_name=name, content=content)
    return {**form, "file": theirs}, {**form, "file": File(content=content, file_name=name)}


# -- transcriptions ------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_transcriptions_complete_wire(form: dict[str, Any]) -> None:
    recorder = Recorder(json_answer(TRANSCRIPTION))
    official, ours = clients(recorder)
    their_form, my_form = with_files(form)
    theirs = official.audio.transcriptions.complete(**their_form)
    mine = ours.audio.transcriptions.complete(**my_form)
    same_request(*recorder.requests)
    assert recorder.last.headers["accept"] == "application/json"
    assert_same_attributes(mine, theirs)


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_transcriptions_stream_wire(form: dict[str, Any]) -> None:
    recorder = Recorder(sse_answer(TRANSCRIPTION_SSE))
    official, ours = clients(recorder)
    their_form, my_form = with_files(form)
    with official.audio.transcriptions.stream(**their_form) as stream:
        their_events = list(stream)
    with ours.audio.transcriptions.stream(**my_form) as events:
        my_events = list(events)
    same_request(*recorder.requests)
    assert recorder.last.headers["accept"] == "text/event-stream"
    assert len(my_events) == len(their_events) == 6
    assert my_events[3].data.is_unknown
    for mine, theirs in zip(my_events, their_events, strict=True):
        assert_same_attributes(mine, theirs)
    assert events.final_response().text == "Hello there"


@pytest.mark.anyio
@OFFICIAL_ASYNC
async def test_transcriptions_async_wire() -> None:
    recorder = Recorder(json_answer(TRANSCRIPTION))
    official, ours = async_clients(recorder)
    their_form, my_form = with_files(FORMS["every field, a file"])
    theirs = await official.audio.transcriptions.complete_async(**their_form)
    mine = await ours.audio.transcriptions.complete_async(**my_form)
    same_request(*recorder.requests)
    assert_same_attributes(mine, theirs)

    recorder.answer = sse_answer(TRANSCRIPTION_SSE)
    their_stream = await official.audio.transcriptions.stream_async(**their_form)
    their_events = [event async for event in their_stream]
    async with ours.audio.transcriptions.stream_async(**my_form) as stream:
        my_events = [event async for event in stream]
    same_request(*recorder.requests[2:])
    for my_event, their_event in zip(my_events, their_events, strict=True):
        assert_same_attributes(my_event, their_event)


def test_a_path_and_a_binary_file_send_the_official_file_part(tmp_path: Path) -> None:
    path = tmp_path / "talk.wav"
    path.write_bytes(AUDIO)
    recorder = Recorder(json_answer(TRANSCRIPTION))
    official, ours = clients(recorder)
    official.audio.transcriptions.complete(
        model="m", file=official_models.File(file_name="talk.wav", content=AUDIO)
    )
    ours.audio.transcriptions.complete(model="m", file=File(content=path))
    with path.open("rb") as handle:
        ours.audio.transcriptions.complete(model="m", file=handle)
    ours.audio.transcriptions.complete(model="m", file=str(path))
    first, *mine = recorder.requests
    for request in mine:
        same_request(first, request)


# -- speech ----------------------------------------------------------------------------------

SPEECH_CALLS = {
    "input only": {"input": "Bonjour"},
    "every field": {
        "input": "Bonjour",
        "model": "voxtral-tts",
        "metadata": {"run": 1},
        "prompt_cache_key": "pk",
        "voice_id": "v-1",
        "expressiveness": 1.5,
        "phoneme_hints": {"levante": ["l", "e"]},
        "conversation_history": [
            {"role": "user", "audio": {"data": "AAAA"}},
            {"role": "assistant", "text": "Salut", "audio": {"data": "BBBB"}},
        ],
        "response_format": "pcm",
        "additional_properties": {"seed": 3},
    },
    "ref_audio, nulls": {"input": "x", "ref_audio": "UklG", "model": None, "voice_id": None},
}


@pytest.mark.parametrize("call", SPEECH_CALLS.values(), ids=list(SPEECH_CALLS))
def test_speech_complete_wire(call: dict[str, Any]) -> None:
    recorder = Recorder(json_answer(SPEECH))
    official, ours = clients(recorder)
    theirs = official.audio.speech.complete(**call)
    mine = ours.audio.speech.complete(**call, stream=False)
    same_request(*recorder.requests)
    assert_same_attributes(mine, theirs)
    assert base64.b64decode(mine.audio_data) == PCM


@pytest.mark.parametrize("call", SPEECH_CALLS.values(), ids=list(SPEECH_CALLS))
def test_speech_stream_wire(call: dict[str, Any]) -> None:
    recorder = Recorder(sse_answer(SPEECH_SSE))
    official, ours = clients(recorder)
    with official.audio.speech.complete(**call, stream=True) as stream:
        their_events = list(stream)
    with ours.audio.speech.complete(**call, stream=True) as events:
        my_events = list(events)
    same_request(*recorder.requests)
    assert recorder.last.headers["accept"] == "text/event-stream"
    for mine, theirs in zip(my_events, their_events, strict=True):
        assert_same_attributes(mine, theirs)
    assert base64.b64decode(events.final_response().audio_data) == PCM


@pytest.mark.anyio
@OFFICIAL_ASYNC
async def test_speech_async_wire() -> None:
    recorder = Recorder(json_answer(SPEECH))
    official, ours = async_clients(recorder)
    call = SPEECH_CALLS["every field"]
    theirs = await official.audio.speech.complete_async(**call)
    mine = await ours.audio.speech.complete_async(**call)
    assert_same_attributes(mine, theirs)
    recorder.answer = sse_answer(SPEECH_SSE)
    their_stream = await official.audio.speech.complete_async(**call, stream=True)
    their_events = [event async for event in their_stream]
    async with await ours.audio.speech.complete_async(**call, stream=True) as stream:
        audio = b"".join([piece async for piece in stream.iter_audio()])
    assert audio == PCM
    assert len(their_events) == stream.stats.events
    same_request(*recorder.requests[:2])
    same_request(*recorder.requests[2:])


# -- per-call options ------------------------------------------------------------------------

OPTION_CALLS = {
    "transcriptions.complete": (
        json_answer(TRANSCRIPTION),
        lambda c, f, **o: c.audio.transcriptions.complete(model="m", file=f, **o),
    ),
    "transcriptions.stream": (
        sse_answer(TRANSCRIPTION_SSE),
        lambda c, f, **o: list(c.audio.transcriptions.stream(model="m", file=f, **o)),
    ),
    "speech.complete": (
        json_answer(SPEECH),
        lambda c, f, **o: c.audio.speech.complete(input="x", **o),
    ),
    "speech.complete(stream=True)": (
        sse_answer(SPEECH_SSE),
        lambda c, f, **o: list(c.audio.speech.complete(input="x", stream=True, **o)),
    ),
}


@pytest.mark.parametrize("name", list(OPTION_CALLS))
def test_per_call_options_wire(name: str) -> None:
    answer, call = OPTION_CALLS[name]
    answers = iter([503, 200, 503, 200])

    def flaky(request: Any) -> Any:
        response = answer(request)
        status = next(answers)
        if status != 200:
            response.status_code = status
            response.headers["content-type"] = "application/json"
            response.stream = type(response.stream)(b'{"message":"busy"}')
        return response

    recorder = Recorder(flaky)
    official, ours = clients(recorder)
    options: dict[str, Any] = {
        "server_url": "http://other.test/base",
        "timeout_ms": 1234,
        "http_headers": {"x-trace": "t-1", "accept-language": "fr"},
    }
    retry = OfficialRetryConfig("backoff", BackoffStrategy(1, 2, 1.5, 1000), False)
    call(official, official_models.File(file_name="a.wav", content=AUDIO), retries=retry, **options)
    call(ours, File(content=AUDIO, file_name="a.wav"), retries=retry, **options)
    assert len(recorder.requests) == 4  # each SDK retried the 503 once
    theirs, mine = recorder.requests[1], recorder.requests[3]
    same_request(theirs, mine)
    assert str(mine.url).startswith("http://other.test/base/v1/audio/")
    for header in ("x-trace", "accept-language"):
        assert mine.headers[header] == theirs.headers[header]
    assert mine.extensions["timeout"] == theirs.extensions["timeout"]
