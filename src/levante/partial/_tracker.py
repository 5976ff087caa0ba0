"""The tracker itself; the scheme and its guarantees are described in :mod:`levante.partial`."""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from ..models.structured import parse_structured_output
from ._instance import Target, child, string_target, unroot, without_open_item

__all__ = ["PartialObjectTracker"]

T = TypeVar("T", bound=BaseModel)

# The body of a JSON string from a position: stops at the closing quote, or before a
# backslash that ends the text (its escaped character has not arrived yet).
_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)
# A complete JSON string (the delta it is in starts outside strings).
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NUMBER_CHARS = frozenset("0123456789+-.eE")
# Cost of a string refresh per byte, relative to a full refresh (one concatenation and
# one decode of the string, both in C, against a parse and a validation of everything).
_STRING_COST = 1 / 8

# Where the growing string sits: its container, its key there, and where to set it on
# the model instance too (None when the instance cannot take it unvalidated).
_Leaf = tuple[Any, Any, "Target | None"]


class PartialObjectTracker(Generic[T]):
    """Follows a structured answer as it streams; see the module docstring.

    >>> from pydantic import BaseModel
    >>> class City(BaseModel):
    ...     name: str
    ...     population: int = 0
    >>> tracker = PartialObjectTracker(City)
    >>> tracker.feed('{"name": "Mar')
    >>> tracker.partial
    City(name='Mar', population=0)
    >>> tracker.feed('seille", "popul')
    >>> tracker.partial
    City(name='Marseille', population=0)
    >>> tracker.feed('ation": 873076}')
    >>> tracker.finish()
    City(name='Marseille', population=873076)
    """

    __slots__ = (
        "_budget",
        "_chunks",
        "_credit",
        "_depth",
        "_escape",
        "_final",
        "_in_string",
        "_last",
        "_leaf",
        "_leaf_raw",
        "_leaf_start",
        "_length",
        "_model",
        "_partial",
        "_pending",
        "_per_delta",
        "_plain",
        "_rebuilds",
        "_reparsed",
        "_scanned",
        "_seen",
        "_string_before",
        "_string_start",
        "_unscanned",
        "_value",
    )

    def __init__(
        self,
        model: type[T],
        *,
        budget: float = 3.0,
        per_delta: float = 64.0,
        allowance: int = 4096,
    ) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"model must be a pydantic model class, not {model!r}")
        if budget <= 0 or per_delta < 0 or allowance < 0:
            raise ValueError("budget must be > 0, per_delta and allowance >= 0")
        self._model = model
        self._budget = budget
        self._per_delta = per_delta
        self._credit = float(allowance)
        self._chunks: list[str] = []
        self._pending: list[str] = []  # text received since the last refresh
        self._plain = True  # no quote or backslash in it
        self._unscanned: list[str] = []  # text _scan has not read yet
        self._length = 0
        self._seen = 0  # how much of the text the current partial reflects
        self._scanned = 0  # how much of the text _scan has read
        # scanner state at the end of the text received so far
        self._in_string = False
        self._escape = False  # inside a string, after a backslash that ended a delta
        self._depth = 0  # containers open
        self._last = ""  # last significant character outside strings
        self._string_start = -1  # offset just after the open string's opening quote
        self._string_before = ""  # the significant character before that quote
        # the current partial
        self._value: Any = None
        self._partial: Any = None
        self._final: T | None = None
        self._rebuilds = 0
        self._reparsed = 0
        # where the growing string value sits: (container, key, instance target or None)
        self._leaf: _Leaf | None = None
        self._leaf_start = -1
        self._leaf_raw = ""

    def __repr__(self) -> str:
        return (
            f"<PartialObjectTracker {self._model.__name__} length={self._length} "
            f"valid={isinstance(self._partial, self._model)}>"
        )

    @property
    def model(self) -> type[T]:
        """The pydantic model the answer is parsed into."""
        return self._model

    @property
    def text(self) -> str:
        """The text received so far."""
        chunks = self._chunks
        if len(chunks) > 1:
            chunks[:] = ["".join(chunks)]
        return chunks[0] if chunks else ""

    def feed(self, text: str) -> None:
        """Add the next piece of the answer's text (cheap: the parse happens on read)."""
        if not text:
            return
        self._chunks.append(text)
        self._pending.append(text)
        self._unscanned.append(text)
        if self._plain and ('"' in text or "\\" in text):
            self._plain = False
        self._length += len(text)
        self._credit += self._budget * len(text) + self._per_delta
        self._final = None

    @property
    def partial(self) -> T | Any:
        """The answer so far: a model instance when it validates, else the JSON value.

        ``None`` before the first value started. See the module docstring for how fresh
        it is and for what it costs.
        """
        if self._final is None and self._length != self._seen:
            self._refresh()
        return self._partial

    @property
    def partial_json(self) -> Any:
        """The answer so far as a plain JSON value (dict, list, ...), validated or not."""
        if self._final is None and self._length != self._seen:
            self._refresh()
        return self._value

    @property
    def refresh_counts(self) -> tuple[int, int]:
        """``(full refreshes, bytes they parsed)`` so far: what the budget bounds."""
        return self._rebuilds, self._reparsed

    @property
    def is_valid(self) -> bool:
        """Whether :attr:`partial` is an instance of the model."""
        return isinstance(self.partial, self._model)

    def finish(self) -> T:
        """Parse the complete text as the official SDK does and return the instance.

        Raises :class:`~levante.errors.StructuredOutputError` (carrying the raw text) when
        the text is not JSON or does not validate. Afterwards :attr:`partial` is the
        returned instance.
        """
        if self._final is None:
            text = self.text
            try:
                value = from_json(text)
                final = self._model.model_validate(value)
            except ValueError:
                # the error (or the odd document only json.loads takes, such as a lone
                # surrogate escape) as the official SDK's parse reports it
                final = parse_structured_output(text, self._model)
                value = final.model_dump(mode="json", by_alias=True)
            self._final = self._partial = final
            self._value = value
            self._seen = self._length
            self._pending.clear()
            self._leaf = None
        return self._final

    # -- scanning: where the text stands (in a string? how deep?), in C-speed steps --

    def _scan(self, chunk: str, offset: int) -> None:
        # A constant number of C calls per delta, however many strings it holds: finish
        # the string the delta starts in, blank out every complete string at once, and
        # count brackets in what is left. A delta inside a string is one regex match.
        size = len(chunk)
        pos = 0
        if self._in_string:
            if self._escape:
                self._escape = False
                pos = 1
            end = _STRING_BODY.match(chunk, pos).end()  # type: ignore[union-attr]
            if end >= size:
                return
            if chunk[end] == "\\":
                self._escape = True
                return
            self._in_string = False
            self._last = '"'
            pos = end + 1
        rest = chunk[pos:]
        if '"' in rest:
            rest = _STRINGS.sub("\x00", rest)
        # what is left of a quote after that is the opening quote of an unfinished string
        quote = rest.find('"')
        outside = rest if quote < 0 else rest[:quote]
        if outside:
            self._depth += (
                outside.count("{") + outside.count("[") - outside.count("}") - outside.count("]")
            )
            significant = outside.rstrip()
            if significant:
                self._last = '"' if significant[-1] == "\x00" else significant[-1]
        if quote >= 0:
            self._in_string = True
            self._string_before = self._last
            # the unfinished string runs to the end of the delta, so count from the end
            self._string_start = offset + size - (len(rest) - quote - 1)
            trailing = size - len(chunk.rstrip("\\"))
            self._escape = trailing % 2 == 1

    # -- refreshing the partial --------------------------------------------------------

    def _refresh(self) -> None:
        # Called when a partial is read and text arrived since the last refresh. When no
        # refresh is affordable this costs a few comparisons; the text is scanned once
        # per byte, and only when a refresh may follow.
        leaf = self._leaf
        if leaf is not None and leaf[2] is None and self._length <= self._credit:
            # growing the string would leave the instance behind (a constrained field) or
            # would not re-check validity (the partial is the JSON value): re-parse
            leaf = self._leaf = None
        if leaf is not None:
            if self._plain and not self._escape:
                # everything new extends the growing string: no need to scan it
                self._refresh_string(leaf)
                return
            self._scan_pending()
            if self._in_string and self._string_start == self._leaf_start:
                self._refresh_string(leaf)
                return
            self._leaf = None  # that string is finished: only a full refresh shows more
        cost = float(self._length)
        if cost <= self._credit:
            self._credit -= cost
            self._scan_pending()
            self._rebuild()

    def _scan_pending(self) -> None:
        unscanned = self._unscanned
        if unscanned:
            text = "".join(unscanned)
            unscanned.clear()
            self._scan(text, self._scanned)
            self._scanned += len(text)

    def _refresh_string(self, leaf: _Leaf) -> None:
        cost = (len(self._leaf_raw) + self._length - self._seen) * _STRING_COST
        if cost > self._credit:
            return
        self._credit -= cost
        raw = self._leaf_raw + "".join(self._pending)
        # decode the string's whole raw text: an escape split across deltas is held back
        # by the partial parser exactly as in a full refresh
        value = from_json('"' + raw, allow_partial="trailing-strings")
        container, key, target = leaf
        container[key] = value
        if target is not None:
            holder, where, attribute = target
            if attribute:
                setattr(holder, where, value)
            else:
                holder[where] = value
        self._leaf_raw = raw
        self._pending.clear()
        self._plain = True
        self._seen = self._length

    def _rebuild(self) -> None:
        text = self.text
        self._rebuilds += 1
        self._reparsed += len(text)
        self._pending.clear()
        self._plain = True
        self._seen = self._length
        self._leaf = None
        end = len(text)
        if not self._in_string and text and text[-1] in _NUMBER_CHARS:
            # a number at the very end may still grow (12 -> 125): leave it out for now
            start = end
            while start and text[start - 1] in _NUMBER_CHARS:
                start -= 1
            if text[start] == "-" or text[start].isdigit():
                end = start
        body = text[:end]
        if not body.strip():
            return
        try:
            value = from_json(body, allow_partial="trailing-strings")
        except ValueError:
            return  # not JSON (so far): keep the last partial; finish() will say why
        self._value = value
        instance, whole = self._validate(value)
        self._partial = instance if instance is not None else value
        if self._in_string:
            # an instance without the unfinished element does not mirror the value
            self._find_leaf(text, value, instance if whole else None)

    def _validate(self, value: Any) -> tuple[Any, bool]:
        # (instance or None, whether the instance holds the whole value). An item still
        # open in a list (its closing bracket not received) is left out, as pydantic's
        # partial validation drops an unfinished last item: the items before it make a
        # valid instance while the open one is missing required fields. One validation.
        trimmed = without_open_item(value, self._depth)
        try:
            if trimmed is None:
                return self._model.model_validate(value), True
            return self._model.model_validate(trimmed), False
        except ValidationError:
            return None, False

    def _find_leaf(self, text: str, value: Any, instance: BaseModel | None) -> None:
        # The open containers are the first `depth` nodes of the value's rightmost path;
        # the growing string is the last member of the innermost one, if it is a value.
        container: Any = value
        target: Any = instance  # the instance's object at the same place, if any
        owner: tuple[BaseModel, Any] | None = None  # the model field holding `target`
        for _ in range(self._depth - 1):
            if not container:
                return
            key = _last_key(container)
            container = container[key]
            target, owner = unroot(target, owner)
            owner = (target, key) if isinstance(target, BaseModel) else None
            target = child(target, key)
        target, owner = unroot(target, owner)
        if not isinstance(container, (dict, list)) or not container:
            return
        before = self._string_before
        if not (before == ":" or (before in "[," and isinstance(container, list))):
            return  # the open string is a key: nothing to refresh until its value starts
        key = _last_key(container)
        if not isinstance(container[key], str):
            return
        self._leaf = (container, key, string_target(target, key, owner, len(container)))
        self._leaf_start = self._string_start
        self._leaf_raw = text[self._string_start :]


def _last_key(container: dict[str, Any] | list[Any]) -> Any:
    if isinstance(container, list):
        return len(container) - 1
    return next(reversed(container))
