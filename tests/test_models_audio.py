"""Audio models: transcription and speech requests, responses and stream events.

The payloads are built with the official SDK's own models and dumped with its own
serializer, so their shapes are the official ones; each is decoded by both SDKs and every
official attribute must read the same on levante's object.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistralai.client import models as official
from mistralai.client.utils import serializers

from levante.models import (
    AudioTranscriptionRequest,
    AudioTranscriptionRequestStream,
    SpeechRequest,
    SpeechResponse,
    SpeechStreamAudioDelta,
    SpeechStreamDone,
    SpeechStreamEvents,
    TranscriptionResponse,
    TranscriptionStreamDone,
    TranscriptionStreamEvents,
    TranscriptionStreamLanguage,
    TranscriptionStreamSegmentDelta,
    TranscriptionStreamTextDelta,
    UnknownSpeechStreamEventsData,
    UnknownTranscriptionStreamEventsData,
    decode_speech_event,
    decode_transcription_event,
    request_body,
)
from official_compare import assert_same_attributes, official_dump, official_event

USAGE = official.UsageInfo(prompt_tokens=3, completion_tokens=7, total_tokens=10)
SEGMENTS = [
    official.TranscriptionSegmentChunk(text="Hello", start=0.0, end=0.5),
    official.TranscriptionSegmentChunk(
        text=" world", start=0.5, end=1.25, score=0.9, speaker_id="speaker_1"
    ),
    official.TranscriptionSegmentChunk(text="?", start=None, end=None),
]

TRANSCRIPTION_EVENTS: list[tuple[str, Any, type]] = [
    (
        "transcription.language",
        official.TranscriptionStreamLanguage(audio_language="en"),
        TranscriptionStreamLanguage,
    ),
    (
        "transcription.text.delta",
        official.TranscriptionStreamTextDelta(text=" Hello"),
        TranscriptionStreamTextDelta,
    ),
    (
        "transcription.text.delta",
        official.TranscriptionStreamTextDelta(text='é 🎤 \n"quoted"'),
        TranscriptionStreamTextDelta,
    ),
    (
        "transcription.segment",
        official.TranscriptionStreamSegmentDelta(text="Hello", start=0.0, end=0.5),
        TranscriptionStreamSegmentDelta,
    ),
    (
        "transcription.segment",
        official.TranscriptionStreamSegmentDelta(
            text="Hi", start=1.0, end=None, speaker_id="speaker_0"
        ),
        TranscriptionStreamSegmentDelta,
    ),
    (
        "transcription.done",
        official.TranscriptionStreamDone(
            model="voxtral-mini-latest", text="Hello world?", usage=USAGE, language="en"
        ),
        TranscriptionStreamDone,
    ),
    (
        "transcription.done",
        official.TranscriptionStreamDone(
            model="voxtral-mini-latest",
            text="Hello world?",
            usage=official.UsageInfo(prompt_audio_seconds=12, service_tier="standard"),
            language=None,
            segments=SEGMENTS,
        ),
        TranscriptionStreamDone,
    ),
]


@pytest.mark.parametrize(("event_type", "payload", "expected"), TRANSCRIPTION_EVENTS)
def test_transcription_events_read_like_the_official_sdk(
    event_type: str, payload: Any, expected: type
) -> None:
    data = official_dump(payload)
    ours = decode_transcription_event(event_type, data)
    theirs = official_event(official.TranscriptionStreamEvents, event_type, data)
    assert isinstance(ours, TranscriptionStreamEvents)
    assert type(ours.data) is expected
    assert ours.event == event_type
    assert_same_attributes(ours, theirs)
    # and back to the same JSON
    assert json.loads(ours.data.model_dump_json(by_alias=True)) == json.loads(data)


@pytest.mark.parametrize(
    "data",
    [
        '{"type":"transcription.words","words":[{"w":"hi"}]}',  # a type added later
        '{"type":"transcription.text.delta"}',  # a known type with a field missing
        '{"type":"transcription.segment","text":1}',  # a known type with a wrong field
    ],
)
def test_transcription_events_unknown_to_levante_are_kept_like_the_official_sdk(
    data: str,
) -> None:
    ours = decode_transcription_event("whatever", data)
    theirs = official_event(official.TranscriptionStreamEvents, "whatever", data)
    assert isinstance(ours.data, UnknownTranscriptionStreamEventsData)
    assert ours.data.is_unknown is True
    assert ours.data.raw == data
    assert ours.data.type == json.loads(data)["type"]
    assert_same_attributes(ours, theirs)


@pytest.mark.parametrize("data", ['"text"', "[1]", "not json", ""])
def test_transcription_data_that_is_not_an_object_never_raises(data: str) -> None:
    event = decode_transcription_event("x", data)
    assert isinstance(event.data, UnknownTranscriptionStreamEventsData)
    assert event.data.raw == data
    assert event.data.type is None


def test_transcription_response_reads_like_the_official_sdk() -> None:
    payload = official.TranscriptionResponse(
        model="voxtral-mini-latest",
        text="Hello world?",
        usage=USAGE,
        language="en",
        segments=SEGMENTS,
        extra_field={"kept": True},
    )
    data = official_dump(payload)
    ours = TranscriptionResponse.model_validate_json(data)
    theirs = serializers.unmarshal_json(data, official.TranscriptionResponse)
    assert_same_attributes(ours, theirs)
    assert ours.model_extra == {"extra_field": {"kept": True}}
    assert json.loads(ours.model_dump_json(by_alias=True)) == json.loads(data)


def test_wrapper_validated_from_dicts_picks_the_class_by_type() -> None:
    event = TranscriptionStreamEvents.model_validate(
        {"event": "e", "data": {"type": "transcription.text.delta", "text": "x"}}
    )
    assert isinstance(event.data, TranscriptionStreamTextDelta)
    unknown = TranscriptionStreamEvents.model_validate({"event": "e", "data": {"type": "new"}})
    assert isinstance(unknown.data, UnknownTranscriptionStreamEventsData)


# --- speech ---------------------------------------------------------------------------

SPEECH_EVENTS: list[tuple[str, Any, type]] = [
    (
        "speech.audio.delta",
        official.SpeechStreamAudioDelta(audio_data="UklGRiQAAABXQVZF"),
        SpeechStreamAudioDelta,
    ),
    ("speech.audio.delta", official.SpeechStreamAudioDelta(audio_data=""), SpeechStreamAudioDelta),
    ("speech.audio.done", official.SpeechStreamDone(usage=USAGE), SpeechStreamDone),
]


@pytest.mark.parametrize(("event_type", "payload", "expected"), SPEECH_EVENTS)
def test_speech_events_read_like_the_official_sdk(
    event_type: str, payload: Any, expected: type
) -> None:
    data = official_dump(payload)
    ours = decode_speech_event(event_type, data)
    theirs = official_event(official.SpeechStreamEvents, event_type, data)
    assert isinstance(ours, SpeechStreamEvents)
    assert type(ours.data) is expected
    assert_same_attributes(ours, theirs)


def test_unknown_speech_events_are_kept() -> None:
    data = '{"type":"speech.audio.marker","at":1.5}'
    ours = decode_speech_event("speech.audio.marker", data)
    theirs = official_event(official.SpeechStreamEvents, "speech.audio.marker", data)
    assert isinstance(ours.data, UnknownSpeechStreamEventsData)
    assert ours.data.model_extra == {"at": 1.5}
    assert_same_attributes(ours, theirs)


def test_speech_response_reads_like_the_official_sdk() -> None:
    data = official_dump(official.SpeechResponse(audio_data="AAEC"))
    ours = SpeechResponse.model_validate_json(data)
    assert_same_attributes(ours, serializers.unmarshal_json(data, official.SpeechResponse))


# --- request bodies -------------------------------------------------------------------

SPEECH_REQUESTS: list[dict[str, Any]] = [
    {"input": "hi"},
    {"input": "hi", "stream": True},
    {"input": "hi", "model": "voxtral-tts", "voice_id": "v1", "response_format": "mp3"},
    {"input": "hi", "model": None, "metadata": None, "expressiveness": 1.5},
    {"input": "hi", "phoneme_hints": {"Mistral": ["m", "\u026a", "s"]}},
    {
        "input": "hi",
        "voice_id": "v1",
        "conversation_history": [
            {"role": "user", "audio": {"data": "AAA="}},
            {"role": "assistant", "text": "Hello", "audio": {"data": "AQE="}},
        ],
    },
]


@pytest.mark.parametrize("fields", SPEECH_REQUESTS)
def test_speech_request_body_is_the_official_one(fields: dict[str, Any]) -> None:
    theirs = official.SpeechRequest(**fields)
    expected = json.loads(serializers.marshal_json(theirs, official.SpeechRequest) or "null")
    # the official method passes stream=False when the caller gives none
    if "stream" not in fields:
        expected.setdefault("stream", False)
    assert request_body(SpeechRequest(**fields)) == expected


def test_speech_request_keeps_additional_properties() -> None:
    body = request_body(SpeechRequest(input="hi", seed=3))  # type: ignore[call-arg]
    assert body == {"input": "hi", "stream": False, "seed": 3}


TRANSCRIPTION_REQUESTS: list[dict[str, Any]] = [
    {"model": "m", "file_url": "https://x/a.mp3"},
    {"model": "m", "file_id": "f1", "language": "fr", "temperature": 0.2},
    {"model": "m", "file_url": "u", "language": None},
    {
        "model": "m",
        "file_url": "u",
        "diarize": True,
        "context_bias": ["Mistral", "Voxtral"],
        "speaker_references": {"alice": "https://x/alice.wav"},
        "timestamp_granularities": ["segment", "word"],
    },
]


@pytest.mark.parametrize("fields", TRANSCRIPTION_REQUESTS)
@pytest.mark.parametrize(
    ("ours_cls", "theirs_cls"),
    [
        (AudioTranscriptionRequest, official.AudioTranscriptionRequest),
        (AudioTranscriptionRequestStream, official.AudioTranscriptionRequestStream),
    ],
)
def test_transcription_request_fields_are_the_official_ones(
    fields: dict[str, Any], ours_cls: type, theirs_cls: type
) -> None:
    theirs = theirs_cls(**fields)
    assert request_body(ours_cls(**fields)) == theirs.model_dump(mode="json", by_alias=True)


def test_transcription_request_rejects_unknown_fields() -> None:
    with pytest.raises(ValueError, match="diarise"):
        AudioTranscriptionRequest(model="m", diarise=True)  # type: ignore[call-arg]
