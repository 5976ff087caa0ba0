"""``client.beta.conversations`` (alias ``client.conversations``): the Conversations API.

Streams yield :class:`~levante.models.ConversationEvents` typed by their SSE ``event:``
type; they have no ``[DONE]`` and end at ``conversation.response.done`` or
``conversation.response.error``, so a body ending before either raises
:class:`~levante.errors.IncompleteStreamError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from typing_extensions import Required, Unpack

from .._streaming import AsyncStreamContext, EventStream, EventStreamAsync
from ..client import APIRequest
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
from ._base import Resource, StreamParams, build_request

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


def _conversation_path(
    params: Mapping[str, Any], where: str, suffix: str = ""
) -> tuple[str, dict[str, Any]]:
    fields = dict(params)
    conversation_id = fields.pop("conversation_id", None)
    if not isinstance(conversation_id, str) or not conversation_id:
        raise TypeError(f"{where}() requires conversation_id, a non-empty str")
    return f"{CONVERSATIONS_PATH}/{quote(conversation_id, safe='')}{suffix}", fields


def _start(params: Mapping[str, Any], where: str, streaming: bool) -> APIRequest:
    cls = ConversationStreamRequest if streaming else ConversationRequest
    return build_request("POST", CONVERSATIONS_PATH, params, cls, where=where, streaming=streaming)


def _append(params: Mapping[str, Any], where: str, streaming: bool) -> APIRequest:
    path, fields = _conversation_path(params, where)
    cls = ConversationAppendStreamRequest if streaming else ConversationAppendRequest
    return build_request("POST", path, fields, cls, where=where, streaming=streaming)


def _restart(params: Mapping[str, Any], where: str, streaming: bool) -> APIRequest:
    path, fields = _conversation_path(params, where, "/restart")
    cls = ConversationRestartStreamRequest if streaming else ConversationRestartRequest
    return build_request("POST", path, fields, cls, where=where, streaming=streaming)


class Conversations(Resource):
    """Conversations: ``POST /v1/conversations``, ``.../{id}`` and ``.../{id}/restart``."""

    __slots__ = ()

    def _open(self, req: APIRequest) -> EventStream[ConversationEvents]:
        return self._client._stream(
            req,
            EventStream[ConversationEvents],
            decode_conversation_sse,
            terminal_events=TERMINAL_EVENTS,
        )

    def _open_async(
        self, req: APIRequest
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        return self._client._stream_async(
            req,
            EventStreamAsync[ConversationEvents],
            decode_conversation_sse,
            terminal_events=TERMINAL_EVENTS,
        )

    def start_stream(
        self, **params: Unpack[ConversationStartParams]
    ) -> EventStream[ConversationEvents]:
        """Start a conversation and stream its events."""
        return self._open(_start(params, "conversations.start_stream", True))

    def start_stream_async(
        self, **params: Unpack[ConversationStartParams]
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        """Async twin of :meth:`start_stream`."""
        return self._open_async(_start(params, "conversations.start_stream_async", True))

    def append_stream(
        self, **params: Unpack[ConversationAppendParams]
    ) -> EventStream[ConversationEvents]:
        """Append entries to a conversation and stream the new events."""
        return self._open(_append(params, "conversations.append_stream", True))

    def append_stream_async(
        self, **params: Unpack[ConversationAppendParams]
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        """Async twin of :meth:`append_stream`."""
        return self._open_async(_append(params, "conversations.append_stream_async", True))

    def restart_stream(
        self, **params: Unpack[ConversationRestartParams]
    ) -> EventStream[ConversationEvents]:
        """Restart a conversation from an entry and stream the new events."""
        return self._open(_restart(params, "conversations.restart_stream", True))

    def restart_stream_async(
        self, **params: Unpack[ConversationRestartParams]
    ) -> AsyncStreamContext[EventStreamAsync[ConversationEvents]]:
        """Async twin of :meth:`restart_stream`."""
        return self._open_async(_restart(params, "conversations.restart_stream_async", True))

    def start(self, **params: Unpack[ConversationStartParams]) -> ConversationResponse:
        """Start a conversation and return its response in one piece."""
        return self._client._request(
            _start(params, "conversations.start", False), ConversationResponse
        )

    async def start_async(self, **params: Unpack[ConversationStartParams]) -> ConversationResponse:
        """Async twin of :meth:`start`."""
        req = _start(params, "conversations.start_async", False)
        return await self._client._request_async(req, ConversationResponse)

    def append(self, **params: Unpack[ConversationAppendParams]) -> ConversationResponse:
        """Append entries to a conversation and return the response in one piece."""
        req = _append(params, "conversations.append", False)
        return self._client._request(req, ConversationResponse)

    async def append_async(
        self, **params: Unpack[ConversationAppendParams]
    ) -> ConversationResponse:
        """Async twin of :meth:`append`."""
        req = _append(params, "conversations.append_async", False)
        return await self._client._request_async(req, ConversationResponse)

    def restart(self, **params: Unpack[ConversationRestartParams]) -> ConversationResponse:
        """Restart a conversation from an entry and return the response in one piece."""
        req = _restart(params, "conversations.restart", False)
        return self._client._request(req, ConversationResponse)

    async def restart_async(
        self, **params: Unpack[ConversationRestartParams]
    ) -> ConversationResponse:
        """Async twin of :meth:`restart`."""
        req = _restart(params, "conversations.restart_async", False)
        return await self._client._request_async(req, ConversationResponse)
