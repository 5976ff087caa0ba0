"""Adapters that drive each SSE decoder over a list of byte chunks and count its events.

Every adapter does only the decoding work its library does on a real response: bytes in,
events out. Fake response objects are built by :func:`prepare` outside the timed region;
text decoding is included where the library decodes text itself (``iter_text``), because
that is part of what it costs to turn bytes into events.
"""

from __future__ import annotations

import codecs
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

from levante.sse import SSEDecoder

__all__ = ["PEERS", "Runner", "prepare"]

#: A prepared run: calling it decodes the chunks once and returns the number of events.
Runner = Callable[[], int]


def _levante(chunks: list[bytes]) -> Runner:
    def run() -> int:
        decoder = SSEDecoder()
        feed = decoder.feed
        n = 0
        for chunk in chunks:
            n += len(feed(chunk))
        return n + len(decoder.end())

    return run


def _utf8_text(chunks: list[bytes]) -> Iterator[str]:
    # What httpx2's Response.iter_text does: an incremental decoder with replacement.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        text = decoder.decode(chunk)
        if text:
            yield text
    text = decoder.decode(b"", True)
    if text:
        yield text


def _httpx2(chunks: list[bytes]) -> Runner:
    from httpx2._config import DEFAULT_MAX_EVENT_SIZE_BYTES
    from httpx2._sse import _SSEParser

    # EventSource.__iter__ without the Response around it: iter_text -> parser.decode.
    def run() -> int:
        parser = _SSEParser(DEFAULT_MAX_EVENT_SIZE_BYTES)
        n = 0
        for text in _utf8_text(chunks):
            for _ in parser.decode(text):
                n += 1
        for _ in parser.flush():
            n += 1
        return n

    return run


def _import_httpx_sse_decoders() -> Any:
    # httpx-sse's package __init__ imports httpx (the predecessor of httpx2), which is not
    # installed here; its decoders module does not need it, so load the package shell only.
    if "httpx_sse" not in sys.modules:
        spec = importlib.util.find_spec("httpx_sse")
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError("httpx-sse is not installed")
        package = types.ModuleType("httpx_sse")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["httpx_sse"] = package
    return importlib.import_module("httpx_sse._decoders")


def _httpx_sse(chunks: list[bytes]) -> Runner:
    decoders = _import_httpx_sse_decoders()
    HttpxSSEDecoder = decoders.SSEDecoder
    SSELineDecoder = decoders.SSELineDecoder

    # EventSource.iter_sse and _iter_sse_lines, minus the Response.
    def run() -> int:
        lines = SSELineDecoder()
        decoder = HttpxSSEDecoder()
        n = 0
        for text in _utf8_text(chunks):
            for line in lines.decode(text):
                if decoder.decode(line.rstrip("\n")) is not None:
                    n += 1
        for line in lines.flush():
            if decoder.decode(line.rstrip("\n")) is not None:
                n += 1
        return n

    return run


def _openai(chunks: list[bytes]) -> Runner:
    from openai._streaming import SSEDecoder as OpenAISSEDecoder

    def run() -> int:
        n = 0
        for _ in OpenAISSEDecoder().iter_bytes(iter(chunks)):
            n += 1
        return n

    return run


class _FakeResponse:
    """Just enough of an httpx2.Response for mistralai's stream_events."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def iter_bytes(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        pass


def _identity(raw: str) -> str:
    return raw


def _mistralai(chunks: list[bytes]) -> Runner:
    from mistralai.client.utils.eventstreaming import stream_events

    response: Any = _FakeResponse(chunks)

    # The SDK passes a pydantic decoder and the "[DONE]" sentinel; the identity decoder and
    # no sentinel keep model validation out of the timing and the event count comparable.
    def run() -> int:
        n = 0
        for _ in stream_events(response, _identity, None):
            n += 1
        return n

    return run


def _sseclient(chunks: list[bytes]) -> Runner:
    from sseclient import SSEClient

    def run() -> int:
        n = 0
        for _ in SSEClient(chunks).events():
            n += 1
        return n

    return run


#: Decoder name -> factory taking the chunks and returning a prepared run.
PEERS: dict[str, Callable[[list[bytes]], Runner]] = {
    "levante": _levante,
    "httpx2": _httpx2,
    "httpx-sse": _httpx_sse,
    "openai": _openai,
    "mistralai": _mistralai,
    "sseclient-py": _sseclient,
}


def prepare(name: str, chunks: list[bytes]) -> Runner:
    """Return a prepared run of decoder ``name`` over ``chunks``."""
    return PEERS[name](chunks)
