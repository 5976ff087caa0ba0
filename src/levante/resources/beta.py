"""``client.beta``: the beta APIs (for now, conversations)."""

from __future__ import annotations

from .._send import Sender
from ._base import Resource
from .conversations import Conversations

__all__ = ["Beta"]


class Beta(Resource):
    """Groups the beta resources, as the official SDK does (``client.beta.conversations``)."""

    __slots__ = ("conversations",)

    def __init__(self, sender: Sender) -> None:
        super().__init__(sender)
        self.conversations = Conversations(sender)
