"""AsyncStreamContext: an async stream request, sent when awaited or entered."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from ._async import EventStreamAsync

__all__ = ["AsyncStreamContext"]

_AS = TypeVar("_AS", bound=EventStreamAsync[Any])


class AsyncStreamContext(Generic[_AS]):
    """What an async streaming method returns, before any I/O: await it or enter it.

    ``stream = await client.chat.stream_async(...)`` sends the request and gives the open
    stream (as in the official SDK); ``async with client.chat.stream_async(...) as stream``
    does the same and closes the stream when the block is left, however it is left. The
    request is sent once: a second ``await`` or ``async with`` raises ``RuntimeError``.
    Arguments are validated when the method is called, before this object exists.
    """

    __slots__ = ("_open", "_stream")

    def __init__(self, open_stream: Callable[[], Coroutine[Any, Any, _AS]]) -> None:
        self._open: Callable[[], Coroutine[Any, Any, _AS]] | None = open_stream
        self._stream: _AS | None = None

    def _take(self) -> Callable[[], Coroutine[Any, Any, _AS]]:
        open_stream = self._open
        if open_stream is None:
            raise RuntimeError("this stream request was already sent; call the method again")
        self._open = None
        return open_stream

    def __await__(self) -> Generator[Any, None, _AS]:
        return self._take()().__await__()

    async def __aenter__(self) -> _AS:
        stream = self._stream = await self._take()()
        await stream.__aenter__()
        return stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stream = self._stream
        self._stream = None
        if stream is not None:
            await stream.__aexit__(exc_type, exc, tb)
