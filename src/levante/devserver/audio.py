"""The dev server's fake audio models: a fixed transcript and a generated tone, no I/O.

Any audio gives :data:`TRANSCRIPT`; its timing is fixed too, :data:`SECONDS_PER_WORD` per
word, so segments have exact start and end times.  Speech is a sine tone whose length
follows the input text, as 16-bit mono PCM, wrapped in a WAV header unless raw ``pcm`` is
asked for.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass

from .engine import tokenize

__all__ = [
    "SAMPLE_RATE",
    "SECONDS_PER_WORD",
    "TRANSCRIPT",
    "Segment",
    "segments",
    "speech_audio",
]

TRANSCRIPT = (
    "This is the levante dev server's fixed transcript. Whatever you send, it hears these "
    "words. The levante blows from the east."
)
SECONDS_PER_WORD = 0.4
SAMPLE_RATE = 16_000
_TONE_HZ = 440.0
_SECONDS_PER_CHARACTER = 0.02
_MAX_SECONDS = 5.0


@dataclass(frozen=True)
class Segment:
    """A stretch of the transcript with its time span in seconds."""

    text: str
    start: float
    end: float


def segments(granularity: str) -> list[Segment]:
    """The transcript cut into sentences (``"segment"``) or words (``"word"``)."""
    words = TRANSCRIPT.split()
    if granularity == "word":
        pieces = [[word] for word in words]
    else:
        sentences = re.findall(r"[^.]+\.", TRANSCRIPT)
        pieces = [sentence.split() for sentence in sentences]
    result = []
    at = 0
    for piece in pieces:
        start, at = at, at + len(piece)
        result.append(
            Segment(
                " ".join(piece), round(start * SECONDS_PER_WORD, 2), round(at * SECONDS_PER_WORD, 2)
            )
        )
    return result


def transcript_tokens() -> list[str]:
    """The transcript as the text deltas of a stream."""
    return tokenize(TRANSCRIPT)


def speech_audio(text: str, audio_format: str) -> bytes:
    """A tone as long as ``text`` takes to say (capped at five seconds): WAV, or raw
    little-endian 16-bit PCM when ``audio_format`` is ``"pcm"``."""
    seconds = min(max(len(text), 1) * _SECONDS_PER_CHARACTER, _MAX_SECONDS)
    count = int(seconds * SAMPLE_RATE)
    step = 2 * math.pi * _TONE_HZ / SAMPLE_RATE
    samples = struct.pack(f"<{count}h", *(int(12_000 * math.sin(step * i)) for i in range(count)))
    if audio_format == "pcm":
        return samples
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(samples),
        b"WAVE",
        b"fmt ",
        16,  # size of the fmt chunk
        1,  # PCM
        1,  # mono
        SAMPLE_RATE,
        SAMPLE_RATE * 2,  # bytes per second
        2,  # bytes per frame
        16,  # bits per sample
        b"data",
        len(samples),
    )
    return header + samples
