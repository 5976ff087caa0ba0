"""Structured output as an object while it streams, in linear time.

:class:`PartialObjectTracker` is fed the content deltas of a structured answer (JSON text
arriving in pieces) and exposes, at any point, the object so far: a validated instance of
the pydantic model when the JSON so far validates, else the JSON value (a dict). It
parses with pydantic-core's partial mode (``from_json(allow_partial="trailing-strings")``):
open containers are closed, an unfinished string value is kept as far as it got, an
unfinished key, number or literal is left out. The instance leaves out an item still open
in a list (the outermost such list), as pydantic's own partial validation drops an
unfinished last item: the finished items make a valid instance while the open one lacks
required fields; :attr:`~PartialObjectTracker.partial_json` has it as far as it got.

Re-parsing the whole text at every delta would be quadratic (a 1 MB answer in 25,000
deltas would re-parse 12 GB). Instead:

- a **full refresh** parses and validates the whole text: one unit of work per byte;
- a **string refresh**, when all that arrived since the last refresh extends the same
  string value (a long ``"description": "..."`` being written), rebuilds only that
  string from its raw text and puts it in place, in the JSON value and on the instance
  when it is a plain ``str`` field or an item of a plain ``list[str]`` field: an eighth
  of a unit per byte of that string;
- a **budget** pays for them: each delta earns ``per_delta`` units (64) plus
  ``budget`` units per byte (3), the first ``allowance`` units (4096) are free, and a
  refresh runs when a partial is read and the credit covers it. (A delta already costs
  the stream far more than 64 bytes of parsing, so the overhead stays a fraction of the
  stream's own cost.) A string refresh that would not keep the instance exact (a
  constrained field, or a partial that did not validate yet) gives way to a full
  refresh when one is affordable.

Guarantees:

- *linear*: over a whole stream, at most ``budget`` x bytes + ``per_delta`` x deltas
  + ``allowance`` units (:attr:`~PartialObjectTracker.refresh_counts`), plus a constant
  per delta, however the text is cut and however often the partial is read;
- *correct*: every partial is the parse of a prefix of the text, validated when that
  prefix (without its open list item) validates at its last full refresh; each one
  extends the previous one (strings grow, containers gain members, finished values never
  change); with an unlimited budget it is exactly the partial parse of the text so far;
- *fresh*: a growing string is shown as it grows; new structure (keys, list items) as
  soon as the budget allows a full refresh: once the free allowance is spent, about
  every ``len(text) / (budget + per_delta / delta size)`` bytes. ``finish()`` (called when the
  stream's choice finishes) gives the final object, parsed as the official SDK parses
  it.

A string refresh updates the current partial in place (a partial you hold sees its
string grow); ``copy.deepcopy`` it to keep a snapshot.
"""

from ._tracker import PartialObjectTracker

__all__ = ["PartialObjectTracker"]
