"""The API resources hanging off :class:`levante.Mistral`, each method a declaration.

Every resource holds the client's :class:`~levante._send.Sender`, never the client; how to
add an endpoint is at the top of :mod:`levante.resources._base`.
"""

from .agents import Agents, AgentsParams
from .audio import (
    Audio,
    SpeechParams,
    SpeechStream,
    SpeechStreamAsync,
    TranscriptionParams,
    TranscriptionStream,
    TranscriptionStreamAsync,
)
from .beta import Beta
from .chat import Chat, ChatCompletionStream, ChatCompletionStreamAsync, ChatParams
from .conversations import (
    ConversationAppendParams,
    ConversationRestartParams,
    Conversations,
    ConversationStartParams,
)
from .fim import Fim, FIMParams
from .models import Models, ModelsListParams
from .parse import ParsedChatCompletionStream, ParsedChatCompletionStreamAsync
from .responses import Responses, ResponsesParams, ResponseStream, ResponseStreamAsync
from .workflows import (
    DeploymentLogsParams,
    ExecutionLogsParams,
    ExecutionStreamParams,
    StreamEventsParams,
    Workflows,
    WorkflowsEvents,
)

__all__ = [
    "Agents",
    "AgentsParams",
    "Audio",
    "Beta",
    "Chat",
    "ChatCompletionStream",
    "ChatCompletionStreamAsync",
    "ChatParams",
    "ConversationAppendParams",
    "ConversationRestartParams",
    "ConversationStartParams",
    "Conversations",
    "DeploymentLogsParams",
    "ExecutionLogsParams",
    "ExecutionStreamParams",
    "FIMParams",
    "Fim",
    "Models",
    "ModelsListParams",
    "ParsedChatCompletionStream",
    "ParsedChatCompletionStreamAsync",
    "ResponseStream",
    "ResponseStreamAsync",
    "Responses",
    "ResponsesParams",
    "SpeechParams",
    "SpeechStream",
    "SpeechStreamAsync",
    "StreamEventsParams",
    "TranscriptionParams",
    "TranscriptionStream",
    "TranscriptionStreamAsync",
    "Workflows",
    "WorkflowsEvents",
]
