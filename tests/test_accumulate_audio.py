"""Audio streams: TranscriptionAccumulator, SpeechAccumulator and the audio byte helpers."""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from levante.accumulate_audio import (
    SpeechAccumulator,
    TranscriptionAccumulator,
    aiter_audio_bytes,
    audio_bytes,
    awrite_audio,
    iter_audio_bytes,
    transcription_text,
    write_audio,
)
from levante.models import (
    SpeechStreamEvents,
    TranscriptionResponse,
    TranscriptionStreamEvents,
    UsageInfo,
    decode_speech_event,
    decode_transcription_event,
)


def tev(data: dict[str, Any]) -> TranscriptionStreamEvents:
    return decode_transcription_event(str(data["type"]), json.dumps(data))


def sev(data: dict[str, Any]) -> SpeechStreamEvents:
    return decode_speech_event(str(data["type"]), json.dumps(data))


USAGE = {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}
PIECES = ["Hel", "lo", " wor", "ld", "!"]


def transcription_stream(*, done: dict[str, Any] | None) -> list[TranscriptionStreamEvents]:
    events = [tev({"type": "transcription.language", "audio_language": "en"})]
    events += [tev({"type": "transcription.text.delta", "text": piece}) for piece in PIECES]
    events.append(tev({"type": "transcription.segment", "text": "Hello", "start": 0.0, "end": 0.4}))
    events.append(
        tev(
            {
                "type": "transcription.segment",
                "text": " world!",
                "start": 0.4,
                "end": 1.0,
                "speaker_id": "s1",
            }
        )
    )
    events.append(tev({"type": "transcription.future", "x": 1}))
    if done is not None:
        events.append(tev({"type": "transcription.done", **done}))
    return events


def test_the_done_event_gives_the_response_a_non_streamed_call_returns() -> None:
    done = {
        "model": "voxtral-mini-latest",
        "text": "Hello world!",
        "usage": USAGE,
        "language": "en",
        "segments": [
            {"type": "transcription_segment", "text": "Hello world!", "start": 0.0, "end": 1.0}
        ],
    }
    accumulator = TranscriptionAccumulator()
    for event in transcription_stream(done=done):
        accumulator.add(event)
    expected = TranscriptionResponse.model_validate(
        {key: value for key, value in done.items() if key != "type"}
    )
    assert accumulator.snapshot() == expected
    assert accumulator.event_count == len(PIECES) + 5


def test_without_done_the_deltas_are_rebuilt() -> None:
    accumulator = TranscriptionAccumulator()
    texts = []
    for event in transcription_stream(done=None):
        accumulator.add(event)
        texts.append(accumulator.text)
    snapshot = accumulator.snapshot()
    assert snapshot.text == "Hello world!"
    assert texts[1:6] == ["Hel", "Hello", "Hello wor", "Hello world", "Hello world!"]
    assert snapshot.language == "en"
    assert snapshot.model == ""
    assert snapshot.usage == UsageInfo()
    assert snapshot.segments is not None
    assert [(s.text, s.start, s.end, s.speaker_id) for s in snapshot.segments] == [
        ("Hello", 0.0, 0.4, None),
        (" world!", 0.4, 1.0, "s1"),
    ]
    # an unset speaker_id stays unset on the wire, a sent one is kept
    assert "speaker_id" not in snapshot.segments[0].model_dump(by_alias=True)
    assert snapshot.segments[1].model_dump(by_alias=True)["speaker_id"] == "s1"


def test_a_done_event_without_segments_keeps_the_streamed_ones() -> None:
    done = {"model": "m", "text": "Hello world!", "usage": USAGE, "language": None}
    accumulator = TranscriptionAccumulator()
    for event in transcription_stream(done=done):
        accumulator.add(event)
    snapshot = accumulator.snapshot()
    assert snapshot.segments is not None and len(snapshot.segments) == 2
    assert snapshot.language == "en"  # the language event fills what done left null
    assert snapshot.usage.total_tokens == 10


def test_snapshots_are_independent() -> None:
    accumulator = TranscriptionAccumulator()
    events = transcription_stream(done=None)
    for event in events[:3]:
        accumulator.add(event)
    first = accumulator.snapshot()
    for event in events[3:]:
        accumulator.add(event)
    assert first.text == "Hello"
    assert accumulator.snapshot().text == "Hello world!"


