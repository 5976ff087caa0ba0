"""The Responses API (``POST /v1/responses``): output items, content parts, tools, the
response.

Names and fields are the official SDK's; unknown fields are kept and any string is
accepted where the official SDK lists values. The request body is in
:mod:`levante.models.response_request`, the stream events in
:mod:`levante.models.response_events`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from ._base import MistralModel, Nullable, SentAsNull
from ._events import type_tag

__all__ = [
    "CreateResponseResponse",
    "ResponsesAnnotation",
    "ResponsesAnnotationContainerFileCitation",
    "ResponsesAnnotationFileCitation",
    "ResponsesAnnotationFilePath",
    "ResponsesAnnotationURLCitation",
    "ResponsesContent",
    "ResponsesCustomTool",
    "ResponsesError",
    "ResponsesFunctionTool",
    "ResponsesFunctionToolCall",
    "ResponsesIncompleteDetails",
    "ResponsesInputTokensDetails",
    "ResponsesNamespaceTool",
    "ResponsesOutputItem",
    "ResponsesOutputMessage",
    "ResponsesOutputRefusal",
    "ResponsesOutputText",
    "ResponsesOutputTextLogprob",
    "ResponsesOutputTextTopLogprob",
    "ResponsesOutputTokensDetails",
    "ResponsesPart",
    "ResponsesPartReasoningText",
    "ResponsesReasoning",
    "ResponsesReasoningItem",
    "ResponsesSummary",
    "ResponsesTextConfig",
    "ResponsesTool",
    "ResponsesToolChoiceFunction",
    "ResponsesToolFunction",
    "ResponsesUsage",
    "UnknownResponsesItem",
]


def _open_tag(known: frozenset[str]) -> Discriminator:
    return Discriminator(type_tag(known))


class UnknownResponsesItem(MistralModel):
    """An item, part, tool or annotation of a type levante does not model yet; every
    field is kept and it serializes back as received."""

    type: str | None = None


# --- content parts ----------------------------------------------------------------------


class ResponsesAnnotationFileCitation(MistralModel):
    """A citation of an uploaded file."""

    file_id: str
    filename: str
    index: int
    type: Literal["file_citation"] = "file_citation"


class ResponsesAnnotationURLCitation(MistralModel):
    """A citation of a web page, with the span of text it supports."""

    end_index: int
    start_index: int
    title: str
    url: str
    type: Literal["url_citation"] = "url_citation"


class ResponsesAnnotationContainerFileCitation(MistralModel):
    """A citation of a file in a container."""

    container_id: str
    end_index: int
    file_id: str
    filename: str
    start_index: int
    type: Literal["container_file_citation"] = "container_file_citation"


class ResponsesAnnotationFilePath(MistralModel):
    """A path to a generated file."""

    file_id: str
    index: int
    type: Literal["file_path"] = "file_path"


ResponsesAnnotation = Annotated[
    Annotated[ResponsesAnnotationFileCitation, Tag("file_citation")]
    | Annotated[ResponsesAnnotationURLCitation, Tag("url_citation")]
    | Annotated[ResponsesAnnotationContainerFileCitation, Tag("container_file_citation")]
    | Annotated[ResponsesAnnotationFilePath, Tag("file_path")]
    | Annotated[UnknownResponsesItem, Tag("unknown")],
    _open_tag(frozenset({"file_citation", "url_citation", "container_file_citation", "file_path"})),
]
"""An annotation of output text, by ``type``; unknown types are kept."""


class ResponsesOutputTextTopLogprob(MistralModel):
    """One alternative to an output token, with its log probability."""

    token: str
    bytes_: list[int] = Field(default_factory=list, alias="bytes")
    logprob: float


class ResponsesOutputTextLogprob(MistralModel):
    """Log probability of one output token, with its top alternatives."""

    token: str
    bytes_: list[int] = Field(default_factory=list, alias="bytes")
    logprob: float
    top_logprobs: list[ResponsesOutputTextTopLogprob] = Field(default_factory=list)


class ResponsesOutputText(MistralModel):
    """Text the model wrote (``type`` ``"output_text"``)."""

    text: str
    annotations: list[ResponsesAnnotation] = Field(default_factory=list)
    type: Literal["output_text"] = "output_text"
    logprobs: Nullable[list[ResponsesOutputTextLogprob]] = None


class ResponsesOutputRefusal(MistralModel):
    """A refusal instead of an answer."""

    refusal: str
    type: Literal["refusal"] = "refusal"


class ResponsesPartReasoningText(MistralModel):
    """Reasoning text, as a content part of a stream (``"reasoning_text"``)."""

    text: str
    type: Literal["reasoning_text"] = "reasoning_text"


ResponsesPart = Annotated[
    Annotated[ResponsesOutputText, Tag("output_text")]
    | Annotated[ResponsesOutputRefusal, Tag("refusal")]
    | Annotated[ResponsesPartReasoningText, Tag("reasoning_text")]
    | Annotated[UnknownResponsesItem, Tag("unknown")],
    _open_tag(frozenset({"output_text", "refusal", "reasoning_text"})),
]
"""A content part (of a message, or of ``response.content_part.*`` events)."""


# --- output items -----------------------------------------------------------------------


class ResponsesOutputMessage(MistralModel):
    """A message the model produced; ``status`` is ``"in_progress"``, ``"completed"`` or
    ``"incomplete"``."""

    id: str
    content: list[ResponsesPart]
    status: str
    role: Literal["assistant"] = "assistant"
    type: Literal["message"] = "message"
    phase: SentAsNull[str] = None


class ResponsesFunctionToolCall(MistralModel):
    """A call of a function tool, for the client to run; ``arguments`` is JSON text."""

    arguments: str
    call_id: str
    name: str
    type: Literal["function_call"] = "function_call"
    id: SentAsNull[str] = None
    caller: Nullable[dict[str, Any]] = None
    namespace: SentAsNull[str] = None
    status: SentAsNull[str] = None


class ResponsesSummary(MistralModel):
    """A summary of reasoning."""

    text: str
    type: Literal["summary_text"] = "summary_text"


class ResponsesContent(MistralModel):
    """Reasoning text inside a reasoning item."""

    text: str
    type: Literal["reasoning_text"] = "reasoning_text"


class ResponsesReasoningItem(MistralModel):
    """The model's reasoning: summaries, and the reasoning text in ``content``."""

    id: str
    summary: list[ResponsesSummary] = Field(default_factory=list)
    type: Literal["reasoning"] = "reasoning"
    content: Nullable[list[ResponsesContent]] = None
    encrypted_content: SentAsNull[str] = None
    status: SentAsNull[str] = None


