"""Structured output: the response format from a pydantic model, and parsed completions.

The response format must be the official SDK's byte for byte, so every case is compared
with ``mistralai.extra.utils.response_format_from_pydantic_model`` run on the same
model; parsed completions are compared with the official ``convert_to_parsed_chat_
completion_response`` on the same response JSON.
"""

from __future__ import annotations

import enum
import json
from datetime import date
from typing import Annotated, Any, Literal, Optional

import pytest
from mistralai.client import models as official
from mistralai.extra.struct_chat import convert_to_parsed_chat_completion_response
from mistralai.extra.utils import response_format_from_pydantic_model as official_format
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from levante.errors import MistralError, StructuredOutputError
from levante.models import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ParsedChatCompletionResponse,
    ResponseFormat,
    parse_chat_completion,
    request_json,
    response_format_from_pydantic_model,
    strict_json_schema,
)
from official_compare import assert_same_attributes


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """Where someone lives."""

    street: str
    city: str = Field(description="The city", min_length=1)
    zip_code: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=150)
    emails: list[str] = []
    address: Address
    previous: list[Address] | None = None
    color: Color = Color.RED
    kind: Literal["human", "robot"] = "human"
    scores: dict[str, float] = {}
    birthday: date | None = None


class Node(BaseModel):
    value: int
    children: list[Node] = []


class Weird(BaseModel):
    # a field named "type" whose default is "object", and a dict default that looks
    # like an object schema: the official walk touches them too
    type: str = "object"
    meta: dict[str, Any] = {"type": "object", "properties": {}}
    tuple_field: tuple[int, str] = (1, "a")
    alias_field: int = Field(0, alias="aliasField")
    number: float = 1.5
    flag: bool = True
    nothing: None = None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", title="A strict one")

    when: Optional[int]  # noqa: UP045 - the Optional spelling is part of the case


class Wrapper(RootModel[list[Person]]):
    pass


class Empty(BaseModel):
    pass


MODELS = [Address, Person, Node, Weird, Strict, Wrapper, Empty]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_response_format_is_the_official_one_byte_for_byte(model: type[BaseModel]) -> None:
    ours = response_format_from_pydantic_model(model)
    theirs = official_format(model)
    assert json.dumps(ours) == json.dumps(theirs)
    # and what goes on the wire in a chat request body is the same too
    request = ChatCompletionRequest(model="m", messages=[], response_format=ours)
    official_request = official.ChatCompletionRequest(
        model="m", messages=[], response_format=theirs
    )
    assert (
        json.loads(request_json(request))["response_format"]
        == json.loads(official_request.model_dump_json(by_alias=True))["response_format"]
    )
    assert ResponseFormat.model_validate(ours).json_schema is not None


def test_strict_schema_marks_every_object_and_keeps_key_order() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "object"}}, "x": [{"type": "object"}]}
    result = strict_json_schema(schema)
    assert list(result) == ["type", "properties", "x", "additionalProperties"]
    assert result["properties"]["a"]["additionalProperties"] is False
    assert result["x"][0]["additionalProperties"] is False
    with pytest.raises(ValueError, match="not a JSON schema value"):
        strict_json_schema({"bad": object()})


@pytest.mark.parametrize(
    "bad", [dict, "Person", Person(name="a", age=1, address={"street": "s", "city": "c"}), None]
)
def test_a_response_format_that_is_not_a_model_class_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match="pydantic model class"):
        response_format_from_pydantic_model(bad)


PERSON = {
    "name": "Ada",
    "age": 36,
    "emails": ["ada@example.com"],
    "address": {"street": "1 Main St", "city": "London"},
    "color": "blue",
    "birthday": "1815-12-10",
}


def completion(*contents: Any, extra: dict[str, Any] | None = None) -> str:
    choices = []
    for index, content in enumerate(contents):
        message = None if content is ... else {"role": "assistant", "content": content}
        choice: dict[str, Any] = {"index": index, "finish_reason": "stop"}
        if message is not None:
            choice["message"] = message
        choices.append(choice)
    body = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": choices,
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        **(extra or {}),
    }
    return json.dumps(body)


CASES = [
    completion(json.dumps(PERSON)),
    completion(json.dumps(PERSON), json.dumps({**PERSON, "name": "Bob"})),
    completion(
        [
            {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]},
            {"type": "text", "text": json.dumps(PERSON)[:20]},
            {"type": "text", "text": json.dumps(PERSON)[20:]},
        ]
    ),
    completion(None),
    completion([{"type": "thinking", "thinking": [{"type": "text", "text": "only thoughts"}]}]),
    completion(json.dumps(PERSON), extra={"brand_new": 1}),
]


@pytest.mark.parametrize("body", CASES)
def test_parsed_completion_reads_like_the_official_one(body: str) -> None:
    ours = parse_chat_completion(ChatCompletionResponse.model_validate_json(body), Person)
    theirs = convert_to_parsed_chat_completion_response(
        official.ChatCompletionResponse.model_validate_json(body), Person
    )
    assert isinstance(ours, ParsedChatCompletionResponse)
    assert_same_attributes(ours, theirs)
    for choice in ours.choices:
        assert choice.message is not None
        parsed = choice.message.parsed
        assert parsed is None or isinstance(parsed, Person)


def test_parsed_completion_keeps_the_response_fields() -> None:
    body = completion(json.dumps(PERSON))
    response = ChatCompletionResponse.model_validate_json(body)
    parsed = parse_chat_completion(response, Person)
    assert parsed.id == "c1" and parsed.usage == response.usage
    assert parsed.choices[0].message is not None
    assert parsed.choices[0].message.parsed == Person.model_validate(PERSON)
    assert parsed.choices[0].message.content == json.dumps(PERSON)


@pytest.mark.parametrize(
    ("text", "cause", "needle"),
    [
        ('{"name": "Ada", "age": 36', json.JSONDecodeError, "not JSON"),
        ("Sure! Here is the JSON: {}", json.JSONDecodeError, "not JSON"),
        (
            '{"name": "Ada", "age": -1, "address": {"street": "s", "city": "c"}}',
            ValidationError,
            "age",
        ),
        ("[]", ValidationError, "validate as Person"),
        ("", json.JSONDecodeError, "not JSON"),
    ],
)
def test_output_that_is_not_the_model_raises_with_the_raw_text(
    text: str, cause: type[Exception], needle: str
) -> None:
    body = completion(json.dumps(PERSON), text)
    with pytest.raises(StructuredOutputError, match=needle) as info:
        parse_chat_completion(ChatCompletionResponse.model_validate_json(body), Person)
    error = info.value
    assert error.raw == text
    assert error.model is Person
    assert error.choice_index == 1
    assert isinstance(error.__cause__, cause)
    assert isinstance(error, MistralError) and isinstance(error, ValueError)
    # the official SDK fails on the same text (with the cause levante chains)
    official_body = official.ChatCompletionResponse.model_validate_json(body)
    with pytest.raises(cause):
        convert_to_parsed_chat_completion_response(official_body, Person)
