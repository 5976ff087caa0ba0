"""Structured output: a pydantic model as ``response_format``, and the parsed completion.

:func:`response_format_from_pydantic_model` builds the strict ``json_schema`` response
format the official SDK's ``chat.parse`` sends, byte for byte: the model's JSON schema with
``"additionalProperties": false`` set on every object schema, named after the model.
:func:`parse_chat_completion` turns a :class:`~levante.models.ChatCompletionResponse` into a
:class:`ParsedChatCompletionResponse` whose ``choices[i].message.parsed`` is an instance
of the model, as the official SDK does (``json.loads`` then ``model_validate``), and raises
:class:`levante.errors.StructuredOutputError`, with the raw text, when it is not one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import StructuredOutputError
from .chat import ChatCompletionChoice, ChatCompletionResponse
from .messages import AssistantMessage, MessageContent, TextChunk

__all__ = [
    "ParsedAssistantMessage",
    "ParsedChatCompletionChoice",
    "ParsedChatCompletionResponse",
    "content_text",
    "parse_chat_completion",
    "parse_structured_output",
    "response_format_from_pydantic_model",
    "strict_json_schema",
]

T = TypeVar("T", bound=BaseModel)


def strict_json_schema(node: Any) -> Any:
    """Set ``"additionalProperties": false`` on every object schema inside ``node``.

    Walks dicts and lists in place, as the official SDK does, so the keys of the result
    come in the same order (an added key goes last) and the JSON is byte-identical.
    """
    if isinstance(node, dict):
        if node.get("type") == "object":
            node["additionalProperties"] = False
        for value in node.values():
            strict_json_schema(value)
    elif isinstance(node, list):
        for value in node:
            strict_json_schema(value)
    elif not (node is None or isinstance(node, (str, bool, int, float))):
        raise ValueError(f"not a JSON schema value: {node!r}")
    return node


def response_format_from_pydantic_model(model: type[BaseModel]) -> dict[str, Any]:
    """The ``response_format`` the official SDK sends for ``model`` in ``chat.parse``.

    ``{"type": "json_schema", "json_schema": {"name": <class name>, "schema": <strict
    schema>, "strict": true}}``; raises :class:`TypeError` when ``model`` is not a
    pydantic model class (before anything is sent).
    """
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(
            "response_format must be a pydantic model class (a subclass of "
            f"pydantic.BaseModel), not {model!r}"
        )
    return {
        "type": "json_schema",
        "json_schema": {
            "name": model.__name__,
            "schema": strict_json_schema(model.model_json_schema()),
            "strict": True,
        },
    }


class ParsedAssistantMessage(AssistantMessage, Generic[T]):
    """An assistant message with ``parsed``, the content as an instance of the model."""

    parsed: T | None = None


class ParsedChatCompletionChoice(ChatCompletionChoice, Generic[T]):
    """A choice whose ``message`` is a :class:`ParsedAssistantMessage`."""

    message: ParsedAssistantMessage[T] | None = None


class ParsedChatCompletionResponse(ChatCompletionResponse, Generic[T]):
    """What ``chat.parse`` returns: ``choices[0].message.parsed`` is the model instance."""

    choices: list[ParsedChatCompletionChoice[T]]  # type: ignore[assignment]


def content_text(content: MessageContent | None) -> str | None:
    """The text structured output is parsed from: the content string, or the text chunks
    of a content list joined (thinking and other chunks left out); ``None`` when there is
    no text, as the official SDK counts it."""
    if content is None or isinstance(content, str):
        return content
    text = "".join(chunk.text for chunk in content if isinstance(chunk, TextChunk))
    return text or None


def parse_structured_output(text: str, model: type[T], *, choice_index: int = 0) -> T:
    """Parse ``text`` into ``model`` as the official SDK does (``json.loads``, then
    ``model_validate``); raise :class:`~levante.errors.StructuredOutputError` otherwise."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StructuredOutputError(
            f"the output is not JSON ({exc})",
            raw=text,
            model=model,
            choice_index=choice_index,
        ) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise StructuredOutputError(
            f"the output does not validate as {model.__name__}: "
            f"{exc.error_count()} error(s), first: {_first_error(exc)}",
            raw=text,
            model=model,
            choice_index=choice_index,
        ) from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "(root)"
    return f"{where}: {error['msg']}"


def _fields(model: BaseModel) -> dict[str, Any]:
    # the fields the source set (so the wire rule still applies) and its extra fields
    data = {name: getattr(model, name) for name in model.model_fields_set}
    data.update(model.model_extra or {})
    return data


def parse_chat_completion(
    response: ChatCompletionResponse,
    model: type[T],
    *,
    parse: Callable[[str, int], T] | None = None,
) -> ParsedChatCompletionResponse[T]:
    """Parse every choice's message content into ``model``.

    A choice without a message, or whose message has no text, gets ``parsed=None``; text
    that is not a valid ``model`` raises
    :class:`~levante.errors.StructuredOutputError` (carrying the raw text). ``parse``,
    given ``(text, choice index)``, replaces :func:`parse_structured_output` (a stream
    passes the objects it already parsed).
    """
    choices: list[ParsedChatCompletionChoice[T]] = []
    for choice in response.choices:
        fields = _fields(choice)
        message = choice.message
        if message is not None:
            text = content_text(message.content)
            if text is None:
                parsed = None
            elif parse is not None:
                parsed = parse(text, choice.index)
            else:
                parsed = parse_structured_output(text, model, choice_index=choice.index)
            fields["message"] = ParsedAssistantMessage[model].model_validate(  # type: ignore[valid-type]
                {**_fields(message), "parsed": parsed}
            )
        choices.append(ParsedChatCompletionChoice[model].model_validate(fields))  # type: ignore[valid-type]
    top = _fields(response)
    top["choices"] = choices
    return ParsedChatCompletionResponse[model].model_validate(top)  # type: ignore[valid-type]
