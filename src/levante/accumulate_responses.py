"""Rebuild the final Responses API response from its stream.

A Responses stream announces the response (``response.created``), adds output items
(messages, function calls, reasoning) and their content parts, streams their text,
reasoning text and function-call arguments as deltas, closes each part and item with its
whole value, and ends with ``response.completed`` (or ``incomplete`` / ``failed``) carrying
the response. :class:`ResponseAccumulator` merges all of it into the
:class:`~levante.models.CreateResponseResponse` a non-streamed call returns, at any point
of the stream: the ``.done`` events and the final response win over what the deltas built,
and whatever a server leaves out is rebuilt from the deltas.
"""

from __future__ import annotations

from typing import Any

from .models import (
    CreateResponseResponse,
    ResponsesCompletedEvent,
    ResponsesContent,
    ResponsesContentPartAddedEvent,
    ResponsesContentPartDoneEvent,
    ResponsesCreatedEvent,
    ResponsesErrorEvent,
    ResponsesFailedEvent,
    ResponsesFunctionCallArgumentsDeltaEvent,
    ResponsesFunctionCallArgumentsDoneEvent,
    ResponsesFunctionToolCall,
    ResponsesIncompleteEvent,
    ResponsesInProgressEvent,
    ResponsesOutputItemAddedEvent,
    ResponsesOutputItemDoneEvent,
    ResponsesOutputMessage,
    ResponsesOutputText,
    ResponsesPartReasoningText,
    ResponsesReasoningItem,
    ResponsesReasoningTextDeltaEvent,
    ResponsesReasoningTextDoneEvent,
    ResponsesStreamFrame,
    ResponsesTextDeltaEvent,
    ResponsesTextDoneEvent,
)

__all__ = ["ResponseAccumulator", "responses_text"]

_WHOLE = (ResponsesCreatedEvent, ResponsesInProgressEvent)
_FINAL = (ResponsesCompletedEvent, ResponsesIncompleteEvent, ResponsesFailedEvent)


def responses_text(frame: ResponsesStreamFrame) -> str | None:
    """The output text a frame adds (a ``response.output_text.delta``), else ``None``.

    What a stream's ``text_stream`` yields.
    """
    data = frame.data
    if isinstance(data, ResponsesTextDeltaEvent):
        return data.delta or None
    return None


def _joined(pieces: list[str]) -> str:
    # join once and keep the result, so reading after every delta stays linear
    if len(pieces) > 1:
        pieces[:] = ["".join(pieces)]
    return pieces[0] if pieces else ""


