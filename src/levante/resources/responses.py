"""``client.responses``: the Responses API, ``POST /v1/responses``, streamed or not.

``responses.create(stream=False)`` returns a :class:`~levante.models.CreateResponseResponse`;
``stream=True`` a :class:`ResponseStream` of :class:`~levante.models.ResponsesStreamFrame`
(``event``, and ``data`` typed by its ``type``; unknown types kept). The body carries the
defaults the official SDK always sends (see :class:`~levante.models.CreateResponseRequest`).

How a stream ends (:data:`RESPONSES_END`): after ``response.completed`` or
``response.incomplete`` (both yielded: an incomplete answer, cut by
``max_output_tokens`` say, is still an answer, and ``final_response()`` rebuilds it); an
``error`` or ``response.failed`` event raises :class:`~levante.errors.StreamAPIError`
(carrying the event's payload) and releases the connection; a body that ends before any
of them raises :class:`~levante.errors.IncompleteStreamError`. The official SDK reads to
the end of the body and hands every one of these events over as a frame.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Final, Literal, overload

from pydantic import BaseModel
from typing_extensions import Required, Unpack

from .._streaming import EndRule
from ..accumulate_responses import ResponseAccumulator, responses_text
from ..models import (
    CreateResponseRequest,
    CreateResponseResponse,
    ResponsesInputItem,
    ResponsesStreamFrame,
    decode_responses_event,
)
from ..sse import ServerSentEvent
from ._base import JSON, Call, Resource, StreamCall, StreamParams, keyword_fields
from ._streams import (
    AccumulatingStream,
    AccumulatingStreamAsync,
    AsyncPieceIterator,
    PieceIterator,
)

__all__ = [
    "RESPONSES_CREATE",
    "RESPONSES_END",
    "RESPONSES_STREAM",
    "ResponseStream",
    "ResponseStreamAsync",
    "Responses",
    "ResponsesParams",
]

RESPONSES_PATH = "/v1/responses"

#: The end rule of a Responses stream (see the module docstring). Errors come as typed
#: events, so data is not also scanned for error-shaped payloads (every ``response``
#: object holds an ``"error": null``).
RESPONSES_END: Final = EndRule.at_event(
    {"response.completed", "response.incomplete"},
    errors={"error", "response.failed"},
    error_payloads=False,
)


class ResponsesParams(StreamParams, total=False):
    """Keyword arguments of ``responses.create`` (the official SDK's), ``stream`` apart.

    ``input`` is a string or a list of input items (messages, function calls and their
    outputs, reasoning, earlier output items), as models or dicts. ``text`` sets the
    output format, ``reasoning`` the effort; ``additional_properties`` are sent as extra
    body fields.
    """

    model: Required[str]
    input: Required[str | Sequence[ResponsesInputItem | Mapping[str, Any] | BaseModel]]
    instructions: str | None
    parallel_tool_calls: bool | None
    previous_response_id: Any
    tools: Sequence[Mapping[str, Any] | BaseModel] | None
    tool_choice: str | Mapping[str, Any] | BaseModel | None
    reasoning: Mapping[str, Any] | BaseModel | None
    conversation: Any
    prompt: Any
    text: Mapping[str, Any] | BaseModel | None
    max_output_tokens: int | None
    temperature: float | None
    top_p: float | None
    metadata: Mapping[str, str] | None
    prompt_cache_key: str | None
    max_tool_calls: int | None
    moderation: Any
    additional_properties: Mapping[str, Any] | None


def decode_responses_sse(sse: ServerSentEvent) -> ResponsesStreamFrame:
    """One Responses event, typed by its data's ``type`` (unknown types kept)."""
    return decode_responses_event(sse.event, sse.data)


class ResponseStream(AccumulatingStream[ResponsesStreamFrame, CreateResponseResponse]):
    """A streamed response: iterate it for :class:`~levante.models.ResponsesStreamFrame`.

    ``text_stream`` yields the output text as it arrives; :meth:`final_response` reads
    the rest and returns the :class:`~levante.models.CreateResponseResponse` rebuilt from
    the deltas (text, reasoning text, function-call arguments) and the final event.
    """

    accumulator: ResponseAccumulator

    def new_accumulator(self) -> ResponseAccumulator:
        """A :class:`~levante.accumulate_responses.ResponseAccumulator`."""
        return ResponseAccumulator()

    @property
    def text_stream(self) -> Iterator[str]:
        """The ``response.output_text.delta`` pieces as they arrive."""
        return PieceIterator(self, responses_text)


class ResponseStreamAsync(AccumulatingStreamAsync[ResponsesStreamFrame, CreateResponseResponse]):
    """Async twin of :class:`ResponseStream`."""

    accumulator: ResponseAccumulator

    def new_accumulator(self) -> ResponseAccumulator:
        """A :class:`~levante.accumulate_responses.ResponseAccumulator`."""
        return ResponseAccumulator()

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The output text pieces as they arrive (``async for``)."""
        return AsyncPieceIterator(self, responses_text)


_KEYS = ResponsesParams.__required_keys__ | ResponsesParams.__optional_keys__


def _fields(params: Mapping[str, Any], where: str) -> dict[str, Any]:
    return keyword_fields(params, where, _KEYS, CreateResponseRequest)


class Responses(Resource):
    """The Responses API: ``POST /v1/responses``, streamed or not by ``stream=``."""

    __slots__ = ()

    @overload
    def create(
        self, *, stream: Literal[True], **params: Unpack[ResponsesParams]
    ) -> ResponseStream: ...
    @overload
    def create(
        self, *, stream: Literal[False] | None = False, **params: Unpack[ResponsesParams]
    ) -> CreateResponseResponse: ...
    @overload
    def create(
        self, *, stream: bool, **params: Unpack[ResponsesParams]
    ) -> CreateResponseResponse | ResponseStream: ...
    def create(
        self, *, stream: bool | None = False, **params: Unpack[ResponsesParams]
    ) -> CreateResponseResponse | ResponseStream:
        """Create a response; with ``stream=True`` a :class:`ResponseStream` (use it as a
        context manager so the connection is released however you leave)."""
        fields = _fields(params, "responses.create")
        if stream is True:
            return self._sender.stream(RESPONSES_STREAM, fields)
        return self._sender.request(RESPONSES_CREATE, fields)

    @overload
    async def create_async(
        self, *, stream: Literal[True], **params: Unpack[ResponsesParams]
    ) -> ResponseStreamAsync: ...
    @overload
    async def create_async(
        self, *, stream: Literal[False] | None = False, **params: Unpack[ResponsesParams]
    ) -> CreateResponseResponse: ...
    @overload
    async def create_async(
        self, *, stream: bool, **params: Unpack[ResponsesParams]
    ) -> CreateResponseResponse | ResponseStreamAsync: ...
    async def create_async(
        self, *, stream: bool | None = False, **params: Unpack[ResponsesParams]
    ) -> CreateResponseResponse | ResponseStreamAsync:
        """Async twin of :meth:`create` (``async with await ...create_async(stream=True)``)."""
        fields = _fields(params, "responses.create_async")
        if stream is True:
            return await self._sender.stream_async(RESPONSES_STREAM, fields)
        return await self._sender.request_async(RESPONSES_CREATE, fields)


RESPONSES_CREATE = Call(
    name="responses.create",
    method="POST",
    path=RESPONSES_PATH,
    body=JSON(CreateResponseRequest),
    response=CreateResponseResponse,
)
RESPONSES_STREAM = StreamCall(
    name="responses.create",
    method="POST",
    path=RESPONSES_PATH,
    body=JSON(CreateResponseRequest),
    stream=ResponseStream,
    stream_async=ResponseStreamAsync,
    decode=decode_responses_sse,
    end=RESPONSES_END,
)
