"""The sans-IO Server-Sent Events decoder: bytes in, :class:`ServerSentEvent` out.

Design rules (keep them when changing this module):

1. No I/O and no imports from the rest of levante. Callers feed whatever bytes they read.
2. Work on bytes, split on bytes. CR and LF are ASCII and can never sit inside a multi-byte
   UTF-8 sequence, so blocks are cut on raw bytes and each run of complete blocks is
   decoded once with U+FFFD replacement. A character split across two reads is therefore
   never decoded half-way, and invalid UTF-8 can never raise.
3. Line ends are normalised to LF as bytes arrive (a CR ending one read waits to see
   whether the next read opens with its LF), so everything after that deals with LF only.
4. Linear time and memory. A partial block is kept as a list of the pieces that arrived; a
   new read is scanned only by itself (plus one byte of look-behind for a blank line split
   across reads) and the pieces are joined exactly once, when the block completes.
5. Bounded. A block whose size grows past ``max_event_size`` raises
   :class:`EventTooLarge` as soon as that is certain; the decoder then drops the rest of
   that block and goes on with the next one. The size counts the block's bytes after line
   end normalisation, from the start of its first line to the end of its last line, so
   it does not depend on how the stream was cut into reads.
6. Fast paths, because one event is decoded per streamed token. State that needs care (a
   possible BOM, a pending CR, an oversized block being skipped) clears ``_plain`` and
   sends reads through :meth:`SSEDecoder._prepare`; otherwise a read goes straight to
   block splitting. A run of blocks that are all a single ``data: `` line (the shape of
   every chat completion stream) is decoded with one ``split`` and no per-line work.
"""

from __future__ import annotations

import sys

