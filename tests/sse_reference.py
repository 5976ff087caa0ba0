"""A deliberately simple reference decoder for the differential tests, and test drivers.

Written line by line from the WHATWG HTML "event stream interpretation" algorithm
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
with no regard for speed: the whole stream is decoded at once, split into lines, and each
line is processed in order. If levante's incremental decoder and this one disagree, the
bug is in levante unless this file contradicts the spec text quoted in its comments.

Two choices the spec leaves to the caller are made as in levante's issue 2:

- ``ServerSentEvent.id`` is the spec's ``lastEventId`` (the last event ID string set at
  dispatch) and ``retry`` the reconnection time in force at dispatch.
- A new stream after a reconnection starts with the last event ID and reconnection time
  of the previous one (pass them in), as issue 2 asks. Read literally, the spec gives each
  new stream an empty "last event ID buffer", which would blank the ID at the first
  dispatch of a stream that sends no ``id:``; levante keeps the ID instead.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from levante.sse import EventTooLarge, ServerSentEvent, SSEDecoder

__all__ = ["CHUNKINGS", "Outcome", "chunk", "drive", "reference_decode"]

# "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF)
# character pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE
# RETURN (CR) character." Nothing else (no U+2028, U+0085, VT, FF...).
_LINE_END = re.compile("\r\n|\r|\n")
_LINE_END_BYTES = re.compile(b"\r\n|\r|\n")


@dataclass
class Outcome:
    """Everything observable after a whole stream has been decoded and ended."""

    events: list[ServerSentEvent] = field(default_factory=list)
    last_event_id: str = ""
    retry: int | None = None
    #: An unfinished block (a non-empty line after the last blank line) was discarded.
    truncated: bool = False


def _oversized_lines(stream: bytes, limit: int) -> set[int]:
    """Indices of the lines that belong to a block of more than ``limit`` bytes.

    levante's rule, not the spec's: a block's size is the bytes of its lines joined by one
    line end each (not counting the line end of its last line nor the blank line after
    it); an unfinished last block counts its incomplete line too. Such a block is dropped
    whole: none of its lines has any effect.
    """
    pieces = _LINE_END_BYTES.split(stream)
    lines = pieces if pieces[-1] else pieces[:-1]
    dropped: set[int] = set()
    block: list[int] = []
    for i, line in enumerate([*lines, b""]):
        if line:
            block.append(i)
            continue
        if block and sum(len(lines[j]) for j in block) + len(block) - 1 > limit:
            dropped.update(block)
        block = []
    return dropped


def reference_decode(
    stream: bytes,
    *,
    last_event_id: str = "",
    retry: int | None = None,
    max_event_size: int | None = None,
) -> Outcome:
    """Decode a complete stream, ``stream``, and return what a user agent would observe.

    With ``max_event_size``, blocks larger than that are dropped as levante drops them.
    """
    dropped: set[int] = set()
    if max_event_size is not None:
        # Lines split on bytes number the same as lines split on the decoded text: CR and
        # LF are never part of a UTF-8 sequence, and one BOM goes in both cases.
        body = stream[3:] if stream.startswith(b"\xef\xbb\xbf") else stream
        dropped = _oversized_lines(body, max_event_size)
    # "Streams must be decoded using the UTF-8 decode algorithm": invalid sequences become
    # U+FFFD and one leading BOM is dropped (Python's "utf-8" codec keeps it, so drop it).
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]

    pieces = _LINE_END.split(text)
    # The last piece has no line end after it: an incomplete line, never processed.
    complete_lines, incomplete = pieces[:-1], pieces[-1]

    out = Outcome(last_event_id=last_event_id, retry=retry)
    data_buffer = ""
    event_type_buffer = ""
    last_event_id_buffer = last_event_id
    unfinished = False  # a non-empty line was read since the last blank line

    for i, line in enumerate(complete_lines):
        if line == "":
            # "If the line is empty (a blank line): Dispatch the event."
            unfinished = False
            # Dispatch step 1: the last event ID string takes the buffer's value.
            out.last_event_id = last_event_id_buffer
            # Step 2: "If the data buffer is an empty string, set the data buffer and the
            # event type buffer to the empty string and return."
            if data_buffer == "":
                event_type_buffer = ""
                continue
            # Step 3: "If the data buffer's last character is a U+000A LINE FEED (LF)
            # character, then remove the last character from the data buffer."
            if data_buffer.endswith("\n"):
                data_buffer = data_buffer[:-1]
            # Steps 4-6: type defaults to "message" when the buffer is empty.
            out.events.append(
                ServerSentEvent(
                    event=event_type_buffer or "message",
                    data=data_buffer,
                    id=out.last_event_id,
                    retry=out.retry,
                )
            )
            data_buffer = ""
            event_type_buffer = ""
            continue

        unfinished = True
        if i in dropped:
            continue
        if line.startswith(":"):
            # "If the line starts with a U+003A COLON character (:): Ignore the line."
            continue
        if ":" in line:
            # "Collect the characters on the line before the first U+003A COLON character
            # (:), and let field be that string. Collect the characters on the line after
            # the first U+003A COLON character (:), and let value be that string. If value
            # starts with a U+0020 SPACE character, remove it from value."
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            # "Otherwise, the string is not empty but does not contain a U+003A COLON
            # character (:): ... using the whole line as the field name, and the empty
            # string as the field value."
            name, value = line, ""

        if name == "event":
            event_type_buffer = value
        elif name == "data":
            data_buffer += value + "\n"
        elif name == "id":
            # "If the field value does not contain U+0000 NULL, then set the last event
            # ID buffer to the field value. Otherwise, ignore the field."
            if "\0" not in value:
                last_event_id_buffer = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            # "If the field value consists of only ASCII digits, then interpret the field
            # value as an integer in base ten, and set the event stream's reconnection
            # time to that integer. Otherwise, ignore the field."
            out.retry = int(value)
        # "Otherwise: The field is ignored."

    # "Once the end of the file is reached, any pending data must be discarded. (If the
    # file ends in the middle of an event, before the final empty line, the incomplete
    # event is not dispatched.)"
    out.truncated = unfinished or incomplete != ""
    return out


# -- Driving levante's decoder so that its outcome compares with the reference's ----------

#: Names of the chunkings every table case runs under.
CHUNKINGS = ("whole", "bytewise", "random-a", "random-b")


def chunk(data: bytes, how: str) -> list[bytes]:
    """Cut ``data`` into the pieces a transport might deliver, deterministically."""
    if how == "whole":
        return [data]
    if how == "bytewise":
        return [data[i : i + 1] for i in range(len(data))]
    if how.startswith("random-"):
        # Seeded by name and content, so a failure reproduces exactly.
        rng = random.Random(f"{how}:{data!r}")
        pieces, i = [], 0
        while i < len(data):
            n = rng.randint(1, 7)
            pieces.append(data[i : i + n])
            i += n
        return pieces
    raise ValueError(how)


def drive(
    chunks: Iterable[bytes],
    decoder: SSEDecoder | None = None,
    *,
    max_event_size: int | None = 16 * 1024 * 1024,
) -> tuple[Outcome, list[EventTooLarge]]:
    """Feed every chunk, then end(); return the outcome and the EventTooLarge raised.

    Events carried by an EventTooLarge count as returned, in order.
    """
    if decoder is None:
        decoder = SSEDecoder(max_event_size=max_event_size)
    out = Outcome()
    errors: list[EventTooLarge] = []
    for piece in chunks:
        try:
            out.events += decoder.feed(piece)
        except EventTooLarge as exc:  # noqa: PERF203 - the point is to go on after it
            errors.append(exc)
            out.events += exc.events
    out.events += decoder.end()
    out.last_event_id = decoder.last_event_id
    out.retry = decoder.retry
    out.truncated = decoder.truncated
    return out, errors