def test_text_stream_helper_yields_only_text_pieces() -> None:
    texts = [transcription_text(event) for event in transcription_stream(done=None)]
    assert [text for text in texts if text is not None] == PIECES


def test_the_accumulator_rejects_other_events() -> None:
    with pytest.raises(TypeError, match="TranscriptionStreamEvents"):
        TranscriptionAccumulator().add(sev({"type": "speech.audio.done", "usage": USAGE}))  # type: ignore[arg-type]


# --- speech ---------------------------------------------------------------------------

AUDIO = [bytes(range(i, i + 7)) for i in range(0, 60, 7)]


def speech_stream() -> list[SpeechStreamEvents]:
    events = [
        sev({"type": "speech.audio.delta", "audio_data": base64.b64encode(piece).decode()})
        for piece in AUDIO
    ]
    events.insert(3, sev({"type": "speech.audio.delta", "audio_data": ""}))
    events.insert(5, sev({"type": "speech.audio.marker", "at": 2}))
    events.append(sev({"type": "speech.audio.done", "usage": USAGE}))
    return events


def test_audio_bytes_are_decoded_in_order() -> None:
    assert list(iter_audio_bytes(speech_stream())) == AUDIO
    assert audio_bytes(speech_stream()[-1]) is None


def test_invalid_base64_is_an_error() -> None:
    bad = sev({"type": "speech.audio.delta", "audio_data": "not base64!"})
    with pytest.raises(binascii.Error):
        list(iter_audio_bytes([bad]))


def test_write_audio_to_a_path_as_it_arrives(tmp_path: Path) -> None:
    target = tmp_path / "speech.wav"
    sizes: list[int] = []

    def watched() -> Iterator[SpeechStreamEvents]:
        for event in speech_stream():
            sizes.append(target.stat().st_size if target.exists() else 0)
            yield event

    assert write_audio(watched(), target) == sum(map(len, AUDIO))
    assert target.read_bytes() == b"".join(AUDIO)
    # the file grew while the stream was still being read, not only at the end
    assert sizes[2] == len(AUDIO[0]) + len(AUDIO[1])


def test_write_audio_to_a_file_object_leaves_it_open() -> None:
    buffer = io.BytesIO()
    assert write_audio(speech_stream(), buffer) == sum(map(len, AUDIO))
    assert buffer.getvalue() == b"".join(AUDIO)
    assert not buffer.closed


async def _aevents() -> AsyncIterator[SpeechStreamEvents]:
    for event in speech_stream():
        await anyio.lowlevel.checkpoint()
        yield event


@pytest.mark.anyio
async def test_async_audio_bytes() -> None:
    with anyio.fail_after(10):
        assert [chunk async for chunk in aiter_audio_bytes(_aevents())] == AUDIO


@pytest.mark.anyio
async def test_awrite_audio_to_a_path(tmp_path: Path) -> None:
    target = tmp_path / "speech.mp3"
    with anyio.fail_after(10):
        written = await awrite_audio(_aevents(), target)
    assert written == sum(map(len, AUDIO))
    assert target.read_bytes() == b"".join(AUDIO)


@pytest.mark.anyio
async def test_awrite_audio_to_sync_and_async_file_objects(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with anyio.fail_after(10):
        await awrite_audio(_aevents(), buffer)
        async with await anyio.open_file(tmp_path / "a.raw", "wb") as handle:
            await awrite_audio(_aevents(), handle)
    assert buffer.getvalue() == b"".join(AUDIO)
    assert (tmp_path / "a.raw").read_bytes() == b"".join(AUDIO)


def test_speech_accumulator_rebuilds_the_non_streamed_response() -> None:
    accumulator = SpeechAccumulator()
    assert accumulator.usage is None
    for event in speech_stream():
        accumulator.add(event)
    assert accumulator.audio == b"".join(AUDIO)
    assert base64.b64decode(accumulator.snapshot().audio_data) == b"".join(AUDIO)
    assert accumulator.usage == UsageInfo(**USAGE)
    with pytest.raises(TypeError, match="SpeechStreamEvents"):
        accumulator.add(tev({"type": "transcription.language", "audio_language": "en"}))  # type: ignore[arg-type]