from ._event import EventTooLarge, ServerSentEvent

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder"]

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Incremental WHATWG event-stream decoder.

    ``feed(bytes)`` returns the events completed by those bytes, ``end()`` closes the
    stream. After ``end()`` the decoder is ready for a new stream (a reconnection), keeping
    :attr:`last_event_id` and :attr:`retry` exactly as an ``EventSource`` does.

    ``max_event_size`` bounds, in bytes, one block of lines (and so one line) as it is
    buffered; ``None`` removes the bound.
    """

    __slots__ = (
        "_cap",
        "_cr",
        "_head",
        "_last_event_id",
        "_max",
        "_parts",
        "_plain",
        "_retry",
        "_room",
        "_skip_lf",
        "_skipping",
        "truncated",
    )

    def __init__(self, max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size is not None and max_event_size < 1:
            raise ValueError("max_event_size must be a positive number of bytes or None")
        self._max = max_event_size
        # The bound as a plain int, so the hot paths compare without a None check.
        self._cap = sys.maxsize if max_event_size is None else max_event_size
        self._last_event_id = ""
        self._retry: int | None = None
        #: After :meth:`end`: whether bytes of an unfinished block were discarded.
        self.truncated = False
        self._reset_stream()

    def _reset_stream(self) -> None:
        # Bytes held at the very start until we know whether they open a BOM; None after.
        self._head: bytes | None = b""
        # The previous read ended with CR: a LF opening the next read belongs to it.
        self._cr = False
        # Pieces of the unfinished block (never starting with LF), and how many more bytes
        # it may grow by before it exceeds the bound (counting down is one load cheaper).
        self._parts: list[bytes] = []
        self._room = self._cap
        # Dropping the remainder of an oversized block; _skip_lf: the last byte seen was LF.
        self._skipping = False
        self._skip_lf = False
        # None of the above needs looking at: reads may take the fast path.
        self._plain = False

    @property
    def last_event_id(self) -> str:
        """The last event ID string, as an ``EventSource`` would send in ``Last-Event-ID``."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds set by the stream, or None if never set."""
        return self._retry

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode ``data`` and return the events whose blocks it completes.

        Raises :class:`EventTooLarge` when a block outgrows ``max_event_size``; the events
        completed by the same call are on the exception's ``events`` attribute.

        ``data`` must be immutable ``bytes``: the pieces of an unfinished block are kept by
        reference rather than copied, so a ``bytearray`` reused for the next read would
        change them (pass ``bytes(buffer)`` instead).
        """
        # Byte membership (``13 in data``) is a memchr; a bytes needle is several times
        # slower, which matters at one call per token.
        if not self._plain or not data or 13 in data:
            data = self._prepare(data)
            if not data:
                return []
        parts = self._parts
        if parts:
            # The read continues the unfinished block.
            if 10 not in data:
                parts.append(data)
                self._room -= len(data)
                if self._room < 0:
                    self._check_pending(data, [])
                return []
            cap = self._cap
            if data[0] == 10 and parts[-1][-1] == 10:
                # Its blank line was split across reads: the block ended at the pending LF.
                block = b"".join(parts)[:-1]
                tail = data[1:]
            else:
                head, blank, tail = data.partition(b"\n\n")
                if not blank:
                    parts.append(data)
                    self._room -= len(data)
                    if self._room < 0:
                        self._check_pending(data, [])
                    return []
                parts.append(head)
                block = b"".join(parts)
            if len(block) <= cap:
                oversized = False
                if block[:6] == b"data: " and 10 not in block:
                    events = [
                        ServerSentEvent(
                            "message",
                            block[6:].decode("utf-8", "replace"),
                            self._last_event_id,
                            self._retry,
                        )
                    ]
                else:
                    events = []
                    self._block(block.decode("utf-8", "replace"), events)
                if 10 not in tail:
                    # The rest opens the next block and holds no line end (nor a leading LF).
                    if tail:
                        self._parts = [tail]
                        self._room = room = cap - len(tail)
                        if room < 0:
                            self._check_pending(tail, events)
                    else:
                        parts.clear()
                        self._room = cap
                    return events
            else:
                oversized = True
                events = []
            parts.clear()
            self._room = cap
            end = tail.rfind(b"\n\n")
            if end < 0:
                self._start_pending(tail, events)
                if oversized:
                    raise EventTooLarge(self._max or 0, events)
                return events
            data = tail
            complete = data[:end]
        else:
            cap = self._cap
            oversized = False
            end = data.find(10)
            size = len(data) - 2
            if end == size and data[-1] == 10 and data[:6] == b"data: " and size <= cap:
                # Exactly one block of one data line: one event per read, the common case.
                return [
                    ServerSentEvent(
                        "message",
                        data[6:-2].decode("utf-8", "replace"),
                        self._last_event_id,
                        self._retry,
                    )
                ]
            end = data.rfind(b"\n\n") if end >= 0 else -1
            if end < 0:
                self._start_pending(data, [])
                return []
            complete = data[:end]
            events = []

        # ``complete`` holds whole blocks separated by blank lines.
        if len(complete) <= cap:
            text = complete.decode("utf-8", "replace")
            if text[:6] == "data: ":
                values = text[6:].split("\n\ndata: ")
                # Every LF belongs to a separator: each block is exactly one data line.
                if text.count("\n") == 2 * len(values) - 2:
                    last_id = self._last_event_id
                    retry = self._retry
                    if events:
                        events += [ServerSentEvent("message", v, last_id, retry) for v in values]
                    else:
                        events = [ServerSentEvent("message", v, last_id, retry) for v in values]
                else:
                    self._blocks(text, events)
            else:
                self._blocks(text, events)
        else:
            for raw in complete.split(b"\n\n"):
                if len(raw.strip(b"\n")) > cap:
                    oversized = True
                elif raw:
                    self._block(raw.decode("utf-8", "replace"), events)

        if end + 2 < len(data):
            self._start_pending(data[end + 2 :], events)
        if oversized:
            raise EventTooLarge(self._max or 0, events)
        return events

    def _prepare(self, data: bytes) -> bytes:
        """Deal with a possible BOM, CR line ends and skipping; return LF-only bytes.

        Returns ``b""`` when nothing is left for the block splitter.
        """
        # Every stream's first read comes through here, so a caller passing text or a
        # mutable buffer learns it at once instead of from an obscure error later.
        if not isinstance(data, bytes):
            raise TypeError(f"SSEDecoder.feed() takes bytes, not {type(data).__name__}")
        if self._head is not None:
            data = self._head + data
            if len(data) < 3 and _BOM.startswith(data):
                self._head = data
                return b""
            self._head = None
            if data[:3] == _BOM:
                data = data[3:]
        if not data:
            return data
        if self._cr:
            self._cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if 13 in data:
            self._cr = data[-1] == 13
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._skipping and data:
            if self._skip_lf and data[:1] == b"\n":
                data = data[1:]
                self._skipping = False
            else:
                idx = data.find(b"\n\n")
                if idx < 0:
                    self._skip_lf = data[-1:] == b"\n"
                    data = b""
                else:
                    data = data[idx + 2 :]
                    self._skipping = False
        self._plain = not (self._cr or self._skipping)
        return data

    def _start_pending(self, tail: bytes, events: list[ServerSentEvent]) -> None:
        # Blank lines opening a block dispatch nothing; dropping them keeps the size exact.
        tail = tail.lstrip(b"\n")
        if not tail:
            return
        self._parts.append(tail)
        self._room = self._cap - len(tail)
        if self._room < 0:
            self._check_pending(tail, events)

    def _check_pending(self, last: bytes, events: list[ServerSentEvent]) -> None:
        """Raise if the unfinished block, whose last piece is ``last``, is already too big."""
        # A trailing LF may turn out to be the first half of the blank line ending the block.
        limit = self._cap
        if self._room + (last[-1] == 10) >= 0:
            return
        self._parts = []
        self._room = limit
        self._skipping = True
        self._skip_lf = last[-1] == 10
        self._plain = False
        raise EventTooLarge(limit, events)

    def _blocks(self, text: str, events: list[ServerSentEvent]) -> None:
        """Interpret decoded blocks separated by blank lines, one at a time."""
        for block in text.split("\n\n"):
            if block[:6] == "data: " and "\n" not in block:
                events.append(
                    ServerSentEvent("message", block[6:], self._last_event_id, self._retry)
                )
            elif block:
                self._block(block, events)

    def _block(self, block: str, events: list[ServerSentEvent]) -> None:
        """Interpret one complete block (lines without the blank line that ends it)."""
        event_type = ""
        data: list[str] = []
        for line in block.split("\n"):
            if not line or line[0] == ":":
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\0" not in value:
                    self._last_event_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                self._set_retry(value)
        if data:
            events.append(
                ServerSentEvent(
                    event_type or "message", "\n".join(data), self._last_event_id, self._retry
                )
            )

    def _set_retry(self, digits: str) -> None:
        try:
            self._retry = int(digits)
        except ValueError:
            # Python refuses to convert more than 4300 digits. Leading zeros are harmless;
            # a longer number of milliseconds means "never" and is ignored like junk.
            digits = digits.lstrip("0")
            if len(digits) <= 4300:
                self._retry = int(digits or "0")

    def end(self) -> list[ServerSentEvent]:
        """Signal the end of the stream.

        An unfinished last block is discarded, as the WHATWG algorithm requires, so this
        returns ``[]``; :attr:`truncated` tells whether anything but line ends was dropped.
        ``retry:`` lines already complete in that block still take effect, because the
        reconnection time is set as each line is read, not when a block is dispatched.
        The decoder is then reset for a new stream, keeping :attr:`last_event_id` and
        :attr:`retry`.
        """
        pending = b"".join(self._parts)
        self.truncated = self._skipping or bool(pending) or bool(self._head)
        if pending:
            for line in pending.decode("utf-8", "replace").split("\n")[:-1]:
                if line[:6] == "retry:":
                    value = line[6:]
                    if value[:1] == " ":
                        value = value[1:]
                    if value.isascii() and value.isdigit():
                        self._set_retry(value)
        self._reset_stream()
        return []
