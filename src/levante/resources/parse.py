"""Structured output on ``client.chat``: ``parse`` and ``parse_stream`` and their twins.

``response_format`` is a pydantic model class. It becomes the strict ``json_schema``
response format the official SDK sends
(:func:`~levante.models.response_format_from_pydantic_model`), and the answer is parsed
back into the model: ``parse`` returns a
:class:`~levante.models.ParsedChatCompletionResponse` whose
``choices[0].message.parsed`` is an instance of it; text that is not raises
:class:`~levante.errors.StructuredOutputError` carrying the raw text.

``parse_stream`` returns a :class:`ParsedChatCompletionStream`: the official SDK's stream
of :class:`~levante.CompletionEvent` chunks, plus :attr:`~ParsedChatCompletionStream.partial`
(the object so far, at every chunk: a validated partial instance, or the JSON value while
it does not validate yet; see :mod:`levante.partial`), ``partial_stream`` and a
``final_response()`` whose ``.parsed`` is the model instance.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import httpx2
from pydantic import BaseModel

from .._endpoint import Call, StreamCall
from ..accumulate_parsed import ParsedChatCompletionAccumulator
from ..models import (
    ChatCompletionResponse,
    CompletionEvent,
    ParsedChatCompletionResponse,
    content_text,
    response_format_from_pydantic_model,
)
from ..sse import ServerSentEvent
from ._streams import (
    AccumulatingStream,
    AccumulatingStreamAsync,
    AsyncPieceIterator,
    PieceIterator,
)

__all__ = [
    "ParsedChatCompletionStream",
    "ParsedChatCompletionStreamAsync",
    "parse_call",
    "parse_fields",
    "parse_stream_call",
]

T = TypeVar("T", bound=BaseModel)


def parse_fields(response_format: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with ``response_format`` replaced by the model's json_schema format.

    Raises :class:`TypeError` (before any request) when ``response_format`` is not a
    pydantic model class.
    """
    return {**params, "response_format": response_format_from_pydantic_model(response_format)}


def parse_call(complete: Call[ChatCompletionResponse], name: str) -> Call[ChatCompletionResponse]:
    """The declaration ``parse`` sends: ``complete``'s, named for error messages."""
    return dataclasses.replace(complete, name=name)


def parse_stream_call(
    stream: StreamCall[Any, Any], model: type[T], name: str
) -> StreamCall[ParsedChatCompletionStream[T], ParsedChatCompletionStreamAsync[T]]:
    """The declaration ``parse_stream`` sends: ``stream``'s, with streams that parse into
    ``model``."""
    return dataclasses.replace(
        stream,
        name=name,
        stream=functools.partial(ParsedChatCompletionStream, model=model),
        stream_async=functools.partial(ParsedChatCompletionStreamAsync, model=model),
    )


def _choice0_text(event: CompletionEvent) -> str | None:
    for choice in event.data.choices:
        if choice.index == 0:
            return content_text(choice.delta.content) or None
    return None


class ParsedChatCompletionStream(
    AccumulatingStream[CompletionEvent, ParsedChatCompletionResponse[T]], Generic[T]
):
    """A structured chat completion as it streams: iterate it for
    :class:`~levante.CompletionEvent` chunks (as the official SDK's ``parse_stream``).

    Beyond the SDK: :attr:`partial` is choice 0's object after the chunks read so far,
    :attr:`partial_stream` yields it after every chunk that carries text, and
    :meth:`final_response` returns the
    :class:`~levante.models.ParsedChatCompletionResponse` (``.choices[0].message.parsed``
    is the model instance), raising :class:`~levante.errors.StructuredOutputError` with
    the raw text when the answer is not one.
    """

    accumulator: ParsedChatCompletionAccumulator[T]
    #: Its partial object needs the accumulator: ``accumulate=False`` is ignored.
    accumulates: ClassVar[bool] = False

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], CompletionEvent],
        *,
        model: type[T],
        **kwargs: Any,
    ) -> None:
        self.model = model
        super().__init__(response, decode, **kwargs)

    def new_accumulator(self) -> ParsedChatCompletionAccumulator[T]:
        """A :class:`~levante.accumulate_parsed.ParsedChatCompletionAccumulator`."""
        return ParsedChatCompletionAccumulator(self.model)

    @property
    def partial(self) -> T | Any:
        """Choice 0's object so far: a model instance when it validates, else the JSON
        value; ``None`` before the first value."""
        return self.accumulator.partial

    @property
    def partial_stream(self) -> Iterator[T | Any]:
        """:attr:`partial` after each chunk that adds text to choice 0."""
        return PieceIterator(self, self._partial_after)

    @property
    def text_stream(self) -> Iterator[str]:
        """Choice 0's raw JSON text pieces as they arrive."""
        return PieceIterator(self, _choice0_text)

    def _partial_after(self, event: CompletionEvent) -> Any:
        return self.accumulator.partial if _choice0_text(event) is not None else None


class ParsedChatCompletionStreamAsync(
    AccumulatingStreamAsync[CompletionEvent, ParsedChatCompletionResponse[T]], Generic[T]
):
    """Async twin of :class:`ParsedChatCompletionStream`."""

    accumulator: ParsedChatCompletionAccumulator[T]
    #: Its partial object needs the accumulator: ``accumulate=False`` is ignored.
    accumulates: ClassVar[bool] = False

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], CompletionEvent],
        *,
        model: type[T],
        **kwargs: Any,
    ) -> None:
        self.model = model
        super().__init__(response, decode, **kwargs)

    def new_accumulator(self) -> ParsedChatCompletionAccumulator[T]:
        """A :class:`~levante.accumulate_parsed.ParsedChatCompletionAccumulator`."""
        return ParsedChatCompletionAccumulator(self.model)

    @property
    def partial(self) -> T | Any:
        """Choice 0's object so far (see :attr:`ParsedChatCompletionStream.partial`)."""
        return self.accumulator.partial

    @property
    def partial_stream(self) -> AsyncIterator[T | Any]:
        """:attr:`partial` after each chunk that adds text to choice 0 (``async for``)."""
        return AsyncPieceIterator(self, self._partial_after)

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """Choice 0's raw JSON text pieces as they arrive (``async for``)."""
        return AsyncPieceIterator(self, _choice0_text)

    def _partial_after(self, event: CompletionEvent) -> Any:
        return self.accumulator.partial if _choice0_text(event) is not None else None
