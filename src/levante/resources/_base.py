"""What every resource shares: the sender it holds, the per-call options, the declarations.

How to add an endpoint
======================

1. Declare its keyword arguments once, as a ``TypedDict`` deriving from
   :class:`RequestParams` (or :class:`StreamParams` when it streams), so that mypy checks
   every call. Body fields are validated again, at run time, by the request model.
2. Declare the endpoint as data, next to the resource::

       TRANSCRIBE_STREAM = StreamCall(
           name="audio.transcriptions.stream",       # as users call it, for errors
           method="POST",
           path="/v1/audio/transcriptions",          # "{field}" placeholders allowed
           body=Multipart(TranscriptionStreamRequest, files=("file",),
                          json=("speaker_references",)),
           stream=TranscriptionStream,               # sync twin's stream class
           stream_async=TranscriptionStreamAsync,    # async twin's
           decode=decode_transcription_event,        # one ServerSentEvent -> one item
           end=EndRule.at_event({"transcription.done"}),  # see below
       )

   ``end`` is where the stream stops, and so what is truncated and what is an in-stream
   error: ``EndRule.at_sentinel("[DONE]")``, ``EndRule.at_event(types, errors=...)``
   (the terminal event is yielded) or ``EndRule.at_body_end()``.
   A non-streamed endpoint is a :class:`Call` with ``response=`` (a pydantic model) in
   place of the four stream fields. Body kinds: ``JSON(model)``, ``Multipart(model,
   files=..., json=...)`` or ``None`` (e.g. a GET). ``query=("a", "b")`` sends those
   keyword arguments as query parameters (lists repeat the parameter);
   ``headers={"last_event_id": "last-event-id"}`` sends one as a header.
3. Write the methods as one-line twins over the sender::

       def stream(self, **params: Unpack[TranscriptionParams]) -> TranscriptionStream:
           return self._sender.stream(TRANSCRIBE_STREAM, params)

       def stream_async(self, **params: Unpack[TranscriptionParams]
                        ) -> AsyncStreamContext[TranscriptionStreamAsync]:
           return self._sender.stream_async(TRANSCRIBE_STREAM, params)

   ``self._sender.request(CALL, params)`` / ``await self._sender.request_async(CALL,
   params)`` for a :class:`Call`. A method whose ``stream=`` flag picks the return type
   declares two ``typing.overload`` signatures (``stream: Literal[True]`` and
   ``Literal[False] = False``) and picks the declaration: see ``tests/test_endpoints.py``.
4. Hang the resource on :class:`~levante.Mistral` in ``client.py``.

Every argument is checked by the sender before any I/O (:func:`levante._endpoint.prepare`):
the per-call options once, in :mod:`levante._request`; the body by its model.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

import httpx2
from pydantic import BaseModel
from typing_extensions import TypedDict

from .._endpoint import JSON, Call, Multipart, StreamCall
from .._retry import RetryPolicy
from .._send import Sender
from .._streaming import EndRule

__all__ = [
    "JSON",
    "Call",
    "EndRule",
    "Multipart",
    "RequestParams",
    "Resource",
    "StreamCall",
    "StreamParams",
    "keyword_fields",
]


class RequestParams(TypedDict, total=False):
    """Per-call options every method accepts (the official SDK's, plus ``timeout``).

    - ``retries``: an int, a :class:`~levante.RetryConfig`, ``None`` (no retries) or the
      official SDK's ``RetryConfig``; replaces the client's policy for this call.
    - ``server_url``: send this call to another base URL.
    - ``timeout_ms`` / ``timeout``: this call's timeout in milliseconds / in seconds (or
      an ``httpx2.Timeout``); ``None`` means "the client's".
    - ``http_headers``: extra headers, replacing levante's own on a name clash.
    """

    retries: RetryPolicy
    server_url: str | None
    timeout_ms: int | None
    timeout: float | httpx2.Timeout | None
    http_headers: Mapping[str, str] | None


class StreamParams(RequestParams, total=False):
    """Per-call options of streaming methods.

    - ``first_event_timeout``: seconds to wait for the first event (``StreamTimeout``).
    - ``idle_timeout``: seconds allowed between two events (``StreamTimeout``).
    - ``accumulate``: ``False`` keeps no copy of the reply for ``final_response()``
      (streams that rebuild a final response keep one by default; others ignore it).
    """

    first_event_timeout: float | None
    idle_timeout: float | None
    accumulate: bool


class Resource:
    """Base of resources: holds the :class:`~levante._send.Sender` they send through."""

    __slots__ = ("_sender",)

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._sender.server_url!r}>"


def keyword_fields(
    params: Mapping[str, Any], where: str, keys: Set[str], model: type[BaseModel]
) -> dict[str, Any]:
    """``params`` as request fields, ``additional_properties`` merged in.

    A request model that keeps unknown keys (the official ``additional_properties``) would
    send a misspelt keyword silently: refuse it here, as a signature would, and refuse
    extra properties that repeat a field of ``model``.
    """
    unknown = sorted(set(params) - keys)
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword arguments: {', '.join(unknown)}")
    fields = dict(params)
    extra = fields.pop("additional_properties", None)
    if extra:
        if not isinstance(extra, Mapping):
            raise TypeError(f"{where}(): additional_properties must be a mapping")
        clash = sorted(set(extra) & set(model.model_fields))
        if clash:
            raise TypeError(f"{where}(): additional_properties repeats {', '.join(clash)}")
        fields.update(extra)
    return fields
