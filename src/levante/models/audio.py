"""Audio: transcription (speech to text) and speech (text to speech).

Requests, responses and stream events of ``POST /v1/audio/transcriptions`` and
``POST /v1/audio/speech``, with the official SDK's names and fields. A stream event is
``(event, data)`` as in the official SDK: ``event`` is the SSE event type and ``data`` is
typed by its own ``type`` field (:func:`decode_transcription_event`,
:func:`decode_speech_event`: one JSON parse each). A type levante does not know, or a
payload that does not fit its type, is kept whole in an ``Unknown...`` class whose
``is_unknown`` is ``True``: the stream goes on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, TypeAdapter

from ._base import MistralModel, Nullable, RequestModel, SentAsNull
from ._events import UnknownEventData, decode_open_union, type_tag, wrap_event
from .chat import UsageInfo

__all__ = [
    "AudioTranscriptionRequest",
    "AudioTranscriptionRequestStream",
    "RawAudio",
    "SpeechAssistantTurn",
    "SpeechRequest",
    "SpeechResponse",
    "SpeechStreamAudioDelta",
    "SpeechStreamDone",
    "SpeechStreamEvents",
    "SpeechStreamEventsData",
    "SpeechTurn",
    "SpeechUserTurn",
    "TranscriptionResponse",
    "TranscriptionSegmentChunk",
    "TranscriptionStreamDone",
    "TranscriptionStreamEvents",
    "TranscriptionStreamEventsData",
    "TranscriptionStreamLanguage",
    "TranscriptionStreamSegmentDelta",
    "TranscriptionStreamTextDelta",
    "UnknownSpeechStreamEventsData",
    "UnknownTranscriptionStreamEventsData",
    "decode_speech_event",
    "decode_transcription_event",
]


# --- transcription: request -----------------------------------------------------------


class AudioTranscriptionRequest(RequestModel):
    """The fields of ``POST /v1/audio/transcriptions`` (a multipart form), not streamed.

    ``stream`` and ``diarize`` are always sent, as the official SDK sends them; give one
    of ``file`` (a :class:`levante.models.File`, sent as the file part), ``file_url`` or
    ``file_id``. ``speaker_references`` is sent as one JSON part; ``context_bias`` and
    ``timestamp_granularities`` (``"segment"``, ``"word"``) as repeated parts.
    """

    model: str
    file: Any = None
    file_url: Nullable[str] = None
    file_id: Nullable[str] = None
    language: Nullable[str] = None
    """The audio's language (e.g. ``"en"``), when known: it can improve accuracy."""
    temperature: Nullable[float] = None
    stream: bool = False
    diarize: bool = False
    context_bias: list[str] | None = None
    speaker_references: dict[str, str] | None = None
    timestamp_granularities: list[str] | None = None


class AudioTranscriptionRequestStream(AudioTranscriptionRequest):
    """The same form, streamed (``stream`` is ``true``)."""

    stream: bool = True


# --- transcription: response and events -----------------------------------------------


class TranscriptionSegmentChunk(MistralModel):
    """A timed piece of a transcription (with ``timestamp_granularities=["segment"]``).

    ``start`` and ``end`` are in seconds; ``speaker_id`` is set when ``diarize`` was.
    """

    text: str
    start: SentAsNull[float] = None
    end: SentAsNull[float] = None
    type: str = "transcription_segment"
    score: Nullable[float] = None
    speaker_id: Nullable[str] = None


class TranscriptionResponse(MistralModel):
    """A complete transcription: the body of a non-streamed call, or
    :class:`levante.TranscriptionAccumulator`'s snapshot of a stream."""

    model: str
    text: str
    usage: UsageInfo = Field(default_factory=UsageInfo)
    language: SentAsNull[str] = None
    segments: list[TranscriptionSegmentChunk] | None = None


class TranscriptionStreamLanguage(MistralModel):
    """``transcription.language``: the language detected in the audio."""

    audio_language: str
    type: Literal["transcription.language"] = "transcription.language"


class TranscriptionStreamTextDelta(MistralModel):
    """``transcription.text.delta``: the next piece of the transcript."""

    text: str
    type: Literal["transcription.text.delta"] = "transcription.text.delta"


class TranscriptionStreamSegmentDelta(MistralModel):
    """``transcription.segment``: a finished timed segment."""

    text: str
    start: SentAsNull[float] = None
    end: SentAsNull[float] = None
    type: Literal["transcription.segment"] = "transcription.segment"
    speaker_id: Nullable[str] = None


class TranscriptionStreamDone(MistralModel):
    """``transcription.done``: the whole transcription and the usage; the last event."""

    model: str
    text: str
    usage: UsageInfo = Field(default_factory=UsageInfo)
    language: SentAsNull[str] = None
    segments: list[TranscriptionSegmentChunk] | None = None
    type: Literal["transcription.done"] = "transcription.done"


class UnknownTranscriptionStreamEventsData(UnknownEventData):
    """A transcription event levante cannot type; everything is kept (see
    :class:`~levante.models.UnknownEventData`)."""


_KnownTranscriptionData = Annotated[
    TranscriptionStreamLanguage
    | TranscriptionStreamTextDelta
    | TranscriptionStreamSegmentDelta
    | TranscriptionStreamDone,
    Field(discriminator="type"),
]
_TRANSCRIPTION_DATA: TypeAdapter[Any] = TypeAdapter(_KnownTranscriptionData)


