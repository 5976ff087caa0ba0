"""The stream events of the Responses API: every ``response.*`` type and ``error``.

An event is ``(event, data)`` as in the official SDK's ``ResponsesStreamFrame``:
``event`` is the SSE event type and ``data`` is typed by its own ``type`` field, with one
JSON parse (:func:`decode_responses_event`). Where the official SDK rejects a type it does
not know, levante keeps it in :class:`UnknownResponsesStreamEventData` (``is_unknown`` is
``True``), so a server that adds an event never breaks a stream.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, TypeAdapter

from ._base import MistralModel, Nullable, SentAsNull
from ._events import UnknownEventData, decode_open_union, type_tag, wrap_event
from .responses import CreateResponseResponse, ResponsesOutputItem, ResponsesPart

__all__ = [
    "ResponsesCompletedEvent",
    "ResponsesContentPartAddedEvent",
    "ResponsesContentPartDoneEvent",
    "ResponsesCreatedEvent",
    "ResponsesErrorEvent",
    "ResponsesFailedEvent",
    "ResponsesFunctionCallArgumentsDeltaEvent",
    "ResponsesFunctionCallArgumentsDoneEvent",
    "ResponsesInProgressEvent",
    "ResponsesIncompleteEvent",
    "ResponsesOutputItemAddedEvent",
    "ResponsesOutputItemDoneEvent",
    "ResponsesReasoningTextDeltaEvent",
    "ResponsesReasoningTextDoneEvent",
    "ResponsesStreamFrame",
    "ResponsesStreamFrameData",
    "ResponsesTextDeltaEvent",
    "ResponsesTextDoneEvent",
    "ResponsesTokenLogprob",
    "ResponsesTokenTopLogprob",
    "UnknownResponsesStreamEventData",
    "decode_responses_event",
]


# --- the response as a whole ------------------------------------------------------------


class ResponsesCreatedEvent(MistralModel):
    """``response.created``: the first event, with the response as it starts."""

    response: CreateResponseResponse
    sequence_number: int
    type: Literal["response.created"] = "response.created"


class ResponsesInProgressEvent(MistralModel):
    """``response.in_progress``: the response is being generated."""

    response: CreateResponseResponse
    sequence_number: int
    type: Literal["response.in_progress"] = "response.in_progress"


class ResponsesCompletedEvent(MistralModel):
    """``response.completed``: the whole response, with its usage; the last event."""

    response: CreateResponseResponse
    sequence_number: int
    type: Literal["response.completed"] = "response.completed"


class ResponsesIncompleteEvent(MistralModel):
    """``response.incomplete``: the response stopped early (see its
    ``incomplete_details``); the last event."""

    response: CreateResponseResponse
    sequence_number: int
    type: Literal["response.incomplete"] = "response.incomplete"


class ResponsesFailedEvent(MistralModel):
    """``response.failed``: the response failed (see its ``error``); the last event."""

    response: CreateResponseResponse
    sequence_number: int
    type: Literal["response.failed"] = "response.failed"


class ResponsesErrorEvent(MistralModel):
    """``error``: the server reports an error inside the stream."""

    message: str
    sequence_number: int
    code: SentAsNull[str] = None
    param: SentAsNull[str] = None
    type: Literal["error"] = "error"


# --- output items and content parts ----------------------------------------------------


class ResponsesOutputItemAddedEvent(MistralModel):
    """``response.output_item.added``: a new output item starts at ``output_index``."""

    item: ResponsesOutputItem
    output_index: int
    sequence_number: int
    type: Literal["response.output_item.added"] = "response.output_item.added"


class ResponsesOutputItemDoneEvent(MistralModel):
    """``response.output_item.done``: the output item at ``output_index``, complete."""

    item: ResponsesOutputItem
    output_index: int
    sequence_number: int
    type: Literal["response.output_item.done"] = "response.output_item.done"


class ResponsesContentPartAddedEvent(MistralModel):
    """``response.content_part.added``: a content part starts in an item."""

    content_index: int
    item_id: str
    output_index: int
    part: ResponsesPart
    sequence_number: int
    type: Literal["response.content_part.added"] = "response.content_part.added"


class ResponsesContentPartDoneEvent(MistralModel):
    """``response.content_part.done``: a content part, complete."""

    content_index: int
    item_id: str
    output_index: int
    part: ResponsesPart
    sequence_number: int
    type: Literal["response.content_part.done"] = "response.content_part.done"


# --- deltas ---------------------------------------------------------------------------


class ResponsesTokenTopLogprob(MistralModel):
    """One alternative to a streamed token."""

    token: SentAsNull[str] = None
    logprob: SentAsNull[float] = None


class ResponsesTokenLogprob(MistralModel):
    """Log probability of a streamed token, with its top alternatives."""

    token: str
    logprob: float
    top_logprobs: Nullable[list[ResponsesTokenTopLogprob]] = None


class ResponsesTextDeltaEvent(MistralModel):
    """``response.output_text.delta``: the next piece of an output text part."""

    content_index: int
    delta: str
    item_id: str
    output_index: int
    sequence_number: int
    logprobs: list[ResponsesTokenLogprob] = Field(default_factory=list)
    type: Literal["response.output_text.delta"] = "response.output_text.delta"


class ResponsesTextDoneEvent(MistralModel):
    """``response.output_text.done``: an output text part's whole ``text``."""

    content_index: int
    item_id: str
    output_index: int
    sequence_number: int
    text: str
    logprobs: list[ResponsesTokenLogprob] = Field(default_factory=list)
    type: Literal["response.output_text.done"] = "response.output_text.done"