ResponsesOutputItem = Annotated[
    Annotated[ResponsesOutputMessage, Tag("message")]
    | Annotated[ResponsesFunctionToolCall, Tag("function_call")]
    | Annotated[ResponsesReasoningItem, Tag("reasoning")]
    | Annotated[UnknownResponsesItem, Tag("unknown")],
    _open_tag(frozenset({"message", "function_call", "reasoning"})),
]
"""An item of :attr:`CreateResponseResponse.output`, by ``type``; unknown types are kept."""


# --- tools and settings -----------------------------------------------------------------


class ResponsesFunctionTool(MistralModel):
    """A function the model may call."""

    name: str
    parameters: Nullable[dict[str, Any]] = None
    strict: SentAsNull[bool] = None
    type: Literal["function"] = "function"
    allowed_callers: Nullable[list[str]] = None
    defer_loading: SentAsNull[bool] = None
    description: SentAsNull[str] = None
    output_schema: Nullable[dict[str, Any]] = None


class ResponsesToolFunction(MistralModel):
    """A function inside a :class:`ResponsesNamespaceTool`."""

    name: str
    type: Literal["function"] = "function"
    allowed_callers: Nullable[list[str]] = None
    defer_loading: SentAsNull[bool] = None
    description: SentAsNull[str] = None
    output_schema: Nullable[dict[str, Any]] = None
    parameters: SentAsNull[Any] = None
    strict: SentAsNull[bool] = None


class ResponsesCustomTool(MistralModel):
    """A custom (free-form input) tool inside a :class:`ResponsesNamespaceTool`;
    ``format_`` is its ``format`` key (``{"type": "text"}`` or a grammar)."""

    name: str
    type: Literal["custom"] = "custom"
    allowed_callers: Nullable[list[str]] = None
    defer_loading: SentAsNull[bool] = None
    description: SentAsNull[str] = None
    format_: Nullable[dict[str, Any]] = Field(default=None, alias="format")


