"""Rebuild the final chat completion from streamed chunks.

A chat (FIM, agents) stream sends the answer in pieces: content strings (or lists of
content chunks for reasoning models), tool-call deltas whose arguments are split over
many chunks, one ``finish_reason`` per choice near the end and the usage last.
:class:`ChatCompletionAccumulator` merges them into the
:class:`~levante.models.ChatCompletionResponse` a non-streamed call would have returned.
It only reads the models it is given and holds no connection.
"""

from __future__ import annotations

from typing import Any

from .models import (
    AssistantMessage,
    ChatCompletionChoice,
    ChatCompletionResponse,
    ChatCompletionResponseChoiceLogprobs,
    ChatCompletionResponseTokenLogprobs,
    CompletionChunk,
    CompletionEvent,
    CompletionResponseStreamChoice,
    ContentChunk,
    FunctionCall,
    TextChunk,
    ThinkChunk,
    ToolCall,
    UsageInfo,
)

__all__ = ["ChatCompletionAccumulator"]

# ToolCall.id is the string "null" when the server sent no id (official SDK default)
_NO_ID = ("", "null")


class _Text:
    """Text received in pieces, kept compact: its UTF-8 in one growing buffer.

    A ``str`` per streamed token would cost some 60 bytes of object and list slot on top
    of a few characters: several times the text itself. The buffer holds the UTF-8 bytes
    with at most an eighth of slack (how ``bytearray`` grows), so the text of a reply costs
    at most 1.2x its UTF-8 size. Lone surrogates (JSON may escape them) survive the round
    trip.
    """

    __slots__ = ("utf8",)

    def __init__(self) -> None:
        self.utf8 = bytearray()

    def append(self, text: str) -> None:
        try:
            self.utf8 += text.encode()
        except UnicodeEncodeError:  # a lone surrogate (built in Python, not from JSON)
            self.utf8 += text.encode("utf-8", "surrogatepass")

    def __bool__(self) -> bool:
        return bool(self.utf8)

    def __len__(self) -> int:
        """The size of the text in UTF-8 bytes."""
        return len(self.utf8)

    def value(self) -> str:
        return self.utf8.decode("utf-8", "surrogatepass")


class _ToolCallState:
    __slots__ = ("arguments", "arguments_object", "extra", "id", "index", "name", "type")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.type: str | None = None
        self.name = ""
        self.arguments = _Text()
        # a server may send the arguments as a JSON object instead of text
        self.arguments_object: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}

    def merge(self, delta: ToolCall) -> None:
        if self.id is None and delta.id not in _NO_ID:
            self.id = delta.id
        if "type" in delta.model_fields_set:
            self.type = delta.type
        function = delta.function
        if function.name and not self.name:
            self.name = function.name
        arguments = function.arguments
        if isinstance(arguments, str):
            if arguments:
                self.arguments.append(arguments)
        else:
            self.arguments_object = arguments
        if delta.model_extra:
            self.extra.update(delta.model_extra)

    def build(self) -> ToolCall:
        arguments: dict[str, Any] | str
        if self.arguments_object is not None and not self.arguments:
            arguments = dict(self.arguments_object)
        else:
            arguments = self.arguments.value()
        call = ToolCall(
            function=FunctionCall(name=self.name, arguments=arguments),
            id=self.id if self.id is not None else "null",
            type=self.type if self.type is not None else "function",
            index=self.index,
            **self.extra,
        )
        return call