TranscriptionStreamEventsData = Annotated[
    Annotated[TranscriptionStreamLanguage, Tag("transcription.language")]
    | Annotated[TranscriptionStreamTextDelta, Tag("transcription.text.delta")]
    | Annotated[TranscriptionStreamSegmentDelta, Tag("transcription.segment")]
    | Annotated[TranscriptionStreamDone, Tag("transcription.done")]
    | Annotated[UnknownTranscriptionStreamEventsData, Tag("unknown")],
    Discriminator(
        type_tag(
            frozenset(
                {
                    "transcription.language",
                    "transcription.text.delta",
                    "transcription.segment",
                    "transcription.done",
                }
            )
        )
    ),
]
"""The data of a transcription stream event, one class per ``type``; others are kept."""


class TranscriptionStreamEvents(MistralModel):
    """One event of a transcription stream: the SSE ``event`` type and its typed ``data``.

    As in the official SDK: ``if event.data.type == "transcription.text.delta":
    print(event.data.text, end="")``.
    """

    event: str
    data: TranscriptionStreamEventsData


def decode_transcription_event(event_type: str, data: str | bytes) -> TranscriptionStreamEvents:
    """Decode one transcription SSE event: ``data`` typed by its ``type``, one JSON parse.

    Never raises: an unknown or unfitting payload becomes
    :class:`UnknownTranscriptionStreamEventsData`.
    """
    payload = decode_open_union(_TRANSCRIPTION_DATA, UnknownTranscriptionStreamEventsData, data)
    return wrap_event(TranscriptionStreamEvents, {"event": event_type, "data": payload})


# --- speech: request ------------------------------------------------------------------


class RawAudio(MistralModel):
    """Base64-encoded audio."""

    data: str


class SpeechUserTurn(MistralModel):
    """A past user turn of ``conversation_history``: what the user said, as audio."""

    audio: RawAudio
    role: Literal["user"] = "user"


class SpeechAssistantTurn(MistralModel):
    """A past assistant turn of ``conversation_history``: its text and its audio."""

    text: str
    audio: RawAudio
    role: Literal["assistant"] = "assistant"


SpeechTurn = Annotated[SpeechUserTurn | SpeechAssistantTurn, Field(discriminator="role")]
"""One turn of :attr:`SpeechRequest.conversation_history`, by ``role``."""


class SpeechRequest(MistralModel):
    """Body of ``POST /v1/audio/speech``.

    ``stream`` is always sent (``false`` unless streaming), as the official SDK sends it.
    ``response_format`` is ``"pcm"``, ``"wav"``, ``"mp3"``, ``"flac"`` or ``"opus"``.
    Unknown keys are kept and sent: they are the official SDK's
    ``additional_properties``.
    """

    input: str
    model: Nullable[str] = None
    metadata: Nullable[dict[str, Any]] = None
    stream: bool = False
    prompt_cache_key: Nullable[str] = None
    voice_id: Nullable[str] = None
    ref_audio: Nullable[str] = None
    expressiveness: Nullable[float] = None
    phoneme_hints: Nullable[dict[str, list[str]]] = None
    conversation_history: Nullable[list[SpeechTurn]] = None
    response_format: str | None = None


# --- speech: response and events -----------------------------------------------------


class SpeechResponse(MistralModel):
    """The audio of a non-streamed speech call, base64-encoded in ``audio_data``."""

    audio_data: str


class SpeechStreamAudioDelta(MistralModel):
    """``speech.audio.delta``: the next piece of audio, base64-encoded."""

    audio_data: str
    type: Literal["speech.audio.delta"] = "speech.audio.delta"


class SpeechStreamDone(MistralModel):
    """``speech.audio.done``: the audio is complete; carries the usage."""

    usage: UsageInfo = Field(default_factory=UsageInfo)
    type: Literal["speech.audio.done"] = "speech.audio.done"


class UnknownSpeechStreamEventsData(UnknownEventData):
    """A speech event levante cannot type; everything is kept (see
    :class:`~levante.models.UnknownEventData`)."""


_SPEECH_DATA: TypeAdapter[Any] = TypeAdapter(
    Annotated[SpeechStreamAudioDelta | SpeechStreamDone, Field(discriminator="type")]
)

SpeechStreamEventsData = Annotated[
    Annotated[SpeechStreamAudioDelta, Tag("speech.audio.delta")]
    | Annotated[SpeechStreamDone, Tag("speech.audio.done")]
    | Annotated[UnknownSpeechStreamEventsData, Tag("unknown")],
    Discriminator(type_tag(frozenset({"speech.audio.delta", "speech.audio.done"}))),
]
"""The data of a speech stream event, one class per ``type``; others are kept."""


class SpeechStreamEvents(MistralModel):
    """One event of a speech stream: the SSE ``event`` type and its typed ``data``."""

    event: str
    data: SpeechStreamEventsData


def decode_speech_event(event_type: str, data: str | bytes) -> SpeechStreamEvents:
    """Decode one speech SSE event: ``data`` typed by its ``type``, one JSON parse.

    Never raises: an unknown or unfitting payload becomes
    :class:`UnknownSpeechStreamEventsData`.
    """
    payload = decode_open_union(_SPEECH_DATA, UnknownSpeechStreamEventsData, data)
    return wrap_event(SpeechStreamEvents, {"event": event_type, "data": payload})
