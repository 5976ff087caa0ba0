"""The sans-IO Server-Sent Events decoder: bytes in, :class:`ServerSentEvent` out.

Design rules (keep them when changing this module):

1. No I/O and no imports from the rest of levante. Callers feed whatever bytes they read.
2. Work on bytes, split on bytes. CR and LF are ASCII and can never sit inside a multi-byte
   UTF-8 sequence, so blocks are cut on raw bytes and each complete block is decoded once
   with U+FFFD replacement. A character split across two reads is therefore never decoded
   half-way, and invalid UTF-8 can never raise.
3. Linear time and memory. A partial block is kept as a list of the pieces that arrived; a
   new read is scanned only by itself (plus one byte of look-behind for a blank line split
   across reads) and the pieces are joined exactly once, when the block completes.
4. Bounded. A block that grows past ``max_event_size`` bytes raises :class:`EventTooLarge`;
   the decoder then drops the rest of that block and goes on with the next one.
5. The common case is one ``data: ...`` line per block; it takes a fast path with no
   per-line work. Everything else goes through the general field parser.
"""

from __future__ import annotations

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
        "_cr",
        "_head",
        "_last_event_id",
        "_max",
        "_parts",
        "_pending",
        "_retry",
        "_skip_nl",
        "_skipping",
        "truncated",
    )

    def __init__(self, max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size is not None and max_event_size < 1:
            raise ValueError("max_event_size must be a positive number of bytes or None")
        self._max = max_event_size
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
        # Pieces of the unfinished block and their total size.
        self._parts: list[bytes] = []
        self._pending = 0
        # Dropping the remainder of an oversized block; _skip_nl: the last byte seen was LF.
        self._skipping = False
        self._skip_nl = False

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
        """
        if self._head is not None:
            data = self._head + data
            if len(data) < 3 and _BOM.startswith(data):
                self._head = data
                return []
            self._head = None
            if data[:3] == _BOM:
                data = data[3:]
        if self._cr:
            self._cr = False
            if data[:1] == b"\n":
                data = data[1:]
        if b"\r" in data:
            self._cr = data[-1:] == b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not data:
            return []

        events: list[ServerSentEvent] = []
        oversized = False
        if self._skipping:
            if self._skip_nl and data[:1] == b"\n":
                data = data[1:]
            else:
                idx = data.find(b"\n\n")
                if idx < 0:
                    self._skip_nl = data[-1:] == b"\n"
                    return events
                data = data[idx + 2 :]
            self._skipping = False

        parts = self._parts
        if parts:
            if parts[-1][-1:] == b"\n" and data[:1] == b"\n":
                # The blank line was split across reads: the block ended at the pending LF.
                block = b"".join(parts)[:-1]
                data = data[1:]
            else:
                idx = data.find(b"\n\n")
                if idx < 0:
                    parts.append(data)
                    self._pending += len(data)
                    if self._max is not None and self._pending > self._max:
                        self._overflow(data[-1:] == b"\n", events)
                    return events
                parts.append(data[:idx])
                block = b"".join(parts)
                data = data[idx + 2 :]
            parts.clear()
            self._pending = 0
            if self._max is not None and len(block) > self._max:
                oversized = True
            else:
                self._block(block, events)

        blocks = data.split(b"\n\n")
        tail = blocks.pop()
        limit = self._max
        if limit is not None and len(data) > limit:
            for block in blocks:
                if len(block) > limit:
                    oversized = True
                else:
                    self._block(block, events)
        else:
            last_id = self._last_event_id
            retry = self._retry
            append = events.append
            for block in blocks:
                if block[:6] == b"data: " and b"\n" not in block:
                    append(
                        ServerSentEvent(
                            "message", block[6:].decode("utf-8", "replace"), last_id, retry
                        )
                    )
                elif block:
                    self._block(block, events)
                    last_id = self._last_event_id
                    retry = self._retry
        if tail:
            parts.append(tail)
            self._pending = len(tail)
            if limit is not None and self._pending > limit:
                self._overflow(tail[-1:] == b"\n", events)
        if oversized:
            raise EventTooLarge(limit or 0, events)
        return events

    def _overflow(self, ends_with_lf: bool, events: list[ServerSentEvent]) -> None:
        self._parts.clear()
        self._pending = 0
        self._skipping = True
        self._skip_nl = ends_with_lf
        raise EventTooLarge(self._max or 0, events)

    def _block(self, block: bytes, events: list[ServerSentEvent]) -> None:
        """Interpret one complete block (lines without the blank line that ends it)."""
        event_type = ""
        data: list[str] = []
        for line in block.decode("utf-8", "replace").split("\n"):
            if not line or line[0] == ":":
                continue
            name, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\0" not in value:
                    self._last_event_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                self._retry = int(value)
        if data:
            events.append(
                ServerSentEvent(
                    event_type or "message", "\n".join(data), self._last_event_id, self._retry
                )
            )

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
        if self._head:
            pending = self._head + pending
        self.truncated = self._skipping or bool(pending.strip(b"\n"))
        if pending:
            for line in pending.decode("utf-8", "replace").split("\n")[:-1]:
                if line[:6] == "retry:":
                    value = line[6:]
                    if value[:1] == " ":
                        value = value[1:]
                    if value.isascii() and value.isdigit():
                        self._retry = int(value)
        self._reset_stream()
        return []
