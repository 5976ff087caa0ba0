"""The dev server's built-in fake LLMs: deterministic replies, no I/O, no timing.

Every model is a pure function of the request, so tests can assert exact text:

``levante-echo``
    Replies with the last user message, token by token.
``levante-long``
    Deterministic pseudo-prose: exactly ``max_tokens`` tokens (finish reason ``length``)
    when ``max_tokens`` is given, else 512 tokens (``stop``).  ``random_seed`` picks the text.
``levante-chat`` (aliases ``mistral-small-latest``, ``mistral-medium-latest``,
``mistral-large-latest``, ``open-mistral-nemo``, ``ministral-8b-latest``)
    A canned-answer assistant: a paragraph about the levante wind when asked about it, a
    greeting for a greeting, the result of a tool after a tool message, otherwise a short
    note that quotes the prompt (and the message before it, in a conversation).
``codestral-latest``
    Chat like ``levante-chat``; on ``/v1/fim/completions`` it fills the gap with a fixed
    snippet.

A token is a word with the whitespace that follows it (``"Hello, "``, ``"world"``); leading
whitespace is a token of its own, so joining the tokens gives back the text exactly.

Tool calls: when ``tools`` are given and ``tool_choice`` is ``"any"``/``"required"``, names
a function, or is ``"auto"`` (the default) and the last user message mentions a tool's name,
the reply is a tool call (finish reason ``tool_calls``) instead of text.  Arguments are
built from the tool's JSON schema: the first ``enum`` value or the ``default`` when there
is one, else for strings the last capitalised word of the prompt that does not open it
(``"Paris"``) or ``"levante"``, ``1`` for integers, ``1.0`` for numbers, ``true``, ``[]``, ``{}``.

Response formats: ``json_object`` turns the text into ``{"reply": "<text>"}``;
``json_schema`` replies with a deterministic instance of the schema
(:mod:`levante.devserver.schema`: nested objects, ``$ref``, arrays, enums, formats...).

Reasoning: asked to think, a model first "thinks" :func:`thinking_text` (streamed as
``thinking`` content chunks), then answers as usual.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .schema import instance

__all__ = [
    "DEFAULT_LONG_TOKENS",
    "MODELS",
    "ModelSpec",
    "PlannedToolCall",
    "Reply",
    "chat_reply",
    "fim_reply",
    "message_text",
    "resolve_model",
    "split_arguments",
    "thinking_text",
    "tokenize",
]

DEFAULT_LONG_TOKENS = 512

_TOKEN_RE = re.compile(r"\s+|\S+\s*")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into word tokens that join back into ``text``."""
    return _TOKEN_RE.findall(text)


@dataclass(frozen=True)
class ModelSpec:
    """One built-in model: its id, how it behaves and what ``/v1/models`` says about it."""

    id: str
    behaviour: str  # "echo" | "long" | "chat"
    description: str
    aliases: tuple[str, ...] = ()
    fim: bool = False


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("levante-echo", "echo", "Replies with the last user message."),
    ModelSpec("levante-long", "long", "Deterministic long text; honours max_tokens."),
    ModelSpec(
        "levante-chat",
        "chat",
        "Canned-answer assistant (ask it about the levante wind).",
        aliases=(
            "mistral-small-latest",
            "mistral-medium-latest",
            "mistral-large-latest",
            "open-mistral-nemo",
            "ministral-8b-latest",
        ),
    ),
    ModelSpec("codestral-latest", "chat", "Fill-in-the-middle and chat.", fim=True),
)

_BY_NAME: dict[str, ModelSpec] = {}
for _spec in MODELS:
    _BY_NAME[_spec.id] = _spec
    for _alias in _spec.aliases:
        _BY_NAME[_alias] = _spec


def resolve_model(name: str) -> ModelSpec | None:
    """The model answering to ``name`` (an id or an alias), or ``None``."""
    return _BY_NAME.get(name)


@dataclass(frozen=True)
class PlannedToolCall:
    """A tool call the fake model decided to make; ``arguments`` is a JSON string."""

    id: str
    name: str
    arguments: str


