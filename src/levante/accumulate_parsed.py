"""Rebuild a structured chat completion from a stream, with the object visible as it grows.

:class:`ParsedChatCompletionAccumulator` is what a ``chat.parse_stream`` stream feeds: a
:class:`~levante.ChatCompletionAccumulator` for the completion itself, plus a
:class:`~levante.partial.PartialObjectTracker` per choice fed with that choice's text
deltas. :attr:`~ParsedChatCompletionAccumulator.partial` is choice 0's object so far;
:meth:`~ParsedChatCompletionAccumulator.snapshot` (``final_response()``) is the
:class:`~levante.models.ParsedChatCompletionResponse` the official SDK's ``chat.parse``
returns, with ``choices[i].message.parsed`` an instance of the model.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from .accumulate import ChatCompletionAccumulator
from .errors import StructuredOutputError
from .models import (
    CompletionChunk,
    CompletionEvent,
    ParsedChatCompletionResponse,
    content_text,
    parse_chat_completion,
)
from .partial import PartialObjectTracker

__all__ = ["ParsedChatCompletionAccumulator"]

T = TypeVar("T", bound=BaseModel)


class ParsedChatCompletionAccumulator(Generic[T]):
    """Merges a structured-output chat stream; the object is readable at every chunk.

    Feed it every event with :meth:`add`. :attr:`partial` is choice 0's object so far (a
    validated instance of ``model``, or the JSON value while it does not validate yet;
    see :mod:`levante.partial` for what it costs and how fresh it is). When a choice's
    ``finish_reason`` arrives its text is parsed for good; :meth:`snapshot` returns the
    parsed completion and raises :class:`~levante.errors.StructuredOutputError` (with
    the raw text) when a choice's text is not an instance of ``model``. ``budget``,
    ``per_delta`` and ``allowance`` are passed to each
    :class:`~levante.partial.PartialObjectTracker`.
    """

    __slots__ = ("_chat", "_errors", "_model", "_options", "_trackers")

    def __init__(
        self,
        model: type[T],
        *,
        budget: float = 3.0,
        per_delta: float = 64.0,
        allowance: int = 4096,
    ) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"model must be a pydantic model class, not {model!r}")
        self._model = model
        self._options = (budget, per_delta, allowance)
        self._chat = ChatCompletionAccumulator()
        self._trackers: dict[int, PartialObjectTracker[T]] = {}
        self._errors: dict[int, StructuredOutputError] = {}

    def __repr__(self) -> str:
        return (
            f"<ParsedChatCompletionAccumulator {self._model.__name__} "
            f"chunks={self._chat.chunk_count}>"
        )

    @property
    def chat(self) -> ChatCompletionAccumulator:
        """The plain completion accumulator (text, usage, finish reasons)."""
        return self._chat

    def add(self, event: CompletionEvent | CompletionChunk) -> None:
        """Merge one event (or chunk); never raises for an invalid answer (see
        :meth:`snapshot`)."""
        self._chat.add(event)
        chunk = event.data if isinstance(event, CompletionEvent) else event
        for choice in chunk.choices:
            text = content_text(choice.delta.content)
            tracker = self._trackers.get(choice.index)
            if tracker is None:
                budget, per_delta, allowance = self._options
                tracker = self._trackers[choice.index] = PartialObjectTracker(
                    self._model, budget=budget, per_delta=per_delta, allowance=allowance
                )
            if text:
                tracker.feed(text)
            if choice.finish_reason is not None:
                try:
                    tracker.finish()
                except StructuredOutputError as exc:
                    exc.choice_index = choice.index
                    self._errors[choice.index] = exc

    @property
    def partial(self) -> T | Any:
        """Choice 0's object so far: an instance of the model when it validates, else
        the JSON value; ``None`` before its first value."""
        return self.partial_for(0)

    def partial_for(self, index: int) -> T | Any:
        """:attr:`partial` for the choice ``index``."""
        tracker = self._trackers.get(index)
        return tracker.partial if tracker is not None else None

    def tracker(self, index: int = 0) -> PartialObjectTracker[T] | None:
        """The tracker of choice ``index`` (its ``partial_json``, ``text``, ...)."""
        return self._trackers.get(index)

    def snapshot(self) -> ParsedChatCompletionResponse[T]:
        """The completion so far with every choice's text parsed into the model.

        Raises :class:`~levante.errors.StructuredOutputError` when a choice's text is
        not (yet) an instance of the model.
        """

        def parse(text: str, index: int) -> T:
            error = self._errors.get(index)
            if error is not None:
                raise error
            tracker = self._trackers.get(index)
            if tracker is None or tracker.text != text:
                tracker = PartialObjectTracker(self._model)
                tracker.feed(text)
            try:
                return tracker.finish()
            except StructuredOutputError as exc:
                exc.choice_index = index
                raise

        return parse_chat_completion(self._chat.snapshot(), self._model, parse=parse)
