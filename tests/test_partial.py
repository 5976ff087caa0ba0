"""PartialObjectTracker: the object so far at every chunk boundary, for many chunkings.

At every boundary of every chunking the partial must be a valid partial (a model
instance, or the JSON value while the prefix does not validate), each partial must
extend the previous one (strings grow, members are added, finished values never change),
and the end must be the final object. With an unlimited budget every partial must be
exactly the partial parse of the prefix; with the default budget, the bytes re-parsed
must stay within the budget.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, RootModel
from pydantic_core import from_json

from levante.errors import StructuredOutputError
from levante.partial import PartialObjectTracker


class Dimensions(BaseModel):
    width: float
    height: float
    unit: str = "cm"


class Item(BaseModel):
    name: str
    note: str = ""
    tags: list[str] = []
    price: float = 0
    count: int = 0
    dims: Dimensions | None = None
    flags: dict[str, bool] = {}
    gone: bool = False
    extra: Any = None


class Catalog(BaseModel):
    title: str
    items: list[Item] = []
    summary: str = ""


class Tagged(BaseModel):
    kind: Literal["alpha", "beta"]
    label: str = Field(default="", max_length=40)
    body: str = ""


class Rows(RootModel[list[Item]]):
    pass


ITEMS = [
    {
        "name": 'Widget "deluxe" \\ back\\slash',
        "note": "line one\nline two\ttab é ü 😀 \u2028 end",
        "tags": ["a", "", "c,d", "]}["],
        "price": -12.5e-3,
        "count": 12345,
        "dims": {"width": 1.25, "height": 1e21, "unit": "mm"},
        "flags": {"new": True, "old": False},
        "gone": False,
        "extra": [None, True, {"deep": [1, [2, [3]]]}, "x"],
    },
    {"name": "Plain", "note": "", "tags": [], "price": 0, "count": -7, "extra": {}},
    {"name": "Ünïcode 🎉", "note": "x" * 300, "dims": None},
]
CATALOG = {"title": "Spring {catalog}", "items": ITEMS, "summary": 'the "end"'}


def documents() -> list[tuple[type[BaseModel], str]]:
    return [
        (Catalog, json.dumps(CATALOG)),  # escapes as \uXXXX, surrogate pairs split
        (Catalog, json.dumps(CATALOG, ensure_ascii=False)),  # raw UTF-8
        (Catalog, json.dumps(CATALOG, indent=2)),  # whitespace everywhere
        (Catalog, json.dumps(CATALOG, separators=(",", ":"))),
        (Rows, json.dumps(ITEMS)),
        (Tagged, json.dumps({"kind": "beta", "label": "a label", "body": "b" * 50})),
    ]


def chunkings(text: str, seed: int) -> Iterator[list[str]]:
    yield list(text)  # one character at a time: every split point
    yield [text]
    rng = random.Random(seed)
    for _ in range(6):
        pieces, i = [], 0
        while i < len(text):
            step = rng.choice([1, 2, 3, 5, 8, 13, 40, 100])
            pieces.append(text[i : i + step])
            i += step
        yield pieces


def is_prefix(a: Any, b: Any) -> bool:
    """Whether the JSON value ``a`` is a partial of ``b`` (as a parse of a prefix is)."""
    if a is None:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, str):
        return b.startswith(a)
    if isinstance(a, list):
        if len(a) > len(b):
            return False
        return all(x == y for x, y in zip(a[:-1], b, strict=False)) and (
            not a or is_prefix(a[-1], b[len(a) - 1])
        )
    if isinstance(a, dict):
        keys_a, keys_b = list(a), list(b)
        if keys_b[: len(keys_a)] != keys_a:
            return False
        return all(a[k] == b[k] for k in keys_a[:-1]) and (
            not keys_a or is_prefix(a[keys_a[-1]], b[keys_a[-1]])
        )
    return bool(a == b)


def ends_in_string(text: str) -> bool:
    inside = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and inside:
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


def open_containers(text: str) -> list[str]:
    """The brackets still open at the end of ``text``, outermost first."""
    stack: list[str] = []
    inside = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif inside:
            escaped = char == "\\"
            inside = char != '"'
        elif char == '"':
            inside = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}":
            stack.pop()
    return stack


def without_open_item(prefix: str, value: Any) -> Any:
    """What the validated partial holds: the value without the open last item of the
    outermost list whose last item is still open (pydantic's partial validation)."""
    stack = open_containers(prefix)
    value = copy.deepcopy(value)
    node = value
    for level in range(len(stack) - 1):
        if stack[level] == "[":
            node.pop()
            return value
        node = node[next(reversed(node))] if isinstance(node, dict) else node[-1]
    return value


def reference(prefix: str) -> Any:
    """The partial parse of a prefix, computed independently of the tracker."""
    body = prefix
    if not ends_in_string(prefix):
        stripped = prefix
        while stripped and stripped[-1] in "0123456789+-.eE":
            stripped = stripped[:-1]
        token = prefix[len(stripped) :]
        if token and (token[0] == "-" or token[0].isdigit()):
            body = stripped
    if not body.strip():
        return None
    try:
        return from_json(body, allow_partial="trailing-strings")
    except ValueError:
        return None  # a bare literal or number just started: nothing to show yet


def run(
    model: type[BaseModel], pieces: list[str], **options: Any
) -> tuple[PartialObjectTracker[Any], list[tuple[Any, Any, str]]]:
    tracker: PartialObjectTracker[Any] = PartialObjectTracker(model, **options)
    seen: list[tuple[Any, Any, str]] = []
    prefix = ""
    for piece in pieces:
        tracker.feed(piece)
        prefix += piece
        partial = tracker.partial
        value = copy.deepcopy(tracker.partial_json)
        snapshot = partial.model_copy(deep=True) if isinstance(partial, BaseModel) else value
        if not isinstance(partial, BaseModel):
            assert partial is tracker.partial_json
        seen.append((snapshot, value, prefix))
    return tracker, seen


def check_final(model: type[BaseModel], tracker: PartialObjectTracker[Any], text: str) -> None:
    final = tracker.finish()
    assert final == model.model_validate(json.loads(text))
    assert tracker.partial is final
    assert tracker.partial_json == json.loads(text)


@pytest.mark.parametrize(("model", "text"), documents(), ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize(
    "options",
    [{}, {"budget": 1e12}, {"budget": 0.5, "per_delta": 0, "allowance": 200}],
    ids=["default", "unlimited", "starved"],
)
def test_every_partial_is_valid_and_monotone(
    model: type[BaseModel], text: str, options: dict[str, Any]
) -> None:
    final_value = json.loads(text)
    for seed, pieces in enumerate(chunkings(text, seed=len(text))):
        tracker, seen = run(model, pieces, **options)
        previous: Any = None
        for snapshot, value, prefix in seen:
            where = f"seed {seed} after {prefix[-30:]!r}"
            assert is_prefix(previous, value), where
            assert is_prefix(value, final_value), where
            if isinstance(snapshot, BaseModel):
                assert isinstance(snapshot, model)
                # a validated partial is the instance of a prefix: re-validating it holds
                model.model_validate(snapshot.model_dump(by_alias=True))
            previous = value
        check_final(model, tracker, text)
        budget = options.get("budget", 3.0) * len(text) + options.get("per_delta", 64) * len(
            [piece for piece in pieces if piece]
        )
        rebuilds, reparsed = tracker.refresh_counts
        assert reparsed <= budget + options.get("allowance", 4096), (rebuilds, reparsed)


@pytest.mark.parametrize(("model", "text"), documents(), ids=lambda v: getattr(v, "__name__", ""))
def test_with_an_unlimited_budget_every_partial_is_the_parse_of_the_prefix(
    model: type[BaseModel], text: str
) -> None:
    for pieces in chunkings(text, seed=7):
        _, seen = run(model, pieces, budget=1e12)
        for snapshot, value, prefix in seen:
            expected = reference(prefix)
            assert value == expected, prefix[-40:]
            if expected is None:
                assert snapshot is None
                continue
            validated = without_open_item(prefix, expected)
            if isinstance(snapshot, BaseModel):
                # strings grown in place on the instance are the JSON value's
                assert snapshot == model.model_validate(validated)
            else:
                with pytest.raises(ValueError):
                    model.model_validate(validated)


def test_an_open_list_item_is_left_out_of_the_instance_not_of_the_json() -> None:
    tracker = PartialObjectTracker(Catalog)
    tracker.feed('{"title": "T", "items": [{"name": "a", "tags": ["x"]}, {"name": "b", "no')
    assert tracker.partial == Catalog(title="T", items=[Item(name="a", tags=["x"])])
    assert tracker.partial_json["items"][1] == {"name": "b"}
    tracker.feed('te": "n"}')
    assert tracker.partial == Catalog(
        title="T", items=[Item(name="a", tags=["x"]), Item(name="b", note="n")]
    )


def test_a_validated_partial_appears_as_soon_as_the_prefix_validates() -> None:
    tracker = PartialObjectTracker(Catalog)
    tracker.feed('{"items": [], "tit')
    assert tracker.partial == {"items": []}
    assert not tracker.is_valid
    tracker.feed('le": "Spr')
    assert tracker.partial == Catalog(title="Spr")
    partial = tracker.partial
    tracker.feed("ing")
    # the growing string is updated in place: the object read before sees it too
    assert tracker.partial is partial
    assert partial.title == "Spring"


def test_a_constrained_string_field_is_never_set_unvalidated() -> None:
    tracker = PartialObjectTracker(Tagged)
    tracker.feed('{"kind": "al')
    assert tracker.partial == {"kind": "al"}  # "al" is not a valid kind yet
    tracker.feed('pha", "label": "')
    tracker.feed("x" * 30)
    assert tracker.partial == Tagged(kind="alpha", label="x" * 30)
    tracker.feed("y" * 30)  # 60 characters: over max_length, the prefix does not validate
    assert tracker.partial == {"kind": "alpha", "label": "x" * 30 + "y" * 30}


def test_without_budget_for_a_full_refresh_a_constrained_field_stays_valid() -> None:
    tracker = PartialObjectTracker(Tagged, budget=1, per_delta=0, allowance=60)
    tracker.feed('{"kind": "alpha", "label": "')
    assert isinstance(tracker.partial, Tagged)
    tracker.feed("x" * 30)
    assert tracker.partial == Tagged(kind="alpha", label="x" * 30)
    tracker.feed("y" * 30)  # no credit for a full refresh: only the JSON value grows
    partial = tracker.partial
    assert partial == Tagged(kind="alpha", label="x" * 30)
    assert tracker.partial_json == {"kind": "alpha", "label": "x" * 30 + "y" * 30}


def test_the_partial_is_stale_rather_than_over_budget() -> None:
    text = json.dumps(CATALOG)
    tracker = PartialObjectTracker(Catalog, budget=1, per_delta=0, allowance=0)
    tracker.feed(text[:100])
    first = copy.deepcopy(tracker.partial_json)
    assert tracker.refresh_counts == (1, 100)
    # 200 more bytes that close the string and add keys earn 200 units: not enough for
    # a 300-byte re-parse, and no string is growing: the partial waits
    tracker.feed(text[100:300])
    assert tracker.partial_json == first
    assert tracker.refresh_counts == (1, 100)
    tracker.feed(text[300:])
    _ = tracker.partial
    assert tracker.refresh_counts[1] <= len(text)  # budget 1: never more than the text
    assert tracker.finish() == Catalog.model_validate(CATALOG)
    assert tracker.partial_json == json.loads(text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"title": "a", "items": [', "not JSON"),
        ('{"title": 3}', "validate as Catalog"),
        ("nope", "not JSON"),
    ],
)
def test_finish_raises_with_the_raw_text(text: str, needle: str) -> None:
    tracker = PartialObjectTracker(Catalog)
    for char in text:
        tracker.feed(char)
        _ = tracker.partial  # invalid JSON never raises while streaming
    with pytest.raises(StructuredOutputError, match=needle) as info:
        tracker.finish()
    assert info.value.raw == text
    assert info.value.model is Catalog


def test_rejects_what_is_not_a_model() -> None:
    with pytest.raises(TypeError, match="pydantic model class"):
        PartialObjectTracker(dict)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="budget"):
        PartialObjectTracker(Catalog, budget=0)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


class Anything(RootModel[Any]):
    pass


@settings(max_examples=150, deadline=None)
@given(
    value=_json_values, cuts=st.lists(st.integers(0, 10_000), max_size=12), ascii_only=st.booleans()
)
def test_any_json_value_any_chunking(value: Any, cuts: list[int], ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    points = sorted({cut % (len(text) + 1) for cut in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in itertools.pairwise(points) if b > a]
    _, seen = run(Anything, pieces, budget=1e12)
    previous: Any = None
    for _, partial_value, prefix in seen:
        assert partial_value == reference(prefix)
        assert is_prefix(previous, partial_value)
        previous = partial_value
    # a starved budget: few full refreshes, growing strings refreshed on their own
    final = json.loads(text)
    tracker, seen = run(Anything, pieces, budget=0.3, per_delta=0, allowance=50)
    previous = None
    for _, partial_value, _ in seen:
        assert is_prefix(previous, partial_value)
        assert is_prefix(partial_value, final)
        previous = partial_value
    assert tracker.finish().root == final
