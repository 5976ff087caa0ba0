"""Audio on the dev server over real sockets: transcription (multipart, streamed or not) and
speech (a WAV tone, streamed or not), as raw HTTP and through the official mistralai SDK."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator

import httpx2
import pytest
from mistralai.client import Mistral
from mistralai.client import models as official

from levante.devserver import EmbeddedServer
from levante.devserver.audio import SAMPLE_RATE, TRANSCRIPT, segments
from levante.sse import SSEDecoder

AUDIO = b"RIFF....not really audio"


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(api_key="audio-key") as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    headers = {"authorization": "Bearer audio-key"}
    with httpx2.Client(base_url=server.url, timeout=10, headers=headers) as c:
        yield c


@pytest.fixture
def sdk(server: EmbeddedServer) -> Iterator[Mistral]:
    with Mistral(api_key="audio-key", server_url=server.url) as c:
        yield c


def transcribe(client: httpx2.Client, **fields: str | list[str]) -> httpx2.Response:
    """A multipart transcription request; the audio is a file part unless a field names it."""
    data = {"model": "voxtral-mini-latest", "stream": "false", "diarize": "false", **fields}
    if "file_url" in fields or "file_id" in fields:
        # multipart without a file part: the fields go as plain parts
        parts = {name: (None, value) for name, value in data.items() if isinstance(value, str)}
        return client.post("/v1/audio/transcriptions", files=parts)
    files = {"file": ("clip.wav", AUDIO, "audio/wav")}
    return client.post("/v1/audio/transcriptions", data=data, files=files)


def test_transcription_json(client: httpx2.Client) -> None:
    response = transcribe(client, language="fr")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == TRANSCRIPT
    assert body["model"] == "voxtral-mini-latest"
    assert body["language"] == "fr"
    assert body["usage"]["completion_tokens"] == len(TRANSCRIPT.split())
    assert "segments" not in body
    by_url = transcribe(client, file_url="https://example.com/a.mp3")
    assert by_url.json()["text"] == TRANSCRIPT


def test_transcription_segments_and_speakers(client: httpx2.Client) -> None:
    body = transcribe(client, timestamp_granularities=["segment"], diarize="true").json()
    got = [(s["text"], s["start"], s["end"]) for s in body["segments"]]
    assert got == [(s.text, s.start, s.end) for s in segments("segment")]
    assert " ".join(text for text, _, _ in got) == TRANSCRIPT
    assert {s["type"] for s in body["segments"]} == {"transcription_segment"}
    assert {s["speaker_id"] for s in body["segments"]} == {"speaker_1"}
    words = transcribe(client, timestamp_granularities=["word"]).json()["segments"]
    assert len(words) == len(TRANSCRIPT.split())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"model": ""}, "model"),
        ({"stream": "yes"}, "stream"),
        ({"timestamp_granularities": ["minute"]}, "timestamp_granularities"),
        ({"speaker_references": "{nope"}, "speaker_references"),
        ({"file_id": "f1"}, "file"),  # a file part and a file_id: two sources
    ],
)
def test_transcription_rejects_bad_forms(
    client: httpx2.Client, fields: dict[str, str], field: str
) -> None:
    data = {"model": "voxtral-mini-latest", **fields}
    response = client.post("/v1/audio/transcriptions", data=data, files={"file": ("a.wav", AUDIO)})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_transcription_stream_events(client: httpx2.Client) -> None:
    response = transcribe(client, stream="true", timestamp_granularities=["segment"])
    assert response.headers["content-type"].startswith("text/event-stream")
    events = SSEDecoder().feed(response.content)
    kinds = [e.event for e in events]
    assert kinds[0] == "transcription.language"
    assert kinds[-1] == "transcription.done"
    deltas = [json.loads(e.data)["text"] for e in events if e.event == "transcription.text.delta"]
    assert "".join(deltas) == TRANSCRIPT
    assert kinds.count("transcription.segment") == len(segments("segment"))
    assert kinds.index("transcription.segment") > kinds.index("transcription.text.delta")
    assert all(json.loads(e.data)["type"] == e.event for e in events)
    done = json.loads(events[-1].data)
    assert done["text"] == TRANSCRIPT and done["usage"]["total_tokens"] > 0


def test_official_sdk_transcription_complete_and_stream(sdk: Mistral) -> None:
    result = sdk.audio.transcriptions.complete(
        model="voxtral-mini-latest",
        file=official.File(content=AUDIO, file_name="clip.mp3"),
        timestamp_granularities=["segment"],
        context_bias=["levante", "Tarifa"],
    )
    assert result.text == TRANSCRIPT
    assert result.segments is not None and len(result.segments) == 3
    stream = sdk.audio.transcriptions.stream(
        model="voxtral-mini-latest", file_url="https://example.com/a.mp3"
    )
    with stream:
        events = list(stream)
    assert isinstance(events[0].data, official.TranscriptionStreamLanguage)
    text = "".join(
        e.data.text for e in events if isinstance(e.data, official.TranscriptionStreamTextDelta)
    )
    assert text == TRANSCRIPT
    done = events[-1].data
    assert isinstance(done, official.TranscriptionStreamDone)
    assert done.text == TRANSCRIPT and done.usage.completion_tokens == len(TRANSCRIPT.split())


def wav_frames(audio: bytes) -> int:
    with wave.open(io.BytesIO(audio)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE)
        return w.getnframes()


def test_speech_json_and_stream_give_the_same_wav(client: httpx2.Client) -> None:
    body = {"input": "Hello from the levante", "voice_id": "en_paul_neutral"}
    whole = client.post("/v1/audio/speech", json=body)
    assert whole.status_code == 200
    audio = base64.b64decode(whole.json()["audio_data"])
    assert wav_frames(audio) > 0
    streamed = client.post("/v1/audio/speech", json={**body, "stream": True})
    events = SSEDecoder().feed(streamed.content)
    assert [e.event for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert len(events) > 2
    pieces = [base64.b64decode(json.loads(e.data)["audio_data"]) for e in events[:-1]]
    assert b"".join(pieces) == audio
    done = json.loads(events[-1].data)
    assert events[-1].event == "speech.audio.done" == done["type"]
    assert done["usage"]["completion_tokens"] == len(pieces)
    pcm = client.post("/v1/audio/speech", json={**body, "response_format": "pcm"}).json()
    assert base64.b64decode(pcm["audio_data"]) == audio[44:]


def test_official_sdk_speech_complete_and_stream(sdk: Mistral) -> None:
    result = sdk.audio.speech.complete(input="Hello from the levante", model="voxtral-tts")
    audio = base64.b64decode(result.audio_data)
    assert wav_frames(audio) > 0
    stream = sdk.audio.speech.complete(input="Hello from the levante", stream=True)
    with stream:
        events = list(stream)
    pieces = [
        base64.b64decode(e.data.audio_data)
        for e in events
        if isinstance(e.data, official.SpeechStreamAudioDelta)
    ]
    assert b"".join(pieces) == audio
    assert isinstance(events[-1].data, official.SpeechStreamDone)
    assert events[-1].data.usage.completion_tokens == len(pieces)
