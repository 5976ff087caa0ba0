"""Sans-IO Server-Sent Events: feed bytes, get :class:`ServerSentEvent` objects.

This package knows nothing about HTTP, Mistral or pydantic and imports nothing from the
rest of levante; anything that opens a connection lives a floor higher.

>>> decoder = SSEDecoder()
>>> decoder.feed(b"event: greet\\ndata: hello\\n\\ndata: wor")
[ServerSentEvent(event='greet', data='hello', id='', retry=None)]
>>> decoder.feed(b"ld\\n\\n")
[ServerSentEvent(event='message', data='world', id='', retry=None)]
>>> decoder.end()
[]
"""

from ._decoder import DEFAULT_MAX_EVENT_SIZE, SSEDecoder
from ._event import EventTooLarge, ServerSentEvent, SSEError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "EventTooLarge", "SSEDecoder", "SSEError", "ServerSentEvent"]
