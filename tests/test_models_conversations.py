"""Conversation events against the official SDK: the unknown-event marker ``is_unknown``."""

from __future__ import annotations

import json

import pytest
from mistralai.client import models as official
from mistralai.client.utils.serializers import unmarshal_json

from levante.models import (
    MessageOutputEvent,
    UnknownConversationEventData,
    decode_conversation_event,
)


def _official(event_type: str, data: str) -> official.ConversationEvents:
    # what the official SDK's stream does with one SSE event
    payload = json.dumps({"event": event_type, "data": json.loads(data)})
    result: official.ConversationEvents = unmarshal_json(payload, official.ConversationEvents)
    return result


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("conversation.response.thinking", '{"type":"conversation.response.thinking","n":1}'),
        ("brand.new", '{"type":"brand.new"}'),
    ],
)
def test_unknown_event_says_is_unknown_like_the_official_sdk(event_type: str, data: str) -> None:
    theirs = _official(event_type, data)
    ours = decode_conversation_event(event_type, data)
    assert theirs.data.is_unknown is True  # type: ignore[union-attr]
    assert isinstance(ours.data, UnknownConversationEventData)
    assert ours.data.is_unknown is True
    assert ours.event == theirs.event == event_type
    # levante keeps the real type and the fields (the official SDK keeps them in .raw)
    assert ours.data.type == json.loads(data)["type"]
    assert ours.data.raw == data


def test_known_events_have_no_is_unknown_on_either_side() -> None:
    data = '{"type":"message.output.delta","id":"m","content":"hi"}'
    theirs = _official("message.output.delta", data)
    ours = decode_conversation_event("message.output.delta", data)
    assert isinstance(ours.data, MessageOutputEvent)
    assert not hasattr(theirs.data, "is_unknown")
    assert not hasattr(ours.data, "is_unknown")
    assert getattr(ours.data, "is_unknown", False) is False


def test_is_unknown_is_not_a_field() -> None:
    # it must not be sent back nor appear in dumps: the data round-trips as received
    unknown = decode_conversation_event("later", '{"type":"later","n":1}').data
    assert unknown.model_dump() == {"type": "later", "n": 1}
