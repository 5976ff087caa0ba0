"""Chat messages, content chunks, tools, tool calls, response formats and predictions.

These models appear both in requests (what the caller sends) and in responses (what the
model answers), so they keep unknown fields and serialize by the wire rule of
:mod:`levante.models._base`. Plain dicts are accepted wherever one of them is expected:
``{"role": "user", "content": "hi"}`` validates into a :class:`UserMessage`.
"""

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from ._base import MistralModel, Nullable

__all__ = [
    "AssistantMessage",
    "AudioChunk",
    "ContentChunk",
    "DocumentURLChunk",
    "FileChunk",
    "Function",
    "FunctionCall",
    "FunctionName",
    "ImageURL",
    "ImageURLChunk",
    "JSONSchema",
    "Message",
    "MessageContent",
    "Prediction",
    "ReferenceChunk",
    "ResponseFormat",
    "ResponseFormats",
    "SystemMessage",
    "TextChunk",
    "ThinkChunk",
    "Tool",
    "ToolCall",
    "ToolChoice",
    "ToolChoiceEnum",
    "ToolFileChunk",
    "ToolLike",
    "ToolMessage",
    "ToolReferenceChunk",
    "UnknownContentChunk",
    "UserMessage",
]


# --- content chunks -------------------------------------------------------------------


class TextChunk(MistralModel):
    """A piece of text inside a message's content list."""

    text: str
    type: Literal["text"] = "text"


class ImageURL(MistralModel):
    """An image reference: an ``https://`` URL or a ``data:image/...;base64,`` URL."""

    url: str
    detail: Nullable[str] = None
    """``"low"``, ``"auto"`` or ``"high"`` (any other string is passed through)."""


class ImageURLChunk(MistralModel):
    """An image in a message: ``image_url`` is a URL string or an :class:`ImageURL`."""

    image_url: ImageURL | str
    type: Literal["image_url"] = "image_url"


class DocumentURLChunk(MistralModel):
    """A document (PDF, ...) given by URL, for document understanding."""

    document_url: str
    type: Literal["document_url"] = "document_url"
    document_name: Nullable[str] = None


class FileChunk(MistralModel):
    """A file uploaded to the Files API, by id."""

    file_id: str
    type: Literal["file"] = "file"


class AudioChunk(MistralModel):
    """Audio input: a URL or base64-encoded audio."""

    input_audio: str
    type: Literal["input_audio"] = "input_audio"


class ReferenceChunk(MistralModel):
    """References (by id) to sources the answer used."""

    reference_ids: list[int | str]
    type: Literal["reference"] = "reference"


class ToolReferenceChunk(MistralModel):
    """A source a built-in tool (web search, ...) found, cited in the answer."""

    tool: str
    title: str
    type: Literal["tool_reference"] = "tool_reference"
    url: Nullable[str] = None
    favicon: Nullable[str] = None
    description: Nullable[str] = None


class ToolFileChunk(MistralModel):
    """A file a built-in tool (code interpreter, image generation) produced."""

    tool: str
    file_id: str
    type: Literal["tool_file"] = "tool_file"
    file_name: Nullable[str] = None
    file_type: Nullable[str] = None


class ThinkChunk(MistralModel):
    """Reasoning output of a reasoning model (content chunk of type ``"thinking"``)."""

    thinking: "list[ContentChunk]"
    type: Literal["thinking"] = "thinking"
    signature: Nullable[str] = None
    closed: bool | None = None


class UnknownContentChunk(MistralModel):
    """A content chunk of a type levante does not model yet; every field is kept.

    ``chunk.type`` holds the type and the other fields are in ``chunk.model_extra``;
    it serializes back to exactly what was received, so it round-trips through requests.
    """

    type: str


_KNOWN_CHUNK_TYPES = frozenset(
    {
        "text",
        "image_url",
        "document_url",
        "file",
        "input_audio",
        "reference",
        "tool_reference",
        "tool_file",
        "thinking",
    }
)


def _chunk_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return None
    return kind if kind in _KNOWN_CHUNK_TYPES else "unknown"


ContentChunk = Annotated[
    Annotated[TextChunk, Tag("text")]
    | Annotated[ImageURLChunk, Tag("image_url")]
    | Annotated[DocumentURLChunk, Tag("document_url")]
    | Annotated[FileChunk, Tag("file")]
    | Annotated[AudioChunk, Tag("input_audio")]
    | Annotated[ReferenceChunk, Tag("reference")]
    | Annotated[ToolReferenceChunk, Tag("tool_reference")]
    | Annotated[ToolFileChunk, Tag("tool_file")]
    | Annotated[ThinkChunk, Tag("thinking")]
    | Annotated[UnknownContentChunk, Tag("unknown")],
    Discriminator(
        _chunk_tag,
        custom_error_type="invalid_content_chunk",
        custom_error_message="a content chunk must be an object with a string 'type'",
    ),
]
"""One element of a content list, chosen by its ``type``; unknown types are kept."""

