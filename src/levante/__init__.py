"""levante: exact, fast, leak-proof streaming for the Mistral chat completions API.

The public names live in private or layered modules and are re-exported here; see the
README for usage and the design section for how the layers fit together.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: importing typing would cost the command line ~10 ms at startup,
# and type checkers give the name TYPE_CHECKING its meaning wherever it is defined.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import errors, models, sse
    from ._connect import aconnect_sse, connect_sse
    from ._reconnect import Reconnect
    from ._retry import RetryConfig
    from ._streaming import (
        AsyncStreamContext,
        EndRule,
        EventStream,
        EventStreamAsync,
        StreamStats,
    )
    from ._version import __version__
    from .accumulate import ChatCompletionAccumulator
    from .accumulate_audio import SpeechAccumulator, TranscriptionAccumulator
    from .accumulate_responses import ResponseAccumulator
    from .azure import MistralAzure
    from .client import DEFAULT_SERVER_URL, DEFAULT_TIMEOUT, Mistral
    from .errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        HTTPValidationError,
        IncompleteStreamError,
        InternalServerError,
        MistralError,
        NotAnEventStream,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ReconnectError,
        ResponseTooLarge,
        StreamAPIError,
        StreamClosed,
        StreamDecodeError,
        StreamDisconnectedError,
        StreamError,
        StreamEventTooLarge,
        StreamTimeout,
        StructuredOutputError,
    )
    from .gcp import MistralGCP
    from .models import (
        AssistantMessage,
        ChatCompletionChoice,
        ChatCompletionResponse,
        CompletionChunk,
        CompletionEvent,
        CompletionResponseStreamChoice,
        ConversationEvents,
        ConversationResponse,
        DeltaMessage,
        File,
        FIMCompletionResponse,
        Function,
        FunctionCall,
        ImageURL,
        ImageURLChunk,
        JSONSchema,
        ModelCard,
        ModelList,
        ParsedChatCompletionResponse,
        Prediction,
        ResponseFormat,
        SystemMessage,
        TextChunk,
        Tool,
        ToolCall,
        ToolChoice,
        ToolMessage,
        UsageInfo,
        UserMessage,
    )
    from .resources import (
        ChatCompletionStream,
        ChatCompletionStreamAsync,
        ParsedChatCompletionStream,
        ParsedChatCompletionStreamAsync,
        ResponseStream,
        ResponseStreamAsync,
        SpeechStream,
        SpeechStreamAsync,
        TranscriptionStream,
        TranscriptionStreamAsync,
    )
    from .sse import EventTooLarge, ServerSentEvent, SSEDecoder, SSEError

# What each public name is imported from. Nothing is imported until a name is first used
# (PEP 562 ``__getattr__``), so ``import levante`` is instant and the ``levante`` command
# starts without loading httpx2 and pydantic. Keep this table, the block above (which type
# checkers read) and ``__all__`` in step: tests/test_lazy_import.py checks that they agree.
_LAZY: dict[str, tuple[str, ...]] = {
    "": ("errors", "models", "sse"),
    "_connect": ("aconnect_sse", "connect_sse"),
    "_reconnect": ("Reconnect",),
    "_retry": ("RetryConfig",),
    "_streaming": (
        "AsyncStreamContext",
        "EndRule",
        "EventStream",
        "EventStreamAsync",
        "StreamStats",
    ),
    "_version": ("__version__",),
    "accumulate": ("ChatCompletionAccumulator",),
    "accumulate_audio": ("SpeechAccumulator", "TranscriptionAccumulator"),
    "accumulate_responses": ("ResponseAccumulator",),
    "azure": ("MistralAzure",),
    "client": ("DEFAULT_SERVER_URL", "DEFAULT_TIMEOUT", "Mistral"),
    "errors": (
        "APIConnectionError",
        "APIError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "HTTPValidationError",
        "IncompleteStreamError",
        "InternalServerError",
        "MistralError",
        "NotAnEventStream",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "ReconnectError",
        "ResponseTooLarge",
        "StreamAPIError",
        "StreamClosed",
        "StreamDecodeError",
        "StreamDisconnectedError",
        "StreamError",
        "StreamEventTooLarge",
        "StreamTimeout",
        "StructuredOutputError",
    ),
    "gcp": ("MistralGCP",),
    "models": (
        "AssistantMessage",
        "ChatCompletionChoice",
        "ChatCompletionResponse",
        "CompletionChunk",
        "CompletionEvent",
        "CompletionResponseStreamChoice",
        "ConversationEvents",
        "ConversationResponse",
        "DeltaMessage",
        "FIMCompletionResponse",
        "File",
        "Function",
        "FunctionCall",
        "ImageURL",
        "ImageURLChunk",
        "JSONSchema",
        "ModelCard",
        "ModelList",
        "ParsedChatCompletionResponse",
        "Prediction",
        "ResponseFormat",
        "SystemMessage",
        "TextChunk",
        "Tool",
        "ToolCall",
        "ToolChoice",
        "ToolMessage",
        "UsageInfo",
        "UserMessage",
    ),
    "resources": (
        "ChatCompletionStream",
        "ChatCompletionStreamAsync",
        "ParsedChatCompletionStream",
        "ParsedChatCompletionStreamAsync",
        "ResponseStream",
        "ResponseStreamAsync",
        "SpeechStream",
        "SpeechStreamAsync",
        "TranscriptionStream",
        "TranscriptionStreamAsync",
    ),
    "sse": ("EventTooLarge", "ServerSentEvent", "SSEDecoder", "SSEError"),
}
_SOURCE = {name: module for module, names in _LAZY.items() for name in names}


# Hidden from type checkers: they read the imports above, and a visible module
# __getattr__ would make every misspelt ``levante.Name`` type-check as Any.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _SOURCE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        if module:
            value = getattr(importlib.import_module(f".{module}", __name__), name)
        else:
            value = importlib.import_module(f".{name}", __name__)
        globals()[name] = value  # the next lookup is a plain module attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncStreamContext",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletionAccumulator",
    "ChatCompletionChoice",
    "ChatCompletionResponse",
    "ChatCompletionStream",
    "ChatCompletionStreamAsync",
    "CompletionChunk",
    "CompletionEvent",
    "CompletionResponseStreamChoice",
    "ConversationEvents",
    "ConversationResponse",
    "DeltaMessage",
    "EndRule",
    "EventStream",
    "EventStreamAsync",
    "EventTooLarge",
    "FIMCompletionResponse",
    "File",
    "Function",
    "FunctionCall",
    "HTTPValidationError",
    "ImageURL",
    "ImageURLChunk",
    "IncompleteStreamError",
    "InternalServerError",
    "JSONSchema",
    "Mistral",
    "MistralAzure",
    "MistralError",
    "MistralGCP",
    "ModelCard",
    "ModelList",
    "NotAnEventStream",
    "NotFoundError",
    "ParsedChatCompletionResponse",
    "ParsedChatCompletionStream",
    "ParsedChatCompletionStreamAsync",
    "PermissionDeniedError",
    "Prediction",
    "RateLimitError",
    "Reconnect",
    "ReconnectError",
    "ResponseAccumulator",
    "ResponseFormat",
    "ResponseStream",
    "ResponseStreamAsync",
    "ResponseTooLarge",
    "RetryConfig",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "SpeechAccumulator",
    "SpeechStream",
    "SpeechStreamAsync",
    "StreamAPIError",
    "StreamClosed",
    "StreamDecodeError",
    "StreamDisconnectedError",
    "StreamError",
    "StreamEventTooLarge",
    "StreamStats",
    "StreamTimeout",
    "StructuredOutputError",
    "SystemMessage",
    "TextChunk",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "ToolMessage",
    "TranscriptionAccumulator",
    "TranscriptionStream",
    "TranscriptionStreamAsync",
    "UsageInfo",
    "UserMessage",
    "__version__",
    "aconnect_sse",
    "connect_sse",
    "errors",
    "models",
    "sse",
]