class ResponsesReasoningTextDeltaEvent(MistralModel):
    """``response.reasoning_text.delta``: the next piece of reasoning text."""

    content_index: int
    delta: str
    item_id: str
    output_index: int
    sequence_number: int
    type: Literal["response.reasoning_text.delta"] = "response.reasoning_text.delta"


class ResponsesReasoningTextDoneEvent(MistralModel):
    """``response.reasoning_text.done``: a reasoning text part's whole ``text``."""

    content_index: int
    item_id: str
    output_index: int
    sequence_number: int
    text: str
    type: Literal["response.reasoning_text.done"] = "response.reasoning_text.done"


class ResponsesFunctionCallArgumentsDeltaEvent(MistralModel):
    """``response.function_call_arguments.delta``: the next piece of a call's arguments."""

    delta: str
    item_id: str
    output_index: int
    sequence_number: int
    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )


class ResponsesFunctionCallArgumentsDoneEvent(MistralModel):
    """``response.function_call_arguments.done``: a call's whole ``arguments``."""

    arguments: str
    item_id: str
    name: str
    output_index: int
    sequence_number: int
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"


class UnknownResponsesStreamEventData(UnknownEventData):
    """A Responses event levante cannot type; everything is kept (see
    :class:`~levante.models.UnknownEventData`)."""


_KNOWN: tuple[type[MistralModel], ...] = (
    ResponsesCreatedEvent,
    ResponsesInProgressEvent,
    ResponsesCompletedEvent,
    ResponsesIncompleteEvent,
    ResponsesFailedEvent,
    ResponsesErrorEvent,
    ResponsesOutputItemAddedEvent,
    ResponsesOutputItemDoneEvent,
    ResponsesContentPartAddedEvent,
    ResponsesContentPartDoneEvent,
    ResponsesTextDeltaEvent,
    ResponsesTextDoneEvent,
    ResponsesReasoningTextDeltaEvent,
    ResponsesReasoningTextDoneEvent,
    ResponsesFunctionCallArgumentsDeltaEvent,
    ResponsesFunctionCallArgumentsDoneEvent,
)
_TYPES = frozenset(str(cls.model_fields["type"].default) for cls in _KNOWN)

_DATA: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        ResponsesCreatedEvent
        | ResponsesInProgressEvent
        | ResponsesCompletedEvent
        | ResponsesIncompleteEvent
        | ResponsesFailedEvent
        | ResponsesErrorEvent
        | ResponsesOutputItemAddedEvent
        | ResponsesOutputItemDoneEvent
        | ResponsesContentPartAddedEvent
        | ResponsesContentPartDoneEvent
        | ResponsesTextDeltaEvent
        | ResponsesTextDoneEvent
        | ResponsesReasoningTextDeltaEvent
        | ResponsesReasoningTextDoneEvent
        | ResponsesFunctionCallArgumentsDeltaEvent
        | ResponsesFunctionCallArgumentsDoneEvent,
        Field(discriminator="type"),
    ]
)

ResponsesStreamFrameData = Annotated[
    Annotated[ResponsesCreatedEvent, Tag("response.created")]
    | Annotated[ResponsesInProgressEvent, Tag("response.in_progress")]
    | Annotated[ResponsesCompletedEvent, Tag("response.completed")]
    | Annotated[ResponsesIncompleteEvent, Tag("response.incomplete")]
    | Annotated[ResponsesFailedEvent, Tag("response.failed")]
    | Annotated[ResponsesErrorEvent, Tag("error")]
    | Annotated[ResponsesOutputItemAddedEvent, Tag("response.output_item.added")]
    | Annotated[ResponsesOutputItemDoneEvent, Tag("response.output_item.done")]
    | Annotated[ResponsesContentPartAddedEvent, Tag("response.content_part.added")]
    | Annotated[ResponsesContentPartDoneEvent, Tag("response.content_part.done")]
    | Annotated[ResponsesTextDeltaEvent, Tag("response.output_text.delta")]
    | Annotated[ResponsesTextDoneEvent, Tag("response.output_text.done")]
    | Annotated[ResponsesReasoningTextDeltaEvent, Tag("response.reasoning_text.delta")]
    | Annotated[ResponsesReasoningTextDoneEvent, Tag("response.reasoning_text.done")]
    | Annotated[
        ResponsesFunctionCallArgumentsDeltaEvent, Tag("response.function_call_arguments.delta")
    ]
    | Annotated[
        ResponsesFunctionCallArgumentsDoneEvent, Tag("response.function_call_arguments.done")
    ]
    | Annotated[UnknownResponsesStreamEventData, Tag("unknown")],
    Discriminator(type_tag(_TYPES)),
]
"""The data of a Responses stream event, one class per ``type``; others are kept."""


class ResponsesStreamFrame(MistralModel):
    """One event of a Responses stream: the SSE ``event`` type and its typed ``data``.

    As in the official SDK: ``if event.data.type == "response.output_text.delta":
    print(event.data.delta, end="")``.
    """

    event: str
    data: ResponsesStreamFrameData


def decode_responses_event(event_type: str, data: str | bytes) -> ResponsesStreamFrame:
    """Decode one Responses SSE event: ``data`` typed by its ``type``, one JSON parse.

    Never raises: an unknown or unfitting payload becomes
    :class:`UnknownResponsesStreamEventData`. (A stream that must stop at an ``error``
    event checks ``isinstance(frame.data, ResponsesErrorEvent)``.)
    """
    payload = decode_open_union(_DATA, UnknownResponsesStreamEventData, data)
    return wrap_event(ResponsesStreamFrame, {"event": event_type, "data": payload})
