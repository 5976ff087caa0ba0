"""``client.chat``: chat completions, streamed (``stream``) or not (``complete``).

The streamed methods return a :class:`ChatCompletionStream` (an
``EventStream[CompletionEvent]`` ending at ``data: [DONE]``) that also offers
``text_stream`` and ``final_response()``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import httpx2
from pydantic import BaseModel
from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext, EventStream, EventStreamAsync
from ..accumulate import ChatCompletionAccumulator
from ..models import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamRequest,
    CompletionEvent,
    Message,
    ParsedChatCompletionResponse,
    Prediction,
    ResponseFormat,
    TextChunk,
    Tool,
    ToolChoice,
    parse_chat_completion,
)
from ..models.chat import completion_event_decoder, merging_completion_event_decoder
from ..sse import ServerSentEvent
from ._base import JSON, Call, EndRule, Resource, StreamCall, StreamParams
from ._streams import NOT_ACCUMULATED
from .parse import (
    ParsedChatCompletionStream,
    ParsedChatCompletionStreamAsync,
    parse_call,
    parse_fields,
    parse_stream_call,
)

__all__ = [
    "CHAT_COMPLETE",
    "CHAT_PARSE",
    "CHAT_STREAM",
    "Chat",
    "ChatCompletionStream",
    "ChatCompletionStreamAsync",
    "ChatParams",
    "ChatParseParams",
    "MessagesParams",
]

T = TypeVar("T", bound=BaseModel)

CHAT_PATH = "/v1/chat/completions"


class _CompletionParams(StreamParams, total=False):
    # MessagesParams without response_format, which chat.parse takes as a model class
    messages: Required[Sequence[Message | Mapping[str, Any] | BaseModel]]
    max_tokens: int | None
    stream: bool | None
    stop: str | Sequence[str] | None
    random_seed: int | None
    metadata: Mapping[str, Any] | None
    tools: Sequence[Tool | Mapping[str, Any] | BaseModel] | None
    tool_choice: ToolChoice | str | Mapping[str, Any] | BaseModel | None
    presence_penalty: float | None
    frequency_penalty: float | None
    min_tokens: int | None
    repetition_penalty: float | None
    top_k: int | None
    logprobs: bool | None
    top_logprobs: int | None
    prompt_logprobs: bool | None
    top_prompt_logprobs: int | None
    n: int | None
    prediction: Prediction | Mapping[str, Any] | BaseModel | None
    parallel_tool_calls: bool | None
    reasoning_effort: str | None
    prompt_mode: str | None
    guardrails: Sequence[Mapping[str, Any]] | None
    prompt_cache_key: str | None
    service_tier: str | None


class MessagesParams(_CompletionParams, total=False):
    """The keyword arguments chat and agents completions share (as in the official SDK).

    ``messages`` is required; messages are message models (``UserMessage(...)``,
    levante's or the official SDK's) or plain dicts (``{"role": "user", "content": "..."}``).
    Every other body field is omitted when not passed; passing ``None`` to a nullable field
    sends ``null`` exactly as the official SDK does. ``stream`` is accepted for drop-in
    compatibility and must match the method. The per-call options are those of
    :class:`~levante.resources._base.StreamParams`.
    """

    response_format: ResponseFormat | Mapping[str, Any] | BaseModel | None


class ChatParams(MessagesParams, total=False):
    """Keyword arguments of ``chat.stream`` / ``chat.complete``: :class:`MessagesParams`
    plus ``model`` (required), ``temperature``, ``top_p`` and ``safe_prompt``."""

    model: Required[str]
    temperature: float | None
    top_p: float | None
    safe_prompt: bool | None


class ChatParseParams(_CompletionParams, total=False):
    """Keyword arguments of ``chat.parse`` / ``parse_stream`` besides ``response_format``
    (a pydantic model class): those of :class:`ChatParams`."""

    model: Required[str]
    temperature: float | None
    top_p: float | None
    safe_prompt: bool | None


decode_completion_event: Callable[[ServerSentEvent], CompletionEvent] = completion_event_decoder()
"""Decode one ``data:`` block of a completion stream (one JSON parse)."""

_decode_and_merge = merging_completion_event_decoder(ChatCompletionAccumulator._merge)


def _delta_text(event: CompletionEvent) -> str | None:
    """The text of choice 0's delta, or ``None`` when the chunk carries no text."""
    for choice in event.data.choices:
        if choice.index == 0:
            content = choice.delta.content
            break
    else:
        return None
    if isinstance(content, str):
        return content or None
    if not content:
        return None
    # A list of content chunks (e.g. reasoning models): keep only the text ones.
    text = "".join(part.text for part in content if isinstance(part, TextChunk))
    return text or None


