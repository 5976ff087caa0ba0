"""Conversations (beta): request bodies, the response and the stream events.

The entries a conversation is made of live in :mod:`levante.models.entries`.

A conversation stream carries an ``event:`` line per SSE event; :func:`decode_conversation_event`
picks the data model from that event type and validates the ``data`` with one JSON parse.
An event type levante does not know yet decodes to :class:`UnknownConversationEventData`,
which keeps every field (and the raw text) and says ``is_unknown``, so a new server
feature never breaks a stream.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Discriminator, Tag, ValidationError

from ._base import MistralModel, Nullable, RequestModel
from ._events import UnknownEventData, wrap_event
from .entries import ConversationInputs, OutputEntry
from .messages import ContentChunk, Prediction, ResponseFormat, ToolLike

__all__ = [
    "AgentHandoffDoneEvent",
    "AgentHandoffStartedEvent",
    "CompletionArgs",
    "ConversationAppendRequest",
    "ConversationAppendStreamRequest",
    "ConversationEvents",
    "ConversationEventsData",
    "ConversationRequest",
    "ConversationResponse",
    "ConversationRestartRequest",
    "ConversationRestartStreamRequest",
    "ConversationStreamRequest",
    "ConversationUsageInfo",
    "FunctionCallEvent",
    "MessageOutputEvent",
    "ResponseDoneEvent",
    "ResponseErrorEvent",
    "ResponseStartedEvent",
    "ToolExecutionDeltaEvent",
    "ToolExecutionDoneEvent",
    "ToolExecutionStartedEvent",
    "UnknownConversationEventData",
    "decode_conversation_event",
]


# --- requests -------------------------------------------------------------------------


class CompletionArgs(MistralModel):
    """Sampling arguments of a conversation (``completion_args``)."""

    stop: Nullable[str | list[str]] = None
    presence_penalty: Nullable[float] = None
    frequency_penalty: Nullable[float] = None
    temperature: Nullable[float] = None
    top_p: Nullable[float] = None
    max_tokens: Nullable[int] = None
    random_seed: Nullable[int] = None
    prediction: Nullable[Prediction] = None
    response_format: Nullable[ResponseFormat] = None
    tool_choice: str | None = None
    reasoning_effort: Nullable[str] = None


class ConversationRequest(RequestModel):
    """Body of ``POST /v1/conversations`` (start a conversation) without streaming.

    Give either ``model`` or ``agent_id``. ``handoff_execution`` is ``"client"`` or
    ``"server"``.
    """

    inputs: ConversationInputs
    stream: bool = False
    store: Nullable[bool] = None
    handoff_execution: Nullable[str] = None
    instructions: Nullable[str] = None
    tools: Nullable[list[ToolLike]] = None
    completion_args: Nullable[CompletionArgs] = None
    guardrails: Nullable[list[dict[str, Any]]] = None
    name: Nullable[str] = None
    description: Nullable[str] = None
    metadata: Nullable[dict[str, Any]] = None
    agent_id: Nullable[str] = None
    agent_version: Nullable[str | int] = None
    model: Nullable[str] = None


class ConversationStreamRequest(ConversationRequest):
    """Body of a streamed ``POST /v1/conversations`` (``"stream": true``)."""

    stream: bool = True


class ConversationAppendRequest(RequestModel):
    """Body of ``POST /v1/conversations/{conversation_id}`` (append) without streaming.

    As in the official SDK, ``store`` (``true``) and ``handoff_execution`` (``"server"``)
    are always sent.
    """

    inputs: ConversationInputs | None = None
    stream: bool = False
    store: bool | None = True
    handoff_execution: str | None = "server"
    completion_args: CompletionArgs | None = None
    tool_confirmations: Nullable[list[dict[str, Any]]] = None


class ConversationAppendStreamRequest(ConversationAppendRequest):
    """Body of a streamed append (``"stream": true``)."""

    stream: bool = True


class ConversationRestartRequest(RequestModel):
    """Body of ``POST /v1/conversations/{conversation_id}/restart`` without streaming:
    continue the conversation from the entry ``from_entry_id``."""

    from_entry_id: str
    inputs: ConversationInputs | None = None
    stream: bool = False
    store: bool | None = True
    handoff_execution: str | None = "server"
    completion_args: CompletionArgs | None = None
    guardrails: Nullable[list[dict[str, Any]]] = None
    metadata: Nullable[dict[str, Any]] = None
    agent_version: Nullable[str | int] = None


class ConversationRestartStreamRequest(ConversationRestartRequest):
    """Body of a streamed restart (``"stream": true``)."""

    stream: bool = True


# --- response -------------------------------------------------------------------------


class ConversationUsageInfo(MistralModel):
    """Token counts of a conversation turn."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    connector_tokens: Nullable[int] = None
    connectors: Nullable[dict[str, int]] = None


