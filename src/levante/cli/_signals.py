"""Ctrl-C bookkeeping, shared by the entry point and the interactive chat.

Our SIGINT handler raises ``KeyboardInterrupt`` as Python's does, and also notes that
Ctrl-C was pressed: a ``KeyboardInterrupt`` that crosses native code can surface as
another exception (pydantic-core turns one raised during its import into a
``PanicException``), and the entry point must still exit 130 quietly then.
"""

from __future__ import annotations

import signal
import sys

TYPE_CHECKING = False  # not typing's: that import alone would slow the start by ~10 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any


class Interrupted:
    """Whether Ctrl-C was pressed since :func:`take_over_ctrl_c` or :func:`forget`."""

    seen = False


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    Interrupted.seen = True
    raise KeyboardInterrupt


def _redeliver(unraisable: Any) -> None:
    """``sys.unraisablehook``: a KeyboardInterrupt raised inside a weakref callback or a
    ``__del__`` (an import lock's callback, say) would be printed and dropped, and the
    command would go on as if Ctrl-C had not been pressed. Raise it again, once that
    callback is over, instead."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        import _thread
        import threading

        # From another thread, a moment later: raised from here, or at once, it would land
        # in this hook or in the callback again and be dropped once more.
        threading.Timer(0.005, _thread.interrupt_main).start()
        return
    _previous_hook(unraisable)


_previous_hook = sys.unraisablehook


def take_over_ctrl_c() -> Callable[[], None]:
    """Install our SIGINT handler (main thread only); returns what puts back the previous
    handlers."""
    global _previous_hook
    Interrupted.seen = False
    try:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: signals are not ours to handle
        return lambda: None
    previous_hook = sys.unraisablehook
    if previous_hook is not _redeliver:
        _previous_hook = previous_hook
        sys.unraisablehook = _redeliver

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook

    return restore


def forget() -> None:
    """A Ctrl-C was handled where it landed (a reply stopped in the chat): clear the note."""
    Interrupted.seen = False
