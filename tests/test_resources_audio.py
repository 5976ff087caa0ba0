"""``client.audio`` against the dev server over real sockets: every call and its async twin,
the stream helpers, the stream lifecycle under the terminal-event end rule, and bad input
refused before any request."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from levante import Mistral
from levante.devserver import create_app
from levante.devserver.audio import TRANSCRIPT, segments
from levante.errors import IncompleteStreamError, StreamAPIError
from levante.models import (
    File,
    SpeechResponse,
    TranscriptionResponse,
    TranscriptionStreamDone,
    TranscriptionStreamLanguage,
    TranscriptionStreamSegmentDelta,
    TranscriptionStreamTextDelta,
)
from levante.resources import SpeechStream, TranscriptionStream
from liveserver import CountingApp, LiveServer, live_server

AUDIO = b"RIFF....any bytes will do"
MODEL = "voxtral-mini-latest"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(create_app()) as srv:
        yield srv


@pytest.fixture
def client(server: LiveServer) -> Iterator[Mistral]:
    with Mistral(server_url=server.url, retries=0, timeout=10) as c:
        yield c


def fault(spec: str) -> dict[str, Any]:
    return {"http_headers": {"x-levante-fault": spec}}


# -- transcriptions ------------------------------------------------------------------------


def test_transcribe_every_kind_of_file(client: Mistral, tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(AUDIO)
    with path.open("rb") as handle:
        sources: list[dict[str, Any]] = [
            {"file": File(content=AUDIO, file_name="clip.wav")},
            {"file": path},
            {"file": handle},
            {"file": {"file_name": "clip.mp3", "content": AUDIO}},
            {"file_url": "https://example.com/clip.mp3"},
            {"file_id": "file-123"},
        ]
        for source in sources:
            reply = client.audio.transcriptions.complete(model=MODEL, language="fr", **source)
            assert isinstance(reply, TranscriptionResponse)
            assert (reply.text, reply.language, reply.model) == (TRANSCRIPT, "fr", MODEL)
            assert reply.usage.completion_tokens == len(TRANSCRIPT.split())


def test_transcription_stream_types_every_event(client: Mistral) -> None:
    whole = client.audio.transcriptions.complete(
        model=MODEL, file=AUDIO, timestamp_granularities=["segment"], diarize=True
    )
    with client.audio.transcriptions.stream(
        model=MODEL, file=AUDIO, timestamp_granularities=["segment"], diarize=True
    ) as stream:
        assert isinstance(stream, TranscriptionStream)
        events = list(stream)
    kinds = [type(event.data) for event in events]
    assert kinds[0] is TranscriptionStreamLanguage
    assert kinds[-1] is TranscriptionStreamDone
    deltas = [e.data.text for e in events if isinstance(e.data, TranscriptionStreamTextDelta)]
    assert "".join(deltas) == TRANSCRIPT
    found = [e.data for e in events if isinstance(e.data, TranscriptionStreamSegmentDelta)]
    assert [(s.text, s.start, s.end) for s in found] == [
        (s.text, s.start, s.end) for s in segments("segment")
    ]
    assert {s.speaker_id for s in found} == {"speaker_1"}
    assert [event.event for event in events] == [event.data.type for event in events]
    # the stream rebuilt what the non-streamed call returns
    assert stream.final_response() == whole
    assert stream.closed


def test_transcription_text_stream_then_final_response(client: Mistral) -> None:
    with client.audio.transcriptions.stream(model=MODEL, file_url="https://x/a.mp3") as stream:
        first = next(stream.text_stream)
        final = stream.final_response()  # reads the rest
    assert first == TRANSCRIPT.split()[0] + " "
    assert final.text == TRANSCRIPT and final.model == MODEL and final.language == "en"


@pytest.mark.anyio
async def test_transcriptions_async(server: LiveServer) -> None:
    async with Mistral(server_url=server.url, retries=0, timeout=10) as client:
        whole = await client.audio.transcriptions.complete_async(
            model=MODEL, file=File(content=AUDIO, file_name="a.ogg")
        )
        assert whole.text == TRANSCRIPT
        async with client.audio.transcriptions.stream_async(model=MODEL, file=AUDIO) as stream:
            pieces = [piece async for piece in stream.text_stream]
        assert "".join(pieces) == TRANSCRIPT
        stream = await client.audio.transcriptions.stream_async(model=MODEL, file=AUDIO)
        async with stream:
            final = await stream.final_response()
        assert final == whole.model_copy(update={"segments": None})
        assert stream.closed


# -- speech --------------------------------------------------------------------------------


def wav_frames(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as reader:
        return reader.readframes(reader.getnframes())


def test_speech_complete_and_stream_give_the_same_audio(client: Mistral, tmp_path: Path) -> None:
    whole = client.audio.speech.complete(input="Bonjour le monde", response_format="wav")
    assert isinstance(whole, SpeechResponse)
    audio = base64.b64decode(whole.audio_data)
    assert wav_frames(audio)  # a real WAV
    with client.audio.speech.complete(
        input="Bonjour le monde", response_format="wav", stream=True
    ) as stream:
        assert isinstance(stream, SpeechStream)
        assert b"".join(stream.iter_audio()) == audio
    assert stream.final_response() == whole
    usage = stream.accumulator.usage
    assert usage is not None and usage.total_tokens > 0

    target = tmp_path / "out.wav"
    with client.audio.speech.complete(input="Bonjour le monde", stream=True) as stream:
        assert stream.write_audio(target) == len(audio)
    assert target.read_bytes() == audio
    buffer = io.BytesIO()
    with client.audio.speech.complete(input="Bonjour le monde", stream=True) as stream:
        stream.write_audio(buffer)
    assert buffer.getvalue() == audio


@pytest.mark.anyio
async def test_speech_async(server: LiveServer, tmp_path: Path) -> None:
    async with Mistral(server_url=server.url, retries=0, timeout=10) as client:
        whole = await client.audio.speech.complete_async(input="Salut", response_format="pcm")
        audio = base64.b64decode(whole.audio_data)
        stream = await client.audio.speech.complete_async(
            input="Salut", response_format="pcm", stream=True
        )
        async with stream:
            assert b"".join([piece async for piece in stream.iter_audio()]) == audio
        assert stream.closed
        target = tmp_path / "out.pcm"
        async with await client.audio.speech.complete_async(
            input="Salut", response_format="pcm", stream=True
        ) as stream:
            assert await stream.write_audio(target) == len(audio)
        assert target.read_bytes() == audio
        async with await client.audio.speech.complete_async(
            input="Salut", response_format="pcm", stream=True
        ) as stream:
            assert await stream.final_response() == whole


# -- lifecycle under the terminal-event end rule ---------------------------------------------


def test_break_releases_the_connection(client: Mistral, server: LiveServer) -> None:
    with client.audio.transcriptions.stream(model=MODEL, file=AUDIO) as stream:
        for _ in stream:
            break
    assert stream.closed
    with client.audio.speech.complete(input="x" * 200, stream=True) as speech:
        next(iter(speech))
    assert speech.closed
    # the pool keeps nothing half-read: the next call still works
    assert client.audio.transcriptions.complete(model=MODEL, file=AUDIO).text == TRANSCRIPT


def test_in_stream_error_and_truncation(client: Mistral) -> None:
    with (
        pytest.raises(StreamAPIError) as caught,
        client.audio.transcriptions.stream(
            model=MODEL, file=AUDIO, **fault("error-after=3")
        ) as stream,
    ):
        list(stream)
    assert caught.value.events_delivered == 3
    assert stream.closed
    no_done = fault("no-done")
    with (
        pytest.raises(IncompleteStreamError, match=r"transcription\.done"),
        client.audio.transcriptions.stream(model=MODEL, file=AUDIO, **no_done) as s,
    ):
        list(s)
    assert s.closed
    with (
        pytest.raises(IncompleteStreamError),
        client.audio.speech.complete(
            input="Bonjour", stream=True, **fault("disconnect-mid-event=1")
        ) as speech,
    ):
        list(speech)
    assert speech.closed


@pytest.mark.anyio
async def test_cancel_releases_the_connection(server: LiveServer) -> None:
    async with Mistral(server_url=server.url, retries=0, timeout=10) as client:
        stream = await client.audio.transcriptions.stream_async(
            model=MODEL, file=AUDIO, **fault("stall-after=2:30")
        )
        with anyio.move_on_after(0.3) as scope:
            async with stream:
                async for _ in stream:
                    pass
        assert scope.cancelled_caught
        assert stream.closed
        assert stream.stats.events == 2


# -- bad input: refused before any request ----------------------------------------------------


class TextFile(io.StringIO):
    name = "clip.wav"


BAD_CALLS: dict[str, tuple[Any, type[Exception], str]] = {
    "a missing file": (
        lambda c: c.audio.transcriptions.complete(model=MODEL, file=Path("/no/such/clip.wav")),
        ValueError,
        "cannot read",
    ),
    "a missing path in File": (
        lambda c: c.audio.transcriptions.stream(
            model=MODEL, file=File(content="/no/such/clip.wav")
        ),
        ValueError,
        "cannot read",
    ),
    "a text-mode file": (
        lambda c: c.audio.transcriptions.complete(model=MODEL, file=TextFile("words")),
        ValueError,
        "binary mode",
    ),
    "a text-mode File": (
        lambda c: c.audio.transcriptions.stream(model=MODEL, file=File(content=io.StringIO("x"))),
        ValueError,
        "binary mode",
    ),
    "stream=True to complete": (
        lambda c: c.audio.transcriptions.complete(model=MODEL, file=AUDIO, stream=True),
        ValueError,
        "does not stream",
    ),
    "stream=False to stream": (
        lambda c: c.audio.transcriptions.stream(model=MODEL, file=AUDIO, stream=False),
        ValueError,
        "always streams",
    ),
    "a misspelt speech keyword": (
        lambda c: c.audio.speech.complete(input="x", voice="v"),
        TypeError,
        "voice",
    ),
    "a bad granularity type": (
        lambda c: c.audio.transcriptions.complete(model=MODEL, file=AUDIO, temperature="hot"),
        ValueError,
        "temperature",
    ),
    "a bad per-call option": (
        lambda c: c.audio.speech.complete(input="x", stream=True, timeout_ms=-5),
        ValueError,
        "timeout_ms",
    ),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_input_fails_before_any_request(
    counted_dev_server: tuple[CountingApp, LiveServer], name: str
) -> None:
    app, server = counted_dev_server
    call, error, phrase = BAD_CALLS[name]
    with Mistral(server_url=server.url, retries=0) as client, pytest.raises(error, match=phrase):
        call(client)
    assert app.seen == 0
    client.audio.transcriptions.complete(model=MODEL, file=AUDIO)  # the count works
    assert app.seen == 1


@pytest.mark.anyio
async def test_bad_input_fails_before_any_request_async(
    counted_dev_server: tuple[CountingApp, LiveServer],
) -> None:
    app, server = counted_dev_server
    async with Mistral(server_url=server.url, retries=0) as client:
        with pytest.raises(ValueError, match="cannot read"):
            client.audio.transcriptions.stream_async(model=MODEL, file=Path("/no/such.wav"))
        with pytest.raises(ValueError, match="binary mode"):
            await client.audio.transcriptions.complete_async(model=MODEL, file=io.StringIO("x"))
        with pytest.raises(TypeError, match="voice"):
            await client.audio.speech.complete_async(input="x", voice="v")  # type: ignore[call-overload]
    assert app.seen == 0