class ResponsesNamespaceTool(MistralModel):
    """A named group of tools."""

    description: str
    name: str
    tools: list[
        Annotated[
            Annotated[ResponsesToolFunction, Tag("function")]
            | Annotated[ResponsesCustomTool, Tag("custom")]
            | Annotated[UnknownResponsesItem, Tag("unknown")],
            _open_tag(frozenset({"function", "custom"})),
        ]
    ]
    type: Literal["namespace"] = "namespace"


ResponsesTool = Annotated[
    Annotated[ResponsesFunctionTool, Tag("function")]
    | Annotated[ResponsesNamespaceTool, Tag("namespace")]
    | Annotated[UnknownResponsesItem, Tag("unknown")],
    _open_tag(frozenset({"function", "namespace"})),
]
"""A tool, by ``type``; unknown types are kept."""


class ResponsesToolChoiceFunction(MistralModel):
    """Forces a call of the function ``name``."""

    name: str
    type: Literal["function"] = "function"


class ResponsesReasoning(MistralModel):
    """Reasoning settings: ``effort`` is ``"none"``, ``"minimal"``, ``"low"``,
    ``"medium"``, ``"high"``, ``"xhigh"`` or ``"max"``."""

    effort: SentAsNull[str] = None


class ResponsesTextConfig(MistralModel):
    """Text output settings: ``format_`` (the ``format`` key: ``{"type": "text"}``,
    ``{"type": "json_object"}`` or a ``json_schema`` format) and ``verbosity``."""

    format_: Nullable[dict[str, Any]] = Field(default=None, alias="format")
    verbosity: SentAsNull[str] = None


# --- the response -----------------------------------------------------------------------


class ResponsesError(MistralModel):
    """Why a response failed (``code`` such as ``"server_error"``)."""

    code: str
    message: str


class ResponsesIncompleteDetails(MistralModel):
    """Why a response is incomplete: ``"max_output_tokens"`` or ``"content_filter"``."""

    reason: SentAsNull[str] = None


class ResponsesInputTokensDetails(MistralModel):
    """Cached prompt tokens."""

    cache_write_tokens: int = 0
    cached_tokens: int = 0


class ResponsesOutputTokensDetails(MistralModel):
    """Reasoning tokens among the output tokens."""

    reasoning_tokens: int = 0


class ResponsesUsage(MistralModel):
    """Token counts of a response."""

    input_tokens: int = 0
    input_tokens_details: ResponsesInputTokensDetails = Field(
        default_factory=ResponsesInputTokensDetails
    )
    output_tokens: int = 0
    output_tokens_details: ResponsesOutputTokensDetails = Field(
        default_factory=ResponsesOutputTokensDetails
    )
    total_tokens: int = 0


class CreateResponseResponse(MistralModel):
    """A response: the body of a non-streamed ``responses.create``, the ``response`` of
    the ``response.created`` / ``in_progress`` / ``completed`` / ... events, and what
    :class:`levante.ResponseAccumulator` rebuilds from a stream.

    ``status`` is ``"completed"``, ``"failed"``, ``"in_progress"``, ``"cancelled"``,
    ``"queued"`` or ``"incomplete"``.
    """

    id: str
    created_at: float
    model: str
    output: list[ResponsesOutputItem] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    tool_choice: str | ResponsesToolChoiceFunction = "auto"
    tools: list[ResponsesTool] = Field(default_factory=list)
    error: Nullable[ResponsesError] = None
    incomplete_details: Nullable[ResponsesIncompleteDetails] = None
    instructions: SentAsNull[str] = None
    metadata: Nullable[dict[str, str]] = None
    object: str = "response"
    temperature: SentAsNull[float] = None
    top_p: SentAsNull[float] = None
    background: SentAsNull[bool] = None
    completed_at: SentAsNull[float] = None
    max_output_tokens: SentAsNull[int] = None
    max_tool_calls: SentAsNull[int] = None
    previous_response_id: SentAsNull[str] = None
    prompt_cache_key: SentAsNull[str] = None
    prompt_cache_retention: SentAsNull[str] = None
    reasoning: Nullable[ResponsesReasoning] = None
    safety_identifier: SentAsNull[str] = None
    service_tier: SentAsNull[str] = None
    status: SentAsNull[str] = None
    text: Nullable[ResponsesTextConfig] = None
    top_logprobs: SentAsNull[int] = None
    truncation: SentAsNull[str] = None
    usage: Nullable[ResponsesUsage] = None
    user: SentAsNull[str] = None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message, joined."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, ResponsesOutputMessage)
            for part in item.content
            if isinstance(part, ResponsesOutputText)
        )
