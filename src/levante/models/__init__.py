"""Pydantic v2 models of the Mistral API: requests, responses, streamed chunks and events.

Data only (no I/O). Every response model keeps unknown fields and accepts unknown enum
values; request models serialize exactly as the official SDK sends them through
:func:`request_body`. Decoding a streamed event is one JSON parse:
:meth:`CompletionEvent.from_sse_data`, :func:`decode_conversation_event`,
:func:`decode_transcription_event`, :func:`decode_speech_event`,
:func:`decode_responses_event` and :func:`decode_workflow_event` (and its log twins).

Everything is importable from here; by family:

- chat, FIM, agents: :mod:`.chat`, :mod:`.messages`, :mod:`.fim`, :mod:`.agents`;
  structured output (``chat.parse``): :mod:`.structured`;
- conversations: :mod:`.conversations`, :mod:`.entries`;
- audio (transcription, speech): :mod:`.audio`; uploads: :mod:`.files`;
- the Responses API: :mod:`.responses`, :mod:`.response_request`,
  :mod:`.response_events`;
- workflow streams: :mod:`.workflows`, :mod:`.workflow_events`;
- models list: :mod:`.models_list`; the bases and the wire rule: :mod:`._base`.
"""

from . import (
    _base,
    agents,
    audio,
    chat,
    conversations,
    entries,
    files,
    fim,
    messages,
    models_list,
    response_events,
    response_request,
    responses,
    structured,
    workflow_events,
    workflows,
)
from ._base import *  # noqa: F403
from ._events import UnknownEventData
from .agents import *  # noqa: F403
from .audio import *  # noqa: F403
from .chat import *  # noqa: F403
from .conversations import *  # noqa: F403
from .entries import *  # noqa: F403
from .files import *  # noqa: F403
from .fim import *  # noqa: F403
from .messages import *  # noqa: F403
from .models_list import *  # noqa: F403
from .response_events import *  # noqa: F403
from .response_request import *  # noqa: F403
from .responses import *  # noqa: F403
from .structured import *  # noqa: F403
from .workflow_events import *  # noqa: F403
from .workflows import *  # noqa: F403

__all__ = ["UnknownEventData"]
__all__ += _base.__all__
__all__ += agents.__all__
__all__ += audio.__all__
__all__ += chat.__all__
__all__ += conversations.__all__
__all__ += entries.__all__
__all__ += files.__all__
__all__ += fim.__all__
__all__ += messages.__all__
__all__ += models_list.__all__
__all__ += response_events.__all__
__all__ += response_request.__all__
__all__ += responses.__all__
__all__ += structured.__all__
__all__ += workflow_events.__all__
__all__ += workflows.__all__
# ruff's order (constants, classes, functions), as every levante __all__
__all__.sort(key=lambda name: (0 if name.isupper() else 1 if name[0].isupper() else 2, name))
