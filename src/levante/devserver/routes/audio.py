"""Audio: transcription (multipart upload) and speech, each streamed or not.

``POST /v1/audio/transcriptions`` takes the official SDK's multipart form: ``model``,
``stream`` and ``diarize`` (``"true"``/``"false"``), ``language``, ``temperature``,
repeated ``context_bias`` and ``timestamp_granularities`` parts, ``speaker_references``
as a JSON part, and the audio as a ``file`` part or a ``file_url`` / ``file_id`` field
(exactly one of the three).  Any audio gives the same transcript
(:data:`levante.devserver.audio.TRANSCRIPT`).  Without ``stream`` the answer is a
transcription JSON (``model``, ``text``, ``language``, ``usage``, and ``segments`` when
``timestamp_granularities`` asks for them); with ``stream=true`` it is the events
``transcription.language``, ``transcription.text.delta`` (one per word), then, when
segments are asked for, one ``transcription.segment`` per segment, and
``transcription.done`` (the whole transcription, with ``usage``).

``POST /v1/audio/speech`` takes JSON (``input``, ``model``, ``voice_id``,
``response_format``, ``stream``...).  The audio is a tone
(:func:`levante.devserver.audio.speech_audio`): WAV, or raw PCM for
``response_format: "pcm"`` (other formats get WAV too: the dev server encodes nothing
else).  Without ``stream``: ``{"audio_data": <base64>}``; with ``stream: true``:
``speech.audio.delta`` events of base64 chunks, then ``speech.audio.done`` with ``usage``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from .. import wire
from ..audio import SECONDS_PER_WORD, TRANSCRIPT, Segment, segments, speech_audio, transcript_tokens
from ..context import Context, begin, field, invalid, stream_flag
from ..streaming import EventStream, Whole, finish

__all__ = ["speech", "transcriptions"]

_AUDIO_CHUNK = 4096
_GRANULARITIES = ("segment", "word")


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One ``event:`` + ``data:`` SSE block with ``data`` as compact JSON."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def _error_block() -> bytes:
    error = wire.error_body("Internal server error (injected)", "internal_server_error", "3000")
    return sse("error", error)


def _flag(form: FormData, name: str) -> bool:
    raw = form.get(name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise invalid(name, f"expected true or false, got {raw!r}")
    return raw == "true"


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(name, "expected a text field, got a file")
    return value


async def _source(form: FormData) -> None:
    """Check that exactly one of ``file``, ``file_url`` and ``file_id`` names the audio."""
    upload = form.get("file")
    if upload is not None and not isinstance(upload, UploadFile):
        raise invalid("file", "expected a file part")
    given = [name for name in ("file", "file_url", "file_id") if form.get(name) is not None]
    if len(given) != 1:
        raise invalid("file", "send exactly one of file, file_url and file_id")
    if isinstance(upload, UploadFile):
        await upload.read()  # any bytes will do: the transcript is fixed


def _segment_json(segment: Segment, diarize: bool, event: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"text": segment.text, "start": segment.start, "end": segment.end}
    data["type"] = "transcription.segment" if event else "transcription_segment"
    if diarize:
        data["speaker_id"] = "speaker_1"
    return data


def _transcription(model: str, form: FormData) -> dict[str, Any]:
    diarize = _flag(form, "diarize")
    granularities = form.getlist("timestamp_granularities")
    for granularity in granularities:
        if granularity not in _GRANULARITIES:
            raise invalid("timestamp_granularities", f"unknown granularity {granularity!r}")
    if form.get("speaker_references") is not None:
        try:
            json.loads(str(form.get("speaker_references")))
        except ValueError:
            raise invalid("speaker_references", "expected a JSON object") from None
    words = len(TRANSCRIPT.split())
    body: dict[str, Any] = {
        "model": model,
        "text": TRANSCRIPT,
        "language": _text(form, "language") or "en",
        "usage": {
            "prompt_tokens": 0,
            "completion_tokens": words,
            "total_tokens": words,
            "prompt_audio_seconds": round(words * SECONDS_PER_WORD),
        },
    }
    if granularities:
        unit = "segment" if "segment" in granularities else "word"
        body["segments"] = [_segment_json(s, diarize, False) for s in segments(unit)]
    return body


def _transcription_blocks(body: dict[str, Any]) -> Iterator[bytes]:
    yield sse(
        "transcription.language",
        {"audio_language": body["language"], "type": "transcription.language"},
    )
    for token in transcript_tokens():
        yield sse("transcription.text.delta", {"text": token, "type": "transcription.text.delta"})
    for segment in body.get("segments", []):
        yield sse("transcription.segment", {**segment, "type": "transcription.segment"})


async def transcriptions(request: Request) -> Response:
    """``POST /v1/audio/transcriptions`` (multipart)."""
    ctx = await begin(request, needs_body=False)
    async with request.form() as form:
        model = _text(form, "model")
        if not model:
            raise invalid("model", "field required")
        ctx.model(model)
        await _source(form)
        stream = _flag(form, "stream")
        body = _transcription(model, form)
    if stream:
        done = sse("transcription.done", {**body, "type": "transcription.done"})
        return EventStream(ctx, _transcription_blocks(body), lambda: done, _error_block)
    payload = json.dumps(body, ensure_ascii=False).encode()
    return await finish(ctx, Whole(payload, len(transcript_tokens())))


def _speech_blocks(audio: bytes) -> Iterator[bytes]:
    for at in range(0, len(audio), _AUDIO_CHUNK):
        chunk = base64.b64encode(audio[at : at + _AUDIO_CHUNK]).decode()
        yield sse("speech.audio.delta", {"audio_data": chunk, "type": "speech.audio.delta"})


def _speech_usage(text: str, audio: bytes) -> dict[str, int]:
    prompt = len(text.split())
    chunks = -(-len(audio) // _AUDIO_CHUNK)
    return {"prompt_tokens": prompt, "completion_tokens": chunks, "total_tokens": prompt + chunks}


async def speech(request: Request) -> Response:
    """``POST /v1/audio/speech`` (JSON)."""
    ctx: Context = await begin(request)
    text: str = field(ctx.body, "input", (str,), required=True)
    model: str | None = field(ctx.body, "model", (str,))
    if model is not None:
        ctx.model(model)
    audio_format: str = field(ctx.body, "response_format", (str,)) or "wav"
    audio = speech_audio(text, audio_format)
    if stream_flag(ctx.body):
        usage = _speech_usage(text, audio)
        done = sse("speech.audio.done", {"usage": usage, "type": "speech.audio.done"})
        return EventStream(ctx, _speech_blocks(audio), lambda: done, _error_block)
    payload = json.dumps({"audio_data": base64.b64encode(audio).decode()}).encode()
    return await finish(ctx, Whole(payload, -(-len(audio) // _AUDIO_CHUNK)))