class ConversationResponse(MistralModel):
    """The answer to a non-streamed start, append or restart."""

    conversation_id: str
    outputs: list[OutputEntry]
    usage: ConversationUsageInfo
    object: str = "conversation.response"
    guardrails: Nullable[list[dict[str, Any]]] = None


# --- stream events --------------------------------------------------------------------


class ResponseStartedEvent(MistralModel):
    """``conversation.response.started``: the server accepted the turn."""

    conversation_id: str
    type: str = "conversation.response.started"
    created_at: datetime | None = None


class MessageOutputEvent(MistralModel):
    """``message.output.delta``: a piece of the model's message (text or one chunk)."""

    id: str
    content: str | ContentChunk
    type: str = "message.output.delta"
    created_at: datetime | None = None
    output_index: int = 0
    content_index: int = 0
    model: Nullable[str] = None
    agent_id: Nullable[str] = None
    role: str = "assistant"


class ToolExecutionStartedEvent(MistralModel):
    """``tool.execution.started``: the server started a built-in tool."""

    id: str
    name: str
    arguments: str
    type: str = "tool.execution.started"
    created_at: datetime | None = None
    output_index: int = 0
    model: Nullable[str] = None
    agent_id: Nullable[str] = None


class ToolExecutionDeltaEvent(MistralModel):
    """``tool.execution.delta``: more arguments of a running built-in tool."""

    id: str
    name: str
    arguments: str
    type: str = "tool.execution.delta"
    created_at: datetime | None = None
    output_index: int = 0


class ToolExecutionDoneEvent(MistralModel):
    """``tool.execution.done``: a built-in tool finished (details in ``info``)."""

    id: str
    name: str
    type: str = "tool.execution.done"
    created_at: datetime | None = None
    output_index: int = 0
    info: dict[str, Any] | None = None


class FunctionCallEvent(MistralModel):
    """``function.call.delta``: a piece of a function call for the client to run."""

    id: str
    name: str
    tool_call_id: str
    arguments: str
    type: str = "function.call.delta"
    created_at: datetime | None = None
    output_index: int = 0
    model: Nullable[str] = None
    agent_id: Nullable[str] = None
    confirmation_status: Nullable[str] = None


class AgentHandoffStartedEvent(MistralModel):
    """``agent.handoff.started``: the current agent hands over."""

    id: str
    previous_agent_id: str
    previous_agent_name: str
    type: str = "agent.handoff.started"
    created_at: datetime | None = None
    output_index: int = 0


class AgentHandoffDoneEvent(MistralModel):
    """``agent.handoff.done``: the next agent took over."""

    id: str
    next_agent_id: str
    next_agent_name: str
    type: str = "agent.handoff.done"
    created_at: datetime | None = None
    output_index: int = 0


class ResponseDoneEvent(MistralModel):
    """``conversation.response.done``: the turn is complete; the last event of a stream."""

    usage: ConversationUsageInfo
    type: str = "conversation.response.done"
    created_at: datetime | None = None