class _ChoiceState:
    __slots__ = ("finish_reason", "logprobs", "parts", "role", "texts", "tool_calls")

    def __init__(self) -> None:
        self.role: str | None = None
        # The text, while all content is text.
        self.texts = _Text()
        # From the first content chunk that is not text (reasoning, images, ...): the
        # content in order, each run of text one _Text, so it can be rebuilt as a chunk
        # list; self.texts is then the first run, or left empty.
        self.parts: list[_Text | ContentChunk] | None = None
        self.tool_calls: list[_ToolCallState] = []
        self.finish_reason: str | None = None
        self.logprobs: list[ChatCompletionResponseTokenLogprobs] | None = None

    def add(self, choice: CompletionResponseStreamChoice) -> None:
        # on every chunk of every chat stream: keep the common path (a text delta) short
        delta = choice.delta
        content = delta.content
        if isinstance(content, str):
            if content:
                if self.parts is None:
                    try:  # _Text.append, inlined: this runs for every token
                        self.texts.utf8 += content.encode()
                    except UnicodeEncodeError:
                        self.texts.append(content)
                else:
                    self._add_text(content)
        elif content is not None:
            self._add_chunks(content)
        if self.role is None and delta.role is not None:
            self.role = delta.role
        if delta.tool_calls:
            self._merge_tool_calls(delta.tool_calls)
        if choice.finish_reason is not None:
            self.finish_reason = choice.finish_reason
        if choice.logprobs is not None:
            if self.logprobs is None:
                self.logprobs = []
            self.logprobs.extend(choice.logprobs.content)

    def _add_chunks(self, chunks: list[ContentChunk]) -> None:
        for chunk in chunks:
            if isinstance(chunk, TextChunk):
                self._add_text(chunk.text)
            else:
                if self.parts is None:
                    self.parts = [self.texts] if self.texts else []
                    self.texts = _Text()
                self.parts.append(chunk)

    def _add_text(self, text: str) -> None:
        parts = self.parts
        if parts is None:
            self.texts.append(text)
            return
        run = parts[-1] if parts else None
        if not isinstance(run, _Text):
            run = _Text()
            parts.append(run)
        run.append(text)

    def _merge_tool_calls(self, deltas: list[ToolCall]) -> None:
        for position, delta in enumerate(deltas):
            index = delta.index if "index" in delta.model_fields_set else position
            state = self._latest(index)
            # A different id at an index already in use is a new call: some servers give
            # every call index 0.
            if state is None or (
                delta.id not in _NO_ID and state.id is not None and state.id != delta.id
            ):
                state = _ToolCallState(index)
                self.tool_calls.append(state)
            state.merge(delta)

    def _latest(self, index: int) -> _ToolCallState | None:
        for state in reversed(self.tool_calls):
            if state.index == index:
                return state
        return None

    def text(self) -> str:
        if self.parts is None:
            return self.texts.value()
        return "".join(part.value() for part in self.parts if isinstance(part, _Text))

    def content(self) -> str | list[ContentChunk]:
        if self.parts is None:
            return self.text()
        # Rebuild a chunk list: neighbouring text pieces become one TextChunk, neighbouring
        # thinking chunks one ThinkChunk; other chunks are kept as they came.
        merged: list[ContentChunk] = []
        for part in self.parts:
            last = merged[-1] if merged else None
            if isinstance(part, _Text):  # a whole run of text
                merged.append(TextChunk(text=part.value()))
            elif isinstance(part, ThinkChunk) and isinstance(last, ThinkChunk):
                merged[-1] = _merge_thinking(last, part)
            else:
                merged.append(part.model_copy(deep=True))
        return merged

    def build(self, index: int) -> ChatCompletionChoice:
        message = AssistantMessage(
            content=self.content(),
            tool_calls=[call.build() for call in self.tool_calls] or None,
        )
        choice = ChatCompletionChoice(
            index=index, message=message, finish_reason=self.finish_reason
        )
        if self.logprobs is not None:
            choice.logprobs = ChatCompletionResponseChoiceLogprobs(
                content=[item.model_copy(deep=True) for item in self.logprobs]
            )
        return choice


def _merge_thinking(first: ThinkChunk, second: ThinkChunk) -> ThinkChunk:
    thinking: list[ContentChunk] = [item.model_copy(deep=True) for item in first.thinking]
    for item in second.thinking:
        last = thinking[-1] if thinking else None
        if isinstance(item, TextChunk) and isinstance(last, TextChunk):
            thinking[-1] = TextChunk(text=last.text + item.text)
        else:
            thinking.append(item.model_copy(deep=True))
    merged = ThinkChunk(thinking=thinking)
    for name in ("signature", "closed"):
        if name in second.model_fields_set:
            setattr(merged, name, getattr(second, name))
        elif name in first.model_fields_set:
            setattr(merged, name, getattr(first, name))
    return merged


