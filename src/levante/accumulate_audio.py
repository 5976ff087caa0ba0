"""Audio streams: rebuild the transcription, and collect or write the speech audio.

A transcription stream sends the transcript in ``transcription.text.delta`` pieces, the
detected language, timed segments, then ``transcription.done`` with the whole result and
the usage. :class:`TranscriptionAccumulator` rebuilds the
:class:`~levante.models.TranscriptionResponse` a non-streamed call returns, from whichever
of these events arrived.

A speech stream sends base64 audio in ``speech.audio.delta`` events, then
``speech.audio.done`` with the usage. :func:`iter_audio_bytes` / :func:`aiter_audio_bytes`
turn such a stream into decoded bytes, :func:`write_audio` / :func:`awrite_audio` write
them to a file as they arrive, and :class:`SpeechAccumulator` keeps the whole audio for a
:class:`~levante.models.SpeechResponse`. Each takes any iterable of events, so a stream
object can offer them as methods.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import IO, Any

import anyio

from .models import (
    SpeechResponse,
    SpeechStreamAudioDelta,
    SpeechStreamDone,
    SpeechStreamEvents,
    TranscriptionResponse,
    TranscriptionSegmentChunk,
    TranscriptionStreamDone,
    TranscriptionStreamEvents,
    TranscriptionStreamLanguage,
    TranscriptionStreamSegmentDelta,
    TranscriptionStreamTextDelta,
    UsageInfo,
)

__all__ = [
    "SpeechAccumulator",
    "TranscriptionAccumulator",
    "aiter_audio_bytes",
    "audio_bytes",
    "awrite_audio",
    "iter_audio_bytes",
    "transcription_text",
    "write_audio",
]


def transcription_text(event: TranscriptionStreamEvents) -> str | None:
    """The text a transcription event adds (a ``text.delta``'s piece), else ``None``.

    What a stream's ``text_stream`` yields.
    """
    data = event.data
    if isinstance(data, TranscriptionStreamTextDelta):
        return data.text or None
    return None


class TranscriptionAccumulator:
    """Rebuilds the :class:`~levante.models.TranscriptionResponse` of a transcription
    stream; feed it every event with :meth:`add`, take :meth:`snapshot` at any point.

    Until ``transcription.done`` arrives, the snapshot holds the text pieces joined, the
    segments received and the detected language, with the model ``""`` and zero usage.
    ``transcription.done`` carries the whole result: its fields win (the server's own
    total), and any field it leaves out keeps what the deltas built.
    """

    __slots__ = ("_done", "_events", "_language", "_segments", "_texts")

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._segments: list[TranscriptionSegmentChunk] = []
        self._language: str | None = None
        self._done: TranscriptionStreamDone | None = None
        self._events = 0

    def __repr__(self) -> str:
        return f"<TranscriptionAccumulator events={self._events} done={self._done is not None}>"

    def add(self, event: TranscriptionStreamEvents) -> None:
        """Merge one event (unknown event types are counted and otherwise ignored)."""
        if not isinstance(event, TranscriptionStreamEvents):
            raise TypeError(
                "TranscriptionAccumulator.add() takes a TranscriptionStreamEvents, "
                f"not {type(event).__name__}"
            )
        self._events += 1
        data = event.data
        if isinstance(data, TranscriptionStreamTextDelta):
            self._texts.append(data.text)
        elif isinstance(data, TranscriptionStreamSegmentDelta):
            self._segments.append(_segment_of(data))
        elif isinstance(data, TranscriptionStreamLanguage):
            self._language = data.audio_language
        elif isinstance(data, TranscriptionStreamDone):
            self._done = data

    @property
    def event_count(self) -> int:
        """How many events were added."""
        return self._events

    @property
    def text(self) -> str:
        """The transcript so far (the ``done`` event's text once it arrived)."""
        if self._done is not None:
            return self._done.text
        texts = self._texts
        if len(texts) > 1:
            # join once and keep the result, so reading text after every event stays linear
            texts[:] = ["".join(texts)]
        return texts[0] if texts else ""

    @property
    def language(self) -> str | None:
        """The detected language, when the stream said it."""
        done = self._done
        if done is not None and done.language is not None:
            return done.language
        return self._language

    def snapshot(self) -> TranscriptionResponse:
        """Return the transcription as rebuilt so far, as a new independent object."""
        done = self._done
        segments: list[TranscriptionSegmentChunk] | None
        if done is not None and done.segments is not None:
            segments = [segment.model_copy(deep=True) for segment in done.segments]
        else:
            segments = [segment.model_copy(deep=True) for segment in self._segments] or None
        response = TranscriptionResponse(
            model=done.model if done is not None else "",
            text=self.text,
            usage=done.usage.model_copy(deep=True) if done is not None else UsageInfo(),
            language=self.language,
        )
        if segments is not None:
            response.segments = segments
        if done is not None and done.model_extra:
            for key, value in done.model_extra.items():
                setattr(response, key, value)
        return response


def _segment_of(delta: TranscriptionStreamSegmentDelta) -> TranscriptionSegmentChunk:
    # a streamed segment becomes the segment chunk of the final response
    segment = TranscriptionSegmentChunk(text=delta.text, start=delta.start, end=delta.end)
    if "speaker_id" in delta.model_fields_set:
        segment.speaker_id = delta.speaker_id
    for key, value in (delta.model_extra or {}).items():
        setattr(segment, key, value)
    return segment


# --- speech ---------------------------------------------------------------------------


def audio_bytes(event: SpeechStreamEvents) -> bytes | None:
    """The decoded audio of a ``speech.audio.delta`` event, else ``None``.

    Raises :class:`binascii.Error` (a :class:`ValueError`) when ``audio_data`` is not
    valid base64.
    """
    data = event.data
    if isinstance(data, SpeechStreamAudioDelta):
        return base64.b64decode(data.audio_data, validate=True)
    return None


def iter_audio_bytes(events: Iterable[SpeechStreamEvents]) -> Iterator[bytes]:
    """Yield the decoded audio of each ``speech.audio.delta`` event, in order.

    Other events are skipped; empty pieces are not yielded.
    """
    for event in events:
        chunk = audio_bytes(event)
        if chunk:
            yield chunk


async def aiter_audio_bytes(events: AsyncIterable[SpeechStreamEvents]) -> AsyncIterator[bytes]:
    """Async twin of :func:`iter_audio_bytes`."""
    async for event in events:
        chunk = audio_bytes(event)
        if chunk:
            yield chunk


FileTarget = str | os.PathLike[str] | IO[bytes]


def write_audio(events: Iterable[SpeechStreamEvents], file: FileTarget) -> int:
    """Write the audio of a speech stream to ``file`` as it arrives; return the byte count.

    ``file`` is a path (created or truncated, closed at the end) or a binary file object
    (left open). Each piece is written when its event arrives, so a long speech is never
    held in memory and a reader of the file sees it grow.
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as handle:
            return _write_all(events, handle)
    return _write_all(events, file)


def _write_all(events: Iterable[SpeechStreamEvents], handle: IO[bytes]) -> int:
    written = 0
    for chunk in iter_audio_bytes(events):
        handle.write(chunk)
        # flushed piece by piece: a player reading the file sees the audio as it arrives
        handle.flush()
        written += len(chunk)
    return written


async def awrite_audio(events: AsyncIterable[SpeechStreamEvents], file: Any) -> int:
    """Async twin of :func:`write_audio`.

    A path is written through :func:`anyio.open_file` (the writes run in a worker thread,
    so the event loop is never blocked by the disk); a file object is written directly,
    and awaited when its ``write`` is a coroutine (an ``anyio`` or ``aiofiles`` file).
    """
    written = 0
    if isinstance(file, (str, os.PathLike)):
        async with await anyio.open_file(file, "wb") as handle:
            async for chunk in aiter_audio_bytes(events):
                await handle.write(chunk)
                await handle.flush()
                written += len(chunk)
        return written
    async for chunk in aiter_audio_bytes(events):
        result = file.write(chunk)
        if hasattr(result, "__await__"):
            await result
        written += len(chunk)
    return written


class SpeechAccumulator:
    """Keeps the whole audio of a speech stream and its usage, for ``final_response()``.

    :meth:`snapshot` returns the :class:`~levante.models.SpeechResponse` a non-streamed
    call returns (``audio_data``: all the audio so far, base64-encoded again as one
    piece); :attr:`usage` is the ``speech.audio.done`` event's.
    """

    __slots__ = ("_chunks", "_events", "_usage")

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._usage: UsageInfo | None = None
        self._events = 0

    def __repr__(self) -> str:
        return f"<SpeechAccumulator events={self._events} bytes={len(self.audio)}>"

    def add(self, event: SpeechStreamEvents) -> None:
        """Merge one event; raises :class:`binascii.Error` on invalid base64."""
        if not isinstance(event, SpeechStreamEvents):
            raise TypeError(
                f"SpeechAccumulator.add() takes a SpeechStreamEvents, not {type(event).__name__}"
            )
        self._events += 1
        chunk = audio_bytes(event)
        if chunk:
            self._chunks.append(chunk)
        elif isinstance(event.data, SpeechStreamDone):
            self._usage = event.data.usage

    @property
    def audio(self) -> bytes:
        """The decoded audio received so far."""
        chunks = self._chunks
        if len(chunks) > 1:
            chunks[:] = [b"".join(chunks)]
        return chunks[0] if chunks else b""

    @property
    def usage(self) -> UsageInfo | None:
        """The usage sent with ``speech.audio.done``, or ``None`` before it."""
        return self._usage.model_copy(deep=True) if self._usage is not None else None

    def snapshot(self) -> SpeechResponse:
        """Return the audio so far as a :class:`~levante.models.SpeechResponse`."""
        return SpeechResponse(audio_data=base64.b64encode(self.audio).decode("ascii"))