@dataclass
class Reply:
    """What a model says: text tokens or tool calls, why it stopped, and token counts."""

    tokens: list[str]
    finish_reason: str
    prompt_tokens: int
    tool_calls: list[PlannedToolCall] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The whole text reply."""
        return "".join(self.tokens)

    @property
    def completion_tokens(self) -> int:
        """Tokens generated: thinking tokens, then text tokens or one per streamed tool-call
        delta."""
        if self.tool_calls:
            calls = sum(len(split_arguments(call.arguments)) + 1 for call in self.tool_calls)
            return len(self.thinking) + calls
        return len(self.thinking) + len(self.tokens)


def message_text(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a chunk list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type", "text") == "text"
        ]
        return "".join(parts)
    return ""


def split_arguments(arguments: str, size: int = 8) -> list[str]:
    """Cut a tool call's JSON arguments into the pieces streamed as deltas (at least two)."""
    if len(arguments) <= size:
        half = max(1, len(arguments) // 2)
        return [arguments[:half], arguments[half:]]
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


_LEVANTE = (
    "The levante is an easterly wind of the western Mediterranean. It blows from the "
    "Balearic Sea towards the Strait of Gibraltar, where the mountains of Spain and Morocco "
    "squeeze it into a gale: around Tarifa it often gusts above 80 km/h, which has made the "
    "town a capital of kitesurfing. It is most common from May to October, when high "
    "pressure sits over Europe and low pressure over North Africa. The levante is usually "
    "warm and damp; it wraps the Rock of Gibraltar in a banner of cloud, the Levanter, and it "
    "can blow for days, emptying beaches and keeping ferries in port. Sailors plan their "
    "crossings around it, and along the coast of Cadiz people say a long spell of levante "
    "wears on everyone's nerves."
)
_GREETING = (
    "Hello! I am levante-chat, the built-in model of levante's dev server. My answers are "
    "canned and deterministic, which makes me dull company but a reliable test partner. "
    "Ask me about the levante wind."
)
_FIM_SNIPPET = "\n    # filled in by the levante dev server\n    return None\n"
_GREETING_WORDS = frozenset({"hello", "hi", "hey", "hola", "bonjour", "salut", "ciao"})

_LONG_TEXT = (
    "wind sea coast strait harbour cloud rock wave sail current morning evening summer "
    "light salt dune pine cape ferry gust calm swell horizon tide island channel lantern "
    "fisherman village market rope anchor beacon cliff bay lighthouse breeze storm "
    "east west south north warm cold steady sudden long short bright grey blue green"
)
_LONG_WORDS = tuple(_LONG_TEXT.split())


def _long_tokens(count: int, seed: int) -> list[str]:
    # A linear congruential generator: cheap, deterministic, and different per seed.
    state = (seed * 2654435761 + 12345) % 2**32
    tokens: list[str] = []
    sentence_len = 0
    for _ in range(count):
        state = (state * 1103515245 + 12345) % 2**31
        word = _LONG_WORDS[state % len(_LONG_WORDS)]
        if sentence_len == 0:
            word = word.capitalize()
        sentence_len += 1
        if sentence_len >= 6 + state % 9:
            tokens.append(word + ". ")
            sentence_len = 0
        else:
            tokens.append(word + " ")
    return tokens


def _last_with_role(messages: Sequence[Mapping[str, Any]], role: str) -> str:
    for message in reversed(messages):
        if message.get("role") == role:
            return message_text(message.get("content"))
    return ""


def _chat_text(messages: Sequence[Mapping[str, Any]]) -> str:
    if messages and messages[-1].get("role") == "tool":
        result = message_text(messages[-1].get("content"))
        name = messages[-1].get("name")
        tool = f"The {name} tool" if isinstance(name, str) and name else "The tool"
        return f"{tool} returned {result}. That is all I know."
    prompt = _last_with_role(messages, "user")
    lowered = prompt.lower()
    if "levante" in lowered:
        return _LEVANTE
    words = re.findall(r"[a-z]+", lowered)
    if words and words[0] in _GREETING_WORDS:
        return _GREETING
    said = [message_text(m.get("content")) for m in messages if m.get("role") == "user"]
    # A chat client resends the whole conversation each turn; quoting the turn before
    # shows that it did (levante chat's interactive mode relies on this to demonstrate it).
    earlier = f' Before that you said: "{said[-2].strip()}"' if len(said) > 1 else ""
    return (
        "I am levante-chat, a deterministic stand-in for a Mistral model, so I cannot really "
        f'answer that. You said: "{prompt.strip()}"{earlier}'
    )


def _tool_name(tool: Mapping[str, Any]) -> str:
    function = tool.get("function")
    if isinstance(function, Mapping):
        return str(function.get("name", ""))
    return ""


def _mentions(prompt: str, name: str) -> bool:
    lowered = prompt.lower()
    name = name.lower()
    return bool(name) and (name in lowered or name.replace("_", " ") in lowered)


def _choose_tools(
    tools: Sequence[Mapping[str, Any]],
    tool_choice: Any,
    prompt: str,
    last_role: str,
    parallel: bool,
) -> list[Mapping[str, Any]]:
    if not tools or tool_choice == "none":
        return []
    if isinstance(tool_choice, Mapping):
        wanted = _tool_name(tool_choice)
        named = [tool for tool in tools if _tool_name(tool) == wanted]
        return named[:1] or [{"type": "function", "function": {"name": wanted}}]
    mentioned = [tool for tool in tools if _mentions(prompt, _tool_name(tool))]
    if not parallel:
        mentioned = mentioned[:1]
    if tool_choice in ("any", "required"):
        return mentioned or [tools[0]]
    # "auto": only call a tool the user asked for, and not right after a tool result.
    return mentioned if last_role != "tool" else []


_NAME_RE = re.compile(r"\b[A-Z][a-zA-Z]+\b")


def _argument_value(name: str, schema: Any, prompt: str) -> Any:
    if not isinstance(schema, Mapping):
        return None
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string":
        # A capitalised word that does not open the prompt is most likely a name.
        names = [m.group() for m in _NAME_RE.finditer(prompt.strip()) if m.start() > 0]
        return names[-1] if names else "levante"
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(str(kind))


def _object_for(schema: Any, prompt: str) -> dict[str, Any]:
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    values: dict[str, Any] = {}
    if isinstance(properties, Mapping):
        for name, prop in properties.items():
            values[str(name)] = _argument_value(str(name), prop, prompt)
    return values


def _arguments(tool: Mapping[str, Any], prompt: str) -> str:
    function = tool.get("function")
    parameters = function.get("parameters") if isinstance(function, Mapping) else None
    return json.dumps(_object_for(parameters, prompt), separators=(", ", ": "))


def _json_reply(response_format: Any, text: str, prompt: str) -> str | None:
    """The JSON text a ``json_object`` / ``json_schema`` response format asks for."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return json.dumps({"reply": text}, ensure_ascii=False)
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return json.dumps(instance(schema), ensure_ascii=False)
    return None


def _call_id(name: str, index: int, prompt: str) -> str:
    digest = hashlib.sha256(f"{name}\0{index}\0{prompt}".encode()).hexdigest()
    return digest[:9]


def _prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    return sum(len(tokenize(message_text(m.get("content")))) + 1 for m in messages)


def _limit(tokens: list[str], max_tokens: int | None) -> tuple[list[str], str]:
    if max_tokens is not None and len(tokens) > max_tokens:
        return tokens[:max_tokens], "length"
    return tokens, "stop"


def chat_reply(
    model: ModelSpec,
    messages: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: Any = "auto",
    parallel_tool_calls: bool = True,
    random_seed: int | None = None,
    response_format: Any = None,
    think: bool = False,
) -> Reply:
    """The reply of ``model`` to a chat conversation (messages as plain dicts).

    A ``json_object`` response format wraps the text as ``{"reply": text}``; a
    ``json_schema`` one gets a deterministic instance of the schema
    (:func:`levante.devserver.schema.instance`).  ``think``: reason first
    (:func:`thinking_text`), as reasoning models do.
    """
    reply = _plain_reply(
        model, messages, max_tokens, tools, tool_choice, parallel_tool_calls, random_seed,
        response_format,
    )  # fmt: skip
    if think:
        reply.thinking = tokenize(thinking_text(messages))
    return reply


def _plain_reply(
    model: ModelSpec,
    messages: Sequence[Mapping[str, Any]],
    max_tokens: int | None,
    tools: Sequence[Mapping[str, Any]] | None,
    tool_choice: Any,
    parallel_tool_calls: bool,
    random_seed: int | None,
    response_format: Any,
) -> Reply:
    prompt_tokens = _prompt_tokens(messages)
    prompt = _last_with_role(messages, "user")
    last_role = str(messages[-1].get("role", "")) if messages else ""
    chosen = _choose_tools(tools or [], tool_choice, prompt, last_role, parallel_tool_calls)
    if chosen:
        calls = [
            PlannedToolCall(
                id=_call_id(_tool_name(tool), index, prompt),
                name=_tool_name(tool),
                arguments=_arguments(tool, prompt),
            )
            for index, tool in enumerate(chosen)
        ]
        return Reply([], "tool_calls", prompt_tokens, calls)
    if model.behaviour == "long":
        count = DEFAULT_LONG_TOKENS if max_tokens is None else max_tokens
        reason = "stop" if max_tokens is None else "length"
        return Reply(_long_tokens(count, random_seed or 0), reason, prompt_tokens)
    text = prompt if model.behaviour == "echo" else _chat_text(messages)
    text = _json_reply(response_format, text, prompt) or text
    tokens, reason = _limit(tokenize(text), max_tokens)
    return Reply(tokens, reason, prompt_tokens)


def thinking_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The reasoning a model "thinks" before answering ``messages`` (fixed for a prompt)."""
    prompt = " ".join(_last_with_role(messages, "user").split())
    if len(prompt) > 80:
        prompt = prompt[:77] + "..."
    return (
        f'The user wrote: "{prompt}". I am a deterministic stand-in for a reasoning model, '
        "so my answer is already decided. Let me give it."
    )


def fim_reply(
    model: ModelSpec, prompt: str, suffix: str | None, *, max_tokens: int | None = None
) -> Reply:
    """The middle that ``model`` puts between ``prompt`` and ``suffix``."""
    prompt_tokens = len(tokenize(prompt)) + len(tokenize(suffix or ""))
    if model.behaviour == "long":
        count = DEFAULT_LONG_TOKENS if max_tokens is None else max_tokens
        reason = "stop" if max_tokens is None else "length"
        return Reply(_long_tokens(count, 0), reason, prompt_tokens)
    text = prompt if model.behaviour == "echo" else _FIM_SNIPPET
    tokens, reason = _limit(tokenize(text), max_tokens)
    return Reply(tokens, reason, prompt_tokens)