def _accumulating(
    decode: Callable[[ServerSentEvent], CompletionEvent], accumulator: ChatCompletionAccumulator
) -> Callable[[ServerSentEvent], CompletionEvent]:
    if decode is decode_completion_event:
        # The plain chat decode: decode and merge in one call per chunk (the hot path of
        # every stream). The chunk is one the decoder built, so add()'s checks are skipped.
        return functools.partial(_decode_and_merge, accumulator)
    add = accumulator.add

    def decode_and_add(sse: ServerSentEvent) -> CompletionEvent:
        event = decode(sse)
        add(event)
        return event

    return decode_and_add


class ChatCompletionStream(EventStream[CompletionEvent]):
    """A streamed chat completion: iterate it for :class:`CompletionEvent` objects.

    Every decoded chunk also feeds a :class:`~levante.ChatCompletionAccumulator`, so
    :meth:`final_response` can rebuild the whole answer whichever way the stream was read.
    The accumulator keeps the reply's text as UTF-8 (at most 1.2x its size). Pass
    ``accumulate=False`` to the method to keep nothing: ``accumulator`` is then ``None``
    and :meth:`final_response` raises ``RuntimeError``.
    """

    #: Tells the sender this stream takes ``accumulate``.
    accumulates: ClassVar[bool] = True

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], CompletionEvent],
        *,
        accumulate: bool = True,
        **kwargs: Any,
    ) -> None:
        self.accumulator: ChatCompletionAccumulator | None = None
        if accumulate:
            self.accumulator = ChatCompletionAccumulator()
            decode = _accumulating(decode, self.accumulator)
        super().__init__(response, decode, **kwargs)

    @property
    def text_stream(self) -> Iterator[str]:
        """The content strings of choice 0 as they arrive (empty deltas skipped)."""
        return _TextIterator(self)

    def final_response(self) -> ChatCompletionResponse:
        """Read the rest of the stream and return the accumulated response."""
        accumulator = self.accumulator
        if accumulator is None:
            raise RuntimeError(NOT_ACCUMULATED)
        for _ in self:
            pass
        return accumulator.snapshot()


