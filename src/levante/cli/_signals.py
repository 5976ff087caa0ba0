"""Ctrl-C bookkeeping, shared by the entry point and the interactive chat.

Our SIGINT handler raises ``KeyboardInterrupt`` as Python's does, and also notes that
Ctrl-C was pressed: a ``KeyboardInterrupt`` that crosses native code can surface as
another exception (pydantic-core turns one raised during its import into a
``PanicException``), and the entry point must still exit 130 quietly then.
"""

from __future__ import annotations

import signal
import threading

TYPE_CHECKING = False  # not typing's: that import alone would slow the start by ~10 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    Handler = Callable[[int, FrameType | None], object] | int | None


class Interrupted:
    """Whether Ctrl-C was pressed since :func:`take_over_ctrl_c` or :func:`forget`."""

    seen = False


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    Interrupted.seen = True
    raise KeyboardInterrupt


def take_over_ctrl_c() -> Handler:
    """Install our SIGINT handler; returns the previous one (None off the main thread)."""
    Interrupted.seen = False
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _on_sigint)


def forget() -> None:
    """A Ctrl-C was handled where it landed (a reply stopped in the chat): clear the note."""
    Interrupted.seen = False
