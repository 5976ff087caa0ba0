"""``client.audio``: transcription (speech to text) and speech (text to speech).

- ``audio.transcriptions.complete`` / ``stream``: a multipart upload (the audio as a
  ``file`` part, or ``file_url`` / ``file_id``), answered by a
  :class:`~levante.models.TranscriptionResponse` or a :class:`TranscriptionStream` of
  ``transcription.*`` events ending at ``transcription.done``.
- ``audio.speech.complete(stream=False)``: a :class:`~levante.models.SpeechResponse`
  (base64 ``audio_data``); ``stream=True``: a :class:`SpeechStream` of
  ``speech.audio.delta`` events ending at ``speech.audio.done``, with helpers that decode
  the audio and write it to a file as it arrives.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import IO, Any, Literal, overload

from pydantic import BaseModel
from typing_extensions import Required, Unpack

from .._send import Sender
from .._streaming import AsyncStreamContext
from ..accumulate_audio import (
    SpeechAccumulator,
    TranscriptionAccumulator,
    aiter_audio_bytes,
    awrite_audio,
    iter_audio_bytes,
    transcription_text,
    write_audio,
)
from ..models import (
    AudioTranscriptionRequest,
    AudioTranscriptionRequestStream,
    File,
    SpeechRequest,
    SpeechResponse,
    SpeechStreamEvents,
    SpeechTurn,
    TranscriptionResponse,
    TranscriptionStreamEvents,
    decode_speech_event,
    decode_transcription_event,
)
from ..sse import ServerSentEvent
from ._base import (
    JSON,
    Call,
    EndRule,
    Multipart,
    Resource,
    StreamCall,
    StreamParams,
    keyword_fields,
)
from ._streams import (
    AccumulatingStream,
    AccumulatingStreamAsync,
    AsyncPieceIterator,
    PieceIterator,
)

__all__ = [
    "SPEECH",
    "SPEECH_STREAM",
    "TRANSCRIBE",
    "TRANSCRIBE_STREAM",
    "Audio",
    "Speech",
    "SpeechParams",
    "SpeechStream",
    "SpeechStreamAsync",
    "TranscriptionParams",
    "TranscriptionStream",
    "TranscriptionStreamAsync",
    "Transcriptions",
]

TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"
SPEECH_PATH = "/v1/audio/speech"

#: What a ``file`` argument may be: a :class:`~levante.models.File` (or the official
#: SDK's ``File`` / its dict form), bytes, a binary file object or a path.
FileArgument = File | BaseModel | Mapping[str, Any] | bytes | IO[bytes] | str | os.PathLike[str]


class TranscriptionParams(StreamParams, total=False):
    """Keyword arguments of ``audio.transcriptions.complete`` / ``stream`` (the official
    SDK's): ``model`` is required, and the audio is one of ``file``, ``file_url`` (a URL
    the server fetches) or ``file_id`` (a file uploaded to ``/v1/files``).

    ``diarize`` tells speakers apart (``speaker_references`` maps known speakers' names to
    reference audio URLs); ``context_bias`` lists words to favour;
    ``timestamp_granularities`` asks for timed ``"segment"`` or ``"word"`` pieces.
    """

    model: Required[str]
    file: FileArgument | None
    file_url: str | None
    file_id: str | None
    language: str | None
    temperature: float | None
    diarize: bool | None
    context_bias: Sequence[str] | None
    speaker_references: Mapping[str, str] | None
    timestamp_granularities: Sequence[str] | None


class SpeechParams(StreamParams, total=False):
    """Keyword arguments of ``audio.speech.complete`` (the official SDK's), ``stream``
    apart: ``input`` (the text to say) is required.

    ``voice_id`` picks a preset or custom voice, ``ref_audio`` gives a reference voice
    instead; ``response_format`` is ``"pcm"``, ``"wav"``, ``"mp3"``, ``"flac"`` or
    ``"opus"``. ``additional_properties`` are sent as extra body fields.
    """

    input: Required[str]
    model: str | None
    metadata: Mapping[str, Any] | None
    prompt_cache_key: str | None
    voice_id: str | None
    ref_audio: str | None
    expressiveness: float | None
    phoneme_hints: Mapping[str, Sequence[str]] | None
    conversation_history: Sequence[SpeechTurn | Mapping[str, Any] | BaseModel] | None
    response_format: str | None
    additional_properties: Mapping[str, Any] | None


# -- decoding ---------------------------------------------------------------------------


def decode_transcription_sse(sse: ServerSentEvent) -> TranscriptionStreamEvents:
    """One transcription event, typed by its data's ``type`` (unknown types kept)."""
    return decode_transcription_event(sse.event, sse.data)


def decode_speech_sse(sse: ServerSentEvent) -> SpeechStreamEvents:
    """One speech event, typed by its data's ``type`` (unknown types kept)."""
    return decode_speech_event(sse.event, sse.data)


# -- streams ----------------------------------------------------------------------------


class TranscriptionStream(AccumulatingStream[TranscriptionStreamEvents, TranscriptionResponse]):
    """A streamed transcription: iterate it for :class:`~levante.models.TranscriptionStreamEvents`.

    ``text_stream`` yields the transcript's pieces; :meth:`final_response` reads the rest
    and returns the whole :class:`~levante.models.TranscriptionResponse`.
    """

    accumulator: TranscriptionAccumulator

    def new_accumulator(self) -> TranscriptionAccumulator:
        """A :class:`~levante.TranscriptionAccumulator`."""
        return TranscriptionAccumulator()

    @property
    def text_stream(self) -> Iterator[str]:
        """The transcript's ``transcription.text.delta`` pieces as they arrive."""
        return PieceIterator(self, transcription_text)


class TranscriptionStreamAsync(
    AccumulatingStreamAsync[TranscriptionStreamEvents, TranscriptionResponse]
):
    """Async twin of :class:`TranscriptionStream`."""

    accumulator: TranscriptionAccumulator

    def new_accumulator(self) -> TranscriptionAccumulator:
        """A :class:`~levante.TranscriptionAccumulator`."""
        return TranscriptionAccumulator()

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The transcript's pieces as they arrive (``async for``)."""
        return AsyncPieceIterator(self, transcription_text)


class SpeechStream(AccumulatingStream[SpeechStreamEvents, SpeechResponse]):
    """A streamed speech: iterate it for :class:`~levante.models.SpeechStreamEvents`.

    :meth:`iter_audio` yields the decoded audio, :meth:`write_audio` writes it to a file
    as it arrives, :meth:`final_response` returns all of it as a
    :class:`~levante.models.SpeechResponse` (the stream keeps what it received for that).
    """

    accumulator: SpeechAccumulator

    def new_accumulator(self) -> SpeechAccumulator:
        """A :class:`~levante.SpeechAccumulator`."""
        return SpeechAccumulator()

    def iter_audio(self) -> Iterator[bytes]:
        """The decoded audio of the remaining ``speech.audio.delta`` events, in order."""
        return iter_audio_bytes(self)

    def write_audio(self, file: str | os.PathLike[str] | IO[bytes]) -> int:
        """Write the remaining audio to ``file`` (a path, or a binary file left open) as
        it arrives, flushed piece by piece; return the number of bytes written."""
        return write_audio(self, file)


class SpeechStreamAsync(AccumulatingStreamAsync[SpeechStreamEvents, SpeechResponse]):
    """Async twin of :class:`SpeechStream`."""

    accumulator: SpeechAccumulator

    def new_accumulator(self) -> SpeechAccumulator:
        """A :class:`~levante.SpeechAccumulator`."""
        return SpeechAccumulator()

    def iter_audio(self) -> AsyncIterator[bytes]:
        """The decoded audio of the remaining delta events (``async for``)."""
        return aiter_audio_bytes(self)

    async def write_audio(self, file: Any) -> int:
        """Async twin of :meth:`SpeechStream.write_audio`: a path is written from a worker
        thread; a file object is written directly (awaited when its ``write`` is async)."""
        return await awrite_audio(self, file)


# -- resources --------------------------------------------------------------------------


class Transcriptions(Resource):
    """Speech to text: ``POST /v1/audio/transcriptions`` (a multipart upload)."""

    __slots__ = ()

    def complete(self, **params: Unpack[TranscriptionParams]) -> TranscriptionResponse:
        """Transcribe audio in one response; see :class:`TranscriptionParams`."""
        return self._sender.request(TRANSCRIBE, params)

    async def complete_async(self, **params: Unpack[TranscriptionParams]) -> TranscriptionResponse:
        """Async twin of :meth:`complete`."""
        return await self._sender.request_async(TRANSCRIBE, params)

    def stream(self, **params: Unpack[TranscriptionParams]) -> TranscriptionStream:
        """Stream a transcription; use it as a context manager::

        with client.audio.transcriptions.stream(model=..., file=File(...)) as stream:
            for piece in stream.text_stream:
                print(piece, end="")
        """
        return self._sender.stream(TRANSCRIBE_STREAM, params)

    def stream_async(
        self, **params: Unpack[TranscriptionParams]
    ) -> AsyncStreamContext[TranscriptionStreamAsync]:
        """Async twin of :meth:`stream` (``async with`` it, or await it)."""
        return self._sender.stream_async(TRANSCRIBE_STREAM, params)


_SPEECH_KEYS = SpeechParams.__required_keys__ | SpeechParams.__optional_keys__


def _speech_fields(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    return keyword_fields(params, where, _SPEECH_KEYS, SpeechRequest)


class Speech(Resource):
    """Text to speech: ``POST /v1/audio/speech``, streamed or not by ``stream=``."""

    __slots__ = ()

    @overload
    def complete(
        self, *, stream: Literal[True], **params: Unpack[SpeechParams]
    ) -> SpeechStream: ...
    @overload
    def complete(
        self, *, stream: Literal[False] | None = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse: ...
    @overload
    def complete(
        self, *, stream: bool, **params: Unpack[SpeechParams]
    ) -> SpeechResponse | SpeechStream: ...
    def complete(
        self, *, stream: bool | None = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse | SpeechStream:
        """Generate speech from ``input``: a :class:`~levante.models.SpeechResponse`, or
        with ``stream=True`` a :class:`SpeechStream` (use it as a context manager)."""
        fields = _speech_fields(params, "audio.speech.complete")
        if stream is True:
            return self._sender.stream(SPEECH_STREAM, fields)
        return self._sender.request(SPEECH, fields)

    @overload
    async def complete_async(
        self, *, stream: Literal[True], **params: Unpack[SpeechParams]
    ) -> SpeechStreamAsync: ...
    @overload
    async def complete_async(
        self, *, stream: Literal[False] | None = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse: ...
    @overload
    async def complete_async(
        self, *, stream: bool, **params: Unpack[SpeechParams]
    ) -> SpeechResponse | SpeechStreamAsync: ...
    async def complete_async(
        self, *, stream: bool | None = False, **params: Unpack[SpeechParams]
    ) -> SpeechResponse | SpeechStreamAsync:
        """Async twin of :meth:`complete` (``async with await ...complete_async(stream=True)``)."""
        fields = _speech_fields(params, "audio.speech.complete_async")
        if stream is True:
            return await self._sender.stream_async(SPEECH_STREAM, fields)
        return await self._sender.request_async(SPEECH, fields)


class Audio(Resource):
    """Groups the audio resources as the official SDK does."""

    __slots__ = ("speech", "transcriptions")

    def __init__(self, sender: Sender) -> None:
        super().__init__(sender)
        self.transcriptions = Transcriptions(sender)
        self.speech = Speech(sender)


# -- declarations -----------------------------------------------------------------------

TRANSCRIBE = Call(
    name="audio.transcriptions.complete",
    method="POST",
    path=TRANSCRIPTIONS_PATH,
    body=Multipart(AudioTranscriptionRequest, files=("file",), json=("speaker_references",)),
    response=TranscriptionResponse,
)
TRANSCRIBE_STREAM = StreamCall(
    name="audio.transcriptions.stream",
    method="POST",
    path=TRANSCRIPTIONS_PATH,
    body=Multipart(AudioTranscriptionRequestStream, files=("file",), json=("speaker_references",)),
    stream=TranscriptionStream,
    stream_async=TranscriptionStreamAsync,
    decode=decode_transcription_sse,
    end=EndRule.at_event({"transcription.done"}),
)
SPEECH = Call(
    name="audio.speech.complete",
    method="POST",
    path=SPEECH_PATH,
    body=JSON(SpeechRequest),
    response=SpeechResponse,
)
SPEECH_STREAM = StreamCall(
    name="audio.speech.complete",
    method="POST",
    path=SPEECH_PATH,
    body=JSON(SpeechRequest),
    stream=SpeechStream,
    stream_async=SpeechStreamAsync,
    decode=decode_speech_sse,
    end=EndRule.at_event({"speech.audio.done"}),
)
