"""``client.beta.conversations`` (alias ``client.conversations``): the Conversations API.

Streams yield :class:`~levante.models.ConversationEvents` typed by their SSE ``event:``
type; they have no ``[DONE]`` and end at ``conversation.response.done`` or
``conversation.response.error``, so a body ending before either raises
:class:`~levante.errors.IncompleteStreamError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext, EventStream, EventStreamAsync
from ..models import (
    ConversationAppendRequest,
    ConversationAppendStreamRequest,
    ConversationEvents,
    ConversationRequest,
    ConversationResponse,
    ConversationRestartRequest,
    ConversationRestartStreamRequest,
    ConversationStreamRequest,
    decode_conversation_event,
)
from ..sse import ServerSentEvent
from ._base import JSON, Call, EndRule, Resource, StreamCall, StreamParams

__all__ = [
    "TERMINAL_EVENTS",
    "ConversationAppendParams",
    "ConversationRestartParams",
    "ConversationStartParams",
    "Conversations",
]

CONVERSATIONS_PATH = "/v1/conversations"

#: The event types that end a conversation stream.
TERMINAL_EVENTS = frozenset({"conversation.response.done", "conversation.response.error"})


class ConversationStartParams(StreamParams, total=False):
    """Keyword arguments of ``start`` / ``start_stream`` (as in the official SDK).

    ``inputs`` (a string or a list of entries) is required; pass ``model`` or ``agent_id``.
    """

    inputs: Required[str | Sequence[Any]]
    stream: bool | None
    store: bool | None
    handoff_execution: str | None
    instructions: str | None
    tools: Sequence[Any] | None
    completion_args: Any
    guardrails: Sequence[Any] | None
    name: str | None
    description: str | None
    metadata: Mapping[str, Any] | None
    agent_id: str | None
    agent_version: Any
    model: str | None


class ConversationAppendParams(StreamParams, total=False):
    """Keyword arguments of ``append`` / ``append_stream`` (as in the official SDK).

    ``store`` defaults to ``True`` and ``handoff_execution`` to ``"server"``, and both are
    sent, as the official SDK does.
    """

    conversation_id: Required[str]
    inputs: str | Sequence[Any] | None
    stream: bool | None
    store: bool | None
    handoff_execution: str | None
    completion_args: Any
    tool_confirmations: Sequence[Any] | None


class ConversationRestartParams(StreamParams, total=False):
    """Keyword arguments of ``restart`` / ``restart_stream`` (as in the official SDK)."""

    conversation_id: Required[str]
    from_entry_id: Required[str]
    inputs: str | Sequence[Any] | None
    stream: bool | None
    store: bool | None
    handoff_execution: str | None
    completion_args: Any
    guardrails: Sequence[Any] | None
    metadata: Mapping[str, Any] | None
    agent_version: Any


def decode_conversation_sse(sse: ServerSentEvent) -> ConversationEvents:
    """Decode one conversation event by its SSE type (unknown types decode generically)."""
    return decode_conversation_event(sse.event, sse.data)


def _stream_call(
    name: str, path: str, request: type[BaseModel]
) -> StreamCall[EventStream[ConversationEvents], EventStreamAsync[ConversationEvents]]:
    return StreamCall(
        name=f"conversations.{name}",
        method="POST",
        path=path,
        body=JSON(request),
        stream=EventStream[ConversationEvents],
        stream_async=EventStreamAsync[ConversationEvents],
        decode=decode_conversation_sse,
        end=EndRule.at_event(TERMINAL_EVENTS),
    )


def _call(name: str, path: str, request: type[BaseModel]) -> Call[ConversationResponse]:
    return Call(
        name=f"conversations.{name}",
        method="POST",
        path=path,
        body=JSON(request),
        response=ConversationResponse,
    )


_ONE = CONVERSATIONS_PATH + "/{conversation_id}"
_RESTART = _ONE + "/restart"

START_STREAM = _stream_call("start_stream", CONVERSATIONS_PATH, ConversationStreamRequest)
APPEND_STREAM = _stream_call("append_stream", _ONE, ConversationAppendStreamRequest)
RESTART_STREAM = _stream_call("restart_stream", _RESTART, ConversationRestartStreamRequest)
START = _call("start", CONVERSATIONS_PATH, ConversationRequest)
APPEND = _call("append", _ONE, ConversationAppendRequest)
RESTART = _call("restart", _RESTART, ConversationRestartRequest)


class Conversations(Resource):
    """Conversations: ``POST /v1/conversations``, ``.../{id}`` and ``.../{id}/restart``."""

    __slots__ = ()

    def start_stream(
        self, **params: Unpack[ConversationStartParams]
    ) -> EventStream[ConversationEvents]:
        """Start a conversation and stream its events."""
        return self._sender.stream(START_STREAM, params)

    def start_stream_async(
        self, **params: Unpack[ConversationStartParams]
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        """Async twin of :meth:`start_stream`."""
        return self._sender.stream_async(START_STREAM, params)

    def append_stream(
        self, **params: Unpack[ConversationAppendParams]
    ) -> EventStream[ConversationEvents]:
        """Append entries to a conversation and stream the new events."""
        return self._sender.stream(APPEND_STREAM, params)

    def append_stream_async(
        self, **params: Unpack[ConversationAppendParams]
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        """Async twin of :meth:`append_stream`."""
        return self._sender.stream_async(APPEND_STREAM, params)

    def restart_stream(
        self, **params: Unpack[ConversationRestartParams]
    ) -> EventStream[ConversationEvents]:
        """Restart a conversation from an entry and stream the new events."""
        return self._sender.stream(RESTART_STREAM, params)

    def restart_stream_async(
        self, **params: Unpack[ConversationRestartParams]
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        """Async twin of :meth:`restart_stream`."""
        return self._sender.stream_async(RESTART_STREAM, params)

    def start(self, **params: Unpack[ConversationStartParams]) -> ConversationResponse:
        """Start a conversation and return its response in one piece."""
        return self._sender.request(START, params)

    async def start_async(self, **params: Unpack[ConversationStartParams]) -> ConversationResponse:
        """Async twin of :meth:`start`."""
        return await self._sender.request_async(START, params)

    def append(self, **params: Unpack[ConversationAppendParams]) -> ConversationResponse:
        """Append entries to a conversation and return the response in one piece."""
        return self._sender.request(APPEND, params)

    async def append_async(
        self, **params: Unpack[ConversationAppendParams]
    ) -> ConversationResponse:
        """Async twin of :meth:`append`."""
        return await self._sender.request_async(APPEND, params)

    def restart(self, **params: Unpack[ConversationRestartParams]) -> ConversationResponse:
        """Restart a conversation from an entry and return the response in one piece."""
        return self._sender.request(RESTART, params)

    async def restart_async(
        self, **params: Unpack[ConversationRestartParams]
    ) -> ConversationResponse:
        """Async twin of :meth:`restart`."""
        return await self._sender.request_async(RESTART, params)