class ResponseAccumulator:
    """Merges a Responses stream into the :class:`~levante.models.CreateResponseResponse`
    the same request returns without streaming; feed it every frame with :meth:`add`,
    take :meth:`snapshot` at any point (a new object each time).

    It rebuilds, per output item: a message's ``output_text`` parts from the text deltas,
    a reasoning item's ``content`` from the reasoning deltas, a function call's
    ``arguments`` from the argument deltas; ``*.done`` events replace what the deltas
    built with the whole value. The response's own fields (id, model, status, usage, ...)
    come from the latest ``response.*`` event; a final one whose ``output`` is not empty
    is taken as it is. An ``error`` frame is kept in :attr:`error`.
    """

    __slots__ = ("_arguments", "_error", "_events", "_final", "_items", "_response", "_texts")

    def __init__(self) -> None:
        self._response: CreateResponseResponse | None = None
        self._final = False
        self._items: dict[int, Any] = {}
        # (output index, content index) -> text pieces of an output or reasoning text
        self._texts: dict[tuple[int, int], list[str]] = {}
        self._arguments: dict[int, list[str]] = {}
        self._error: ResponsesErrorEvent | None = None
        self._events = 0

    def __repr__(self) -> str:
        return f"<ResponseAccumulator events={self._events} items={len(self._items)}>"

    @property
    def event_count(self) -> int:
        """How many frames were added."""
        return self._events

    @property
    def error(self) -> ResponsesErrorEvent | None:
        """The stream's ``error`` event, if one arrived."""
        return self._error

    def add(self, frame: ResponsesStreamFrame) -> None:
        """Merge one frame (unknown event types are counted and otherwise ignored)."""
        if not isinstance(frame, ResponsesStreamFrame):
            raise TypeError(
                "ResponseAccumulator.add() takes a ResponsesStreamFrame, "
                f"not {type(frame).__name__}"
            )
        self._events += 1
        data = frame.data
        if isinstance(data, ResponsesTextDeltaEvent | ResponsesReasoningTextDeltaEvent):
            self._texts.setdefault((data.output_index, data.content_index), []).append(data.delta)
        elif isinstance(data, ResponsesFunctionCallArgumentsDeltaEvent):
            self._arguments.setdefault(data.output_index, []).append(data.delta)
        elif isinstance(data, ResponsesTextDoneEvent | ResponsesReasoningTextDoneEvent):
            self._texts[(data.output_index, data.content_index)] = [data.text]
        elif isinstance(data, ResponsesFunctionCallArgumentsDoneEvent):
            self._arguments[data.output_index] = [data.arguments]
            item = self._items.get(data.output_index)
            if isinstance(item, ResponsesFunctionToolCall) and data.name:
                item.name = data.name
        elif isinstance(data, ResponsesContentPartAddedEvent | ResponsesContentPartDoneEvent):
            self._add_part(data)
        elif isinstance(data, ResponsesOutputItemAddedEvent | ResponsesOutputItemDoneEvent):
            self._add_item(data)
        elif isinstance(data, _WHOLE):
            self._response = data.response
        elif isinstance(data, _FINAL):
            self._response = data.response
            self._final = True
        elif isinstance(data, ResponsesErrorEvent):
            self._error = data

    def _add_item(self, data: ResponsesOutputItemAddedEvent | ResponsesOutputItemDoneEvent) -> None:
        index = data.output_index
        item = data.item.model_copy(deep=True)
        self._items[index] = item
        done = isinstance(data, ResponsesOutputItemDoneEvent)
        if isinstance(item, ResponsesFunctionToolCall):
            if done or item.arguments:
                self._arguments[index] = [item.arguments]
        elif done:
            # the whole item: its parts' texts are final
            for key in [key for key in self._texts if key[0] == index]:
                del self._texts[key]

    def _add_part(
        self, data: ResponsesContentPartAddedEvent | ResponsesContentPartDoneEvent
    ) -> None:
        part = data.part.model_copy(deep=True)
        item = self._items.get(data.output_index)
        if item is None:
            item = self._items[data.output_index] = (
                ResponsesReasoningItem(id=data.item_id, content=[])
                if isinstance(part, ResponsesPartReasoningText)
                else ResponsesOutputMessage(id=data.item_id, content=[], status="in_progress")
            )
        key = (data.output_index, data.content_index)
        text = getattr(part, "text", None)
        if isinstance(text, str) and (text or isinstance(data, ResponsesContentPartDoneEvent)):
            self._texts[key] = [text]
        if isinstance(item, ResponsesOutputMessage):
            _put(item.content, data.content_index, part)
        elif isinstance(item, ResponsesReasoningItem) and isinstance(
            part, ResponsesPartReasoningText
        ):
            if item.content is None:
                item.content = []
            _put(item.content, data.content_index, ResponsesContent(text=part.text))

    @property
    def output_text(self) -> str:
        """The output text of every message so far, joined."""
        texts = []
        for index in sorted(self._items):
            item = self._items[index]
            if isinstance(item, ResponsesOutputMessage):
                for position, part in enumerate(item.content):
                    if isinstance(part, ResponsesOutputText):
                        pieces = self._texts.get((index, position))
                        texts.append(_joined(pieces) if pieces is not None else part.text)
        return "".join(texts)

    def snapshot(self) -> CreateResponseResponse:
        """Return the response as rebuilt so far, as a new independent object."""
        response = self._response
        if self._final and response is not None and response.output:
            return response.model_copy(deep=True)
        if response is None:
            snapshot = CreateResponseResponse(id="", created_at=0, model="")
        else:
            snapshot = response.model_copy(deep=True)
        indexes = sorted(set(self._items) | {key[0] for key in self._texts} | set(self._arguments))
        snapshot.output = [self._build(index) for index in indexes]
        return snapshot

    def _build(self, index: int) -> Any:
        item = self._items.get(index)
        arguments = self._arguments.get(index)
        if item is None:
            item = (
                ResponsesFunctionToolCall(arguments="", call_id="", name="")
                if arguments is not None
                else ResponsesOutputMessage(id="", content=[], status="in_progress")
            )
        else:
            item = item.model_copy(deep=True)
        if isinstance(item, ResponsesFunctionToolCall) and arguments is not None:
            item.arguments = _joined(arguments)
        for (position, content_index), pieces in self._texts.items():
            if position != index:
                continue
            text = _joined(pieces)
            if isinstance(item, ResponsesOutputMessage):
                part = item.content[content_index] if content_index < len(item.content) else None
                if isinstance(part, ResponsesOutputText):
                    part.text = text
                elif part is None:
                    _put(item.content, content_index, ResponsesOutputText(text=text))
            elif isinstance(item, ResponsesReasoningItem):
                if item.content is None:
                    item.content = []
                _put(item.content, content_index, ResponsesContent(text=text))
        return item


def _put(parts: list[Any], index: int, part: Any) -> None:
    # set parts[index]; a part past the end (a server skipping an index) goes last
    if index < len(parts):
        parts[index] = part
    else:
        parts.append(part)