class ChatCompletionAccumulator:
    """Merges streamed chunks into the :class:`~levante.models.ChatCompletionResponse`
    the same request would have returned without streaming.

    Feed it every event (or chunk) of a chat, FIM or agents stream with :meth:`add`;
    :meth:`snapshot` returns the completion so far at any point, as a new object each
    time (later chunks do not change a snapshot already taken)::

        from levante import ChatCompletionAccumulator, Mistral

        accumulator = ChatCompletionAccumulator()
        with Mistral() as client:
            with client.chat.stream(model="mistral-small-latest", messages=messages) as stream:
                for event in stream:
                    accumulator.add(event)
                    print(event.data.choices[0].delta.content or "", end="")
        response = accumulator.snapshot()
        print(response.choices[0].message.tool_calls, response.usage)

    What it rebuilds, per choice index:

    - ``message.content``: the content pieces joined into one string; when the stream sent
      content chunks other than text (a reasoning model's ``thinking``), a list of chunks
      with neighbouring text and thinking pieces merged;
    - ``message.tool_calls``: deltas merged by their ``index`` (their position in the
      delta when the server sends no index), robust to several deltas for the same call
      in one chunk and to ``id`` and ``name`` sent only in the first delta; argument
      pieces are concatenated; a new ``id`` at an index already used starts a new call;
    - ``finish_reason``: the last one received; ``logprobs``: concatenated.

    ``id``, ``model`` and ``created`` come from the first chunk, ``usage`` from the last
    chunk that had one. Before the first chunk the snapshot has ``id == model == ""`` and
    no choices.
    """

    __slots__ = ("_choices", "_chunks", "_created", "_id", "_model", "_usage")

    def __init__(self) -> None:
        self._id: str | None = None
        self._model = ""
        self._created: int | None = None
        self._usage: UsageInfo | None = None
        self._choices: dict[int, _ChoiceState] = {}
        self._chunks = 0

    def __repr__(self) -> str:
        return f"<ChatCompletionAccumulator chunks={self._chunks} choices={len(self._choices)}>"

    def add(self, event: CompletionEvent | CompletionChunk) -> None:
        """Merge one streamed event (or its ``data`` chunk) into the completion."""
        chunk = event.data if isinstance(event, CompletionEvent) else event
        if not isinstance(chunk, CompletionChunk):
            raise TypeError(
                "ChatCompletionAccumulator.add() takes a CompletionEvent or a "
                f"CompletionChunk, not {type(event).__name__}"
            )
        self._merge(chunk)

    def _merge(self, chunk: CompletionChunk) -> None:
        # add() without its type checks: a chat stream calls it for every chunk it decoded
        # itself (levante.resources.chat), so the chunk is known to be a CompletionChunk.
        self._chunks += 1
        if self._id is None:
            self._id = chunk.id
            self._model = chunk.model
            self._created = chunk.created
        if chunk.usage is not None:
            self._usage = chunk.usage
        choices = self._choices
        for choice in chunk.choices:
            state = choices.get(choice.index)
            if state is None:
                state = choices[choice.index] = _ChoiceState()
            state.add(choice)

    @property
    def chunk_count(self) -> int:
        """How many chunks were added."""
        return self._chunks

    @property
    def text(self) -> str:
        """The text content of choice 0 received so far (``""`` before any)."""
        state = self._choices.get(0)
        return state.text() if state is not None else ""

    @property
    def usage(self) -> UsageInfo | None:
        """The usage of the last chunk that carried one, or ``None``."""
        return self._usage.model_copy(deep=True) if self._usage is not None else None

    @property
    def finish_reasons(self) -> dict[int, str | None]:
        """The finish reason of every choice seen so far, by choice index."""
        return {index: state.finish_reason for index, state in sorted(self._choices.items())}

    def snapshot(self) -> ChatCompletionResponse:
        """Return the completion as rebuilt so far, as a new independent object."""
        return ChatCompletionResponse(
            id=self._id if self._id is not None else "",
            object="chat.completion",
            created=self._created,
            model=self._model,
            choices=[state.build(index) for index, state in sorted(self._choices.items())],
            usage=self.usage,
        )