MessageContent = str | list[ContentChunk]
"""Message content: a string, or a list of content chunks (text, images, ...)."""

ThinkChunk.model_rebuild()


# --- tool calls -----------------------------------------------------------------------


class FunctionCall(MistralModel):
    """The function a model wants called, with its arguments.

    In a stream, ``arguments`` arrives as JSON text split over several deltas, and
    ``name`` may be sent only in the first one (it is ``""`` when absent);
    :class:`levante.ChatCompletionAccumulator` merges them.
    """

    name: str = ""
    arguments: dict[str, Any] | str = ""


class ToolCall(MistralModel):
    """A tool call made by the model (or a delta of one, in a stream).

    The defaults are the official SDK's: ``id`` is the string ``"null"`` when the server
    sent none, and ``index`` is ``0`` (check ``"index" in call.model_fields_set`` to know
    whether the server sent it).
    """

    function: FunctionCall
    id: str = "null"
    type: str = "function"
    index: int = 0


# --- messages -------------------------------------------------------------------------


class SystemMessage(MistralModel):
    """A system prompt."""

    content: MessageContent
    role: Literal["system"] = "system"


class UserMessage(MistralModel):
    """A message from the user: text, or a list of text and image chunks."""

    content: Nullable[MessageContent]
    role: Literal["user"] = "user"


class AssistantMessage(MistralModel):
    """A message from the model; also the ``message`` of a non-streamed completion.

    Set ``prefix=True`` to make the model continue from this message's content.
    """

    role: Literal["assistant"] = "assistant"
    content: Nullable[MessageContent] = None
    tool_calls: Nullable[list[ToolCall]] = None
    prefix: bool = False


class ToolMessage(MistralModel):
    """The result of a tool call, sent back to the model."""

    content: Nullable[MessageContent]
    role: Literal["tool"] = "tool"
    tool_call_id: Nullable[str] = None
    name: Nullable[str] = None


def _role_tag(value: Any) -> str | None:
    role = value.get("role") if isinstance(value, dict) else getattr(value, "role", None)
    return role if isinstance(role, str) else None


Message = Annotated[
    Annotated[SystemMessage, Tag("system")]
    | Annotated[UserMessage, Tag("user")]
    | Annotated[AssistantMessage, Tag("assistant")]
    | Annotated[ToolMessage, Tag("tool")],
    Discriminator(
        _role_tag,
        custom_error_type="invalid_message",
        custom_error_message=(
            "a message must be a SystemMessage, UserMessage, AssistantMessage or "
            "ToolMessage, or a dict whose 'role' is 'system', 'user', 'assistant' or 'tool'"
        ),
    ),
]
"""Any chat message; a dict is routed to its class by ``role``."""


# --- tools ----------------------------------------------------------------------------


class Function(MistralModel):
    """A function the model may call: name, JSON-schema parameters, description."""

    name: str
    parameters: dict[str, Any]
    description: str | None = None
    strict: bool | None = None


class Tool(MistralModel):
    """A tool of type ``"function"``."""

    function: Function
    type: str = "function"


def _tool_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    # a tool without a type is a function tool, as in the official SDK
    return "function" if kind is None or kind == "function" else "other"


ToolLike = Annotated[
    (Annotated[Tool, Tag("function")] | Annotated[dict[str, Any], Tag("other")]),
    Discriminator(_tool_tag),
]
"""A function :class:`Tool`, or any other tool type (built-in connectors) as a plain dict."""


class FunctionName(MistralModel):
    """Names the function a :class:`ToolChoice` forces."""

    name: str


class ToolChoice(MistralModel):
    """Forces the model to call one specific function."""

    function: FunctionName
    type: str = "function"


ToolChoiceEnum = Literal["auto", "none", "any", "required"] | str
"""``"auto"``, ``"none"``, ``"any"`` or ``"required"`` (other strings pass through)."""


# --- response format and prediction ---------------------------------------------------


class JSONSchema(MistralModel):
    """A named JSON schema for ``response_format={"type": "json_schema", ...}``.

    The schema itself is the ``schema`` key on the wire (``schema_definition`` in Python,
    because ``schema`` is a pydantic method name).
    """

    name: str
    schema_definition: dict[str, Any] = Field(alias="schema")
    description: Nullable[str] = None
    strict: bool | None = None


ResponseFormats = Literal["text", "json_object", "json_schema"] | str
"""The known ``ResponseFormat.type`` values (other strings pass through)."""


class ResponseFormat(MistralModel):
    """Output format: ``type`` is ``"text"``, ``"json_object"`` or ``"json_schema"``."""

    type: str | None = None
    json_schema: Nullable[JSONSchema] = None


class Prediction(MistralModel):
    """Expected completion text, to speed up generation when most of it is known."""

    type: Literal["content"] = "content"
    content: str = ""
