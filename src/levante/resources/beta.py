"""``client.beta``: the beta APIs (for now, conversations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import Resource
from .conversations import Conversations

if TYPE_CHECKING:
    from ..client import Mistral

__all__ = ["Beta"]


class Beta(Resource):
    """Groups the beta resources, as the official SDK does (``client.beta.conversations``)."""

    __slots__ = ("conversations",)

    def __init__(self, client: Mistral) -> None:
        super().__init__(client)
        self.conversations = Conversations(client)