class ResponseErrorEvent(MistralModel):
    """``conversation.response.error``: the server failed the turn; the last event."""

    message: str
    code: int
    type: str = "conversation.response.error"
    created_at: datetime | None = None


class UnknownConversationEventData(UnknownEventData):
    """The data of a conversation event type levante does not know: every JSON field is
    kept, ``raw`` is the data as received and ``is_unknown`` is ``True`` (see
    :class:`~levante.models.UnknownEventData`)."""


_EVENT_DATA_MODELS: dict[str, type[MistralModel]] = {
    "conversation.response.started": ResponseStartedEvent,
    "message.output.delta": MessageOutputEvent,
    "tool.execution.started": ToolExecutionStartedEvent,
    "tool.execution.delta": ToolExecutionDeltaEvent,
    "tool.execution.done": ToolExecutionDoneEvent,
    "function.call.delta": FunctionCallEvent,
    "agent.handoff.started": AgentHandoffStartedEvent,
    "agent.handoff.done": AgentHandoffDoneEvent,
    "conversation.response.done": ResponseDoneEvent,
    "conversation.response.error": ResponseErrorEvent,
}


def _event_data_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if isinstance(kind, str) and kind in _EVENT_DATA_MODELS else "unknown"


ConversationEventsData = Annotated[
    Annotated[ResponseStartedEvent, Tag("conversation.response.started")]
    | Annotated[MessageOutputEvent, Tag("message.output.delta")]
    | Annotated[ToolExecutionStartedEvent, Tag("tool.execution.started")]
    | Annotated[ToolExecutionDeltaEvent, Tag("tool.execution.delta")]
    | Annotated[ToolExecutionDoneEvent, Tag("tool.execution.done")]
    | Annotated[FunctionCallEvent, Tag("function.call.delta")]
    | Annotated[AgentHandoffStartedEvent, Tag("agent.handoff.started")]
    | Annotated[AgentHandoffDoneEvent, Tag("agent.handoff.done")]
    | Annotated[ResponseDoneEvent, Tag("conversation.response.done")]
    | Annotated[ResponseErrorEvent, Tag("conversation.response.error")]
    | Annotated[UnknownConversationEventData, Tag("unknown")],
    Discriminator(_event_data_tag),
]
"""The data of a conversation stream event, one class per event type.

:func:`decode_conversation_event` picks the class from the SSE event type; validating a
:class:`ConversationEvents` from a dict picks it from the data's ``type`` field.
"""


class ConversationEvents(MistralModel):
    """One event of a conversation stream: the SSE ``event`` type and its typed ``data``.

    As in the official SDK: ``if event.event == "message.output.delta":
    print(event.data.content)``.
    """

    event: str
    data: ConversationEventsData


def decode_conversation_event(event_type: str, data: str | bytes) -> ConversationEvents:
    """Decode one conversation SSE event, choosing the data model by ``event_type``.

    One ``model_validate_json`` call per event. A known event type whose data does not
    match its model raises :class:`pydantic.ValidationError`; an unknown event type never
    raises and yields :class:`UnknownConversationEventData`. When the event type is unknown
    (e.g. ``"message"``, the SSE default for a server that sends no ``event:`` line) but
    the data's ``type`` field names a known event, that event's model is used and
    ``event.event`` is set to it.
    """
    model = _EVENT_DATA_MODELS.get(event_type)
    payload: MistralModel
    if model is not None:
        payload = model.model_validate_json(data)
    else:
        payload = unknown = UnknownConversationEventData.from_raw(data)
        fallback = _EVENT_DATA_MODELS.get(unknown.type) if unknown.type else None
        if fallback is not None:
            # rare path (a server that omits "event:" lines): validate the parsed fields
            try:
                payload = fallback.model_validate(unknown.model_dump(by_alias=True))
            except ValidationError:
                payload = unknown
            else:
                event_type = str(unknown.type)
    # already validated: skip re-validating the data union (see CompletionEvent)
    return wrap_event(ConversationEvents, {"event": event_type, "data": payload})
