"""The body of ``POST /v1/responses`` and the items its ``input`` is made of.

:class:`CreateResponseRequest` sends what the official SDK sends, defaults included
(``parallel_tool_calls``, ``truncation``, ``background``, ``stream``, ``store``,
``top_logprobs``); input items given as dicts are routed to their class the way the
official SDK's union picks them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag

from ._base import MistralModel, Nullable
from ._events import type_tag
from .responses import (
    ResponsesFunctionToolCall,
    ResponsesOutputMessage,
    ResponsesReasoning,
    ResponsesReasoningItem,
    ResponsesTextConfig,
    ResponsesTool,
    ResponsesToolChoiceFunction,
    UnknownResponsesItem,
)

__all__ = [
    "CreateResponseRequest",
    "ResponsesFunctionCallOutput",
    "ResponsesInputFile",
    "ResponsesInputImage",
    "ResponsesInputItem",
    "ResponsesInputMessage",
    "ResponsesInputPart",
    "ResponsesInputText",
]


# --- input parts ------------------------------------------------------------------------
# Modelled (rather than sent as the caller's dicts) so that their keys go out in the
# official SDK's order, and the body is byte for byte the official one.


class ResponsesInputText(MistralModel):
    """An ``input_text`` part of an input message."""

    text: str
    type: Literal["input_text"] = "input_text"
    prompt_cache_breakpoint: Nullable[dict[str, Any]] = None


class ResponsesInputImage(MistralModel):
    """An ``input_image`` part: ``image_url`` (a URL or a data URL) or ``file_id``;
    ``detail`` is ``"low"``, ``"high"`` or ``"auto"``."""

    detail: str | None = None
    type: Literal["input_image"] = "input_image"
    file_id: Nullable[str] = None
    image_url: Nullable[str] = None
    prompt_cache_breakpoint: Nullable[dict[str, Any]] = None


class ResponsesInputFile(MistralModel):
    """An ``input_file`` part: ``file_data``, ``file_id`` or ``file_url``."""

    type: Literal["input_file"] = "input_file"
    detail: Nullable[str] = None
    file_data: Nullable[str] = None
    file_id: Nullable[str] = None
    file_url: Nullable[str] = None
    filename: Nullable[str] = None
    prompt_cache_breakpoint: Nullable[dict[str, Any]] = None


ResponsesInputPart = Annotated[
    Annotated[ResponsesInputText, Tag("input_text")]
    | Annotated[ResponsesInputImage, Tag("input_image")]
    | Annotated[ResponsesInputFile, Tag("input_file")]
    | Annotated[dict[str, Any], Tag("unknown")],
    Discriminator(type_tag(frozenset({"input_text", "input_image", "input_file"}))),
]
"""A part of an input message's content, by ``type``; other types are sent as given."""


# --- input items ------------------------------------------------------------------------


class ResponsesInputMessage(MistralModel):
    """A message given to the model (``role``: ``"user"``, ``"assistant"``, ``"system"``
    or ``"developer"``); ``content`` is a string or a list of ``input_text``,
    ``input_image`` and ``input_file`` parts (models or dicts)."""

    content: str | list[ResponsesInputPart]
    role: str
    type: Nullable[str] = "message"
    phase: Nullable[str] = None
    status: Nullable[str] = None


class ResponsesFunctionCallOutput(MistralModel):
    """The result of a function call, given back to the model."""

    call_id: str
    output: str | list[dict[str, Any]]
    type: Literal["function_call_output"] = "function_call_output"
    id: Nullable[str] = None
    caller: Nullable[dict[str, Any]] = None
    status: Nullable[str] = None


_OUTPUT_PART_TYPES = frozenset({"output_text", "refusal"})


def _input_tag(value: Any) -> str:
    if not isinstance(value, dict):
        kind = getattr(value, "type", None)
        if isinstance(value, ResponsesInputMessage):
            return "input_message"
        return kind if kind in _INPUT_KINDS else "unknown"
    kind = value.get("type", "message")
    if kind == "message":
        # an assistant message given back as received has output parts
        content = value.get("content")
        if isinstance(content, list) and any(
            isinstance(part, dict) and part.get("type") in _OUTPUT_PART_TYPES for part in content
        ):
            return "message"
        return "input_message"
    return kind if kind in _INPUT_KINDS else "unknown"


_INPUT_KINDS = frozenset({"message", "function_call", "function_call_output", "reasoning"})

ResponsesInputItem = Annotated[
    Annotated[ResponsesInputMessage, Tag("input_message")]
    | Annotated[ResponsesOutputMessage, Tag("message")]
    | Annotated[ResponsesFunctionCallOutput, Tag("function_call_output")]
    | Annotated[ResponsesReasoningItem, Tag("reasoning")]
    | Annotated[ResponsesFunctionToolCall, Tag("function_call")]
    | Annotated[UnknownResponsesItem, Tag("unknown")],
    Discriminator(_input_tag),
]
"""An item of the request's ``input``: a message (dicts without a ``type`` are
messages), a function call and its output, reasoning, or a previous output item."""


# --- the request ------------------------------------------------------------------------


class CreateResponseRequest(MistralModel):
    """Body of ``POST /v1/responses``.

    The official SDK always sends ``parallel_tool_calls`` (``true``), ``truncation``
    (``"disabled"``), ``background`` (``false``), ``stream``, ``store`` (``false``) and
    ``top_logprobs`` (``0``); so does this model. Unknown keys are kept and sent (the
    official SDK's ``additional_properties``).
    """

    model: str
    input: str | list[ResponsesInputItem]
    instructions: Nullable[str] = None
    parallel_tool_calls: bool | None = True
    previous_response_id: Nullable[Any] = None
    truncation: str | None = "disabled"
    tools: list[ResponsesTool] | None = None
    tool_choice: str | ResponsesToolChoiceFunction | None = None
    reasoning: Nullable[ResponsesReasoning] = None
    conversation: Nullable[Any] = None
    prompt: Nullable[Any] = None
    text: Nullable[ResponsesTextConfig] = None
    background: bool | None = False
    stream: bool | None = False
    store: Nullable[bool] = False
    max_output_tokens: Nullable[int] = None
    temperature: Nullable[float] = None
    top_p: Nullable[float] = None
    metadata: Nullable[dict[str, str]] = None
    prompt_cache_key: Nullable[str] = None
    max_tool_calls: Nullable[int] = None
    moderation: Nullable[Any] = None
    top_logprobs: Nullable[int] = 0