class ChatCompletionStreamAsync(EventStreamAsync[CompletionEvent]):
    """Async twin of :class:`ChatCompletionStream`."""

    accumulates: ClassVar[bool] = True

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], CompletionEvent],
        *,
        accumulate: bool = True,
        **kwargs: Any,
    ) -> None:
        self.accumulator: ChatCompletionAccumulator | None = None
        if accumulate:
            self.accumulator = ChatCompletionAccumulator()
            decode = _accumulating(decode, self.accumulator)
        super().__init__(response, decode, **kwargs)

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The content strings of choice 0 as they arrive (``async for``)."""
        return _AsyncTextIterator(self)

    async def final_response(self) -> ChatCompletionResponse:
        """Read the rest of the stream and return the accumulated response."""
        accumulator = self.accumulator
        if accumulator is None:
            raise RuntimeError(NOT_ACCUMULATED)
        async for _ in self:
            pass
        return accumulator.snapshot()


class _TextIterator(Iterator[str]):
    # A class rather than a generator: nothing to finalize when the caller breaks out.
    __slots__ = ("_events",)

    def __init__(self, stream: EventStream[CompletionEvent]) -> None:
        self._events = iter(stream)

    def __iter__(self) -> _TextIterator:
        return self

    def __next__(self) -> str:
        while True:
            text = _delta_text(next(self._events))
            if text is not None:
                return text


class _AsyncTextIterator(AsyncIterator[str]):
    __slots__ = ("_events",)

    def __init__(self, stream: EventStreamAsync[CompletionEvent]) -> None:
        self._events = stream.__aiter__()

    def __aiter__(self) -> _AsyncTextIterator:
        return self

    async def __anext__(self) -> str:
        while True:
            text = _delta_text(await self._events.__anext__())
            if text is not None:
                return text


class Chat(Resource):
    """Chat completions: ``POST /v1/chat/completions``."""

    __slots__ = ()

    def stream(self, **params: Unpack[ChatParams]) -> ChatCompletionStream:
        """Stream a chat completion; see :class:`ChatParams` for the arguments.

        Use it as a context manager so the connection is released however you leave::

            with client.chat.stream(model="mistral-small-latest", messages=[...]) as stream:
                for chunk in stream:
                    print(chunk.data.choices[0].delta.content, end="")
        """
        return self._sender.stream(CHAT_STREAM, params)

    def stream_async(
        self, **params: Unpack[ChatParams]
    ) -> AsyncStreamContext[ChatCompletionStreamAsync]:
        """Async twin of :meth:`stream` (``async with await client.chat.stream_async(...)``)."""
        return self._sender.stream_async(CHAT_STREAM, params)

    def complete(self, **params: Unpack[ChatParams]) -> ChatCompletionResponse:
        """Create a chat completion in one response; see :class:`ChatParams`."""
        return self._sender.request(CHAT_COMPLETE, params)

    async def complete_async(self, **params: Unpack[ChatParams]) -> ChatCompletionResponse:
        """Async twin of :meth:`complete`."""
        return await self._sender.request_async(CHAT_COMPLETE, params)

    # -- structured output (see levante.resources.parse) ---------------------------------

    def parse(
        self, response_format: type[T], **params: Unpack[ChatParseParams]
    ) -> ParsedChatCompletionResponse[T]:
        """Complete, then parse the answer into ``response_format`` (a pydantic model
        class): ``choices[0].message.parsed`` is an instance of it. Raises
        :class:`~levante.errors.StructuredOutputError` (with the raw text) otherwise."""
        fields = parse_fields(response_format, params)
        reply = self._sender.request(CHAT_PARSE, fields)
        return parse_chat_completion(reply, response_format)

    async def parse_async(
        self, response_format: type[T], **params: Unpack[ChatParseParams]
    ) -> ParsedChatCompletionResponse[T]:
        """Async twin of :meth:`parse`."""
        fields = parse_fields(response_format, params)
        reply = await self._sender.request_async(CHAT_PARSE, fields)
        return parse_chat_completion(reply, response_format)

    def parse_stream(
        self, response_format: type[T], **params: Unpack[ChatParseParams]
    ) -> ParsedChatCompletionStream[T]:
        """Stream a structured answer: chunks as :meth:`stream` yields them, the object so
        far as ``stream.partial``, and ``final_response().choices[0].message.parsed``."""
        fields = parse_fields(response_format, params)
        call = parse_stream_call(CHAT_STREAM, response_format, "chat.parse_stream")
        return self._sender.stream(call, fields)

    def parse_stream_async(
        self, response_format: type[T], **params: Unpack[ChatParseParams]
    ) -> AsyncStreamContext[ParsedChatCompletionStreamAsync[T]]:
        """Async twin of :meth:`parse_stream` (``async with`` it, or await it)."""
        fields = parse_fields(response_format, params)
        call = parse_stream_call(CHAT_STREAM, response_format, "chat.parse_stream")
        return self._sender.stream_async(call, fields)


CHAT_STREAM = StreamCall(
    name="chat.stream",
    method="POST",
    path=CHAT_PATH,
    body=JSON(ChatCompletionStreamRequest),
    stream=ChatCompletionStream,
    stream_async=ChatCompletionStreamAsync,
    decode=decode_completion_event,
    end=EndRule.at_sentinel("[DONE]"),
)
CHAT_COMPLETE = Call(
    name="chat.complete",
    method="POST",
    path=CHAT_PATH,
    body=JSON(ChatCompletionRequest),
    response=ChatCompletionResponse,
)
CHAT_PARSE = parse_call(CHAT_COMPLETE, "chat.parse")
