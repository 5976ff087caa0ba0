"""Conversation entries: the items a conversation is made of, inputs and outputs alike.

An entry is routed to its class by its ``type`` (or, for a dict without one, by its
fields, as the official SDK's union does); a type levante does not model yet becomes an
:class:`UnknownEntry` that keeps every field.
"""

from datetime import datetime
from typing import Annotated, Any

from pydantic import Discriminator, Tag

from ._base import MistralModel, Nullable
from .messages import MessageContent

__all__ = [
    "AgentHandoffEntry",
    "ConversationInputs",
    "FunctionCallEntry",
    "FunctionResultEntry",
    "InputEntry",
    "MessageInputEntry",
    "MessageOutputEntry",
    "OutputEntry",
    "ToolExecutionEntry",
    "UnknownEntry",
]


class MessageInputEntry(MistralModel):
    """A message given to the conversation (``role`` is ``"user"`` or ``"assistant"``)."""

    role: str
    content: MessageContent
    object: str = "entry"
    type: str = "message.input"
    created_at: datetime | None = None
    completed_at: Nullable[datetime] = None
    id: str | None = None
    prefix: bool = False


class MessageOutputEntry(MistralModel):
    """A message the model (or agent) produced."""

    content: MessageContent
    object: str = "entry"
    type: str = "message.output"
    created_at: datetime | None = None
    completed_at: Nullable[datetime] = None
    agent_id: Nullable[str] = None
    model: Nullable[str] = None
    id: str | None = None
    role: str = "assistant"


class FunctionResultEntry(MistralModel):
    """The result of a function call, given back to the conversation."""

    tool_call_id: str
    result: str
    object: str = "entry"
    type: str = "function.result"
    created_at: datetime | None = None
    completed_at: Nullable[datetime] = None
    id: str | None = None


class FunctionCallEntry(MistralModel):
    """A function call the model asks the client to run."""

    tool_call_id: str
    name: str
    arguments: dict[str, Any] | str
    object: str = "entry"
    type: str = "function.call"
    created_at: datetime | None = None
    completed_at: Nullable[datetime] = None
    agent_id: Nullable[str] = None
    model: Nullable[str] = None
    id: str | None = None
    confirmation_status: Nullable[str] = None


class ToolExecutionEntry(MistralModel):
    """A built-in tool (web search, code interpreter, ...) the server ran."""

    name: str
    arguments: str
    object: str = "entry"
    type: str = "tool.execution"
    created_at: datetime | None = None
    completed_at: Nullable[datetime] = None
    agent_id: Nullable[str] = None
    model: Nullable[str] = None
    id: str | None = None
    info: dict[str, Any] | None = None


class AgentHandoffEntry(MistralModel):
    """One agent handing the conversation over to another."""

    previous_agent_id: str
    previous_agent_name: str
    next_agent_id: str
    next_agent_name: str
    object: str = "entry"
    type: str = "agent.handoff"
    created_at: datetime | None = None
    completed_at: Nullable[datetime] = None
    id: str | None = None


class UnknownEntry(MistralModel):
    """An entry of a type levante does not model yet; every field is kept."""

    type: str


_ENTRY_TYPES = frozenset(
    {
        "message.input",
        "message.output",
        "function.result",
        "function.call",
        "tool.execution",
        "agent.handoff",
    }
)


def _entry_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        kind = getattr(value, "type", None)
        return kind if kind in _ENTRY_TYPES else "unknown"
    kind = value.get("type")
    if isinstance(kind, str):
        return kind if kind in _ENTRY_TYPES else "unknown"
    # Without a "type", tell entries apart by their required fields, as the official
    # SDK's union does: {"role": "user", "content": "hi"} is a message input.
    if "role" in value:
        return "message.input"
    if "tool_call_id" in value:
        return "function.result" if "result" in value else "function.call"
    if "previous_agent_id" in value:
        return "agent.handoff"
    return None


_ENTRY_ERROR = "an entry must have a 'type', or be a message with a 'role'"

InputEntry = Annotated[
    Annotated[MessageInputEntry, Tag("message.input")]
    | Annotated[MessageOutputEntry, Tag("message.output")]
    | Annotated[FunctionResultEntry, Tag("function.result")]
    | Annotated[FunctionCallEntry, Tag("function.call")]
    | Annotated[ToolExecutionEntry, Tag("tool.execution")]
    | Annotated[AgentHandoffEntry, Tag("agent.handoff")]
    | Annotated[UnknownEntry, Tag("unknown")],
    Discriminator(_entry_tag, custom_error_type="invalid_entry", custom_error_message=_ENTRY_ERROR),
]
"""Any conversation entry; dicts are routed by ``type`` (or by their fields)."""

OutputEntry = InputEntry
"""An entry in :attr:`ConversationResponse.outputs` (same union as inputs)."""

ConversationInputs = str | list[InputEntry]
"""What to add to a conversation: a user message as a string, or a list of entries."""
