"""Server-sent events from any HTTP endpoint, and streams that reconnect when cut.

:func:`connect_sse` / :func:`aconnect_sse` send one request asking for an event stream
and return an :class:`~levante.EventStream` / :class:`~levante.EventStreamAsync` of raw
:class:`~levante.sse.ServerSentEvent` objects, with the whole stream lifecycle (release
on every path, ``close()`` from anywhere, timeouts, stats).

With ``reconnect=`` the stream is a :class:`ReconnectingEventStream` (or its async twin),
which the resources use too. It plugs into the stream package's seam for reconnection
(``_reopen`` / ``_drop_body`` / ``_attach`` / ``_wait`` / ``_guarded`` on the twins): when
the body is cut short (a LOST step), it drops that body, waits as
:class:`~levante._reconnect.ReconnectState` decides, sends a new request carrying the last
event id and attaches the new body; the decoder's partial event is discarded by the
core. Nothing here runs per event: the twins' hot loops are inherited untouched.

Design rules: a response is accepted (:func:`accept_response`) only as ``200..299`` with
``text/event-stream``; ``204`` means "no more events" (the stream ends, and never
reconnects); anything else is refused with an error naming its status and content type,
its body read with a bound and its connection released.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, TypeVar

import anyio
import httpx2

from ._checks import check_timeout, redact
from ._reconnect import Reconnect, ReconnectPolicy, ReconnectState, resolve_reconnect
from ._response import (
    aread_error_body,
    connection_error,
    error_for,
    read_error_body,
    secrets_of,
)
from ._streaming import AsyncStreamContext, EndRule, EventStream, EventStreamAsync
from .errors import APIConnectionError, APIError, NotAnEventStream, ReconnectError, StreamClosed
from .sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

__all__ = [
    "SSE_HEADERS",
    "ReconnectingEventStream",
    "ReconnectingEventStreamAsync",
    "Reopen",
    "ReopenAsync",
    "aconnect_sse",
    "connect_sse",
    "is_event_stream",
    "refuse_response",
]

T = TypeVar("T")

#: Sends the request that resumes after an event id ("" when none was seen) and returns
#: the response, opened for streaming; httpx2 transport errors count as failed attempts.
Reopen: TypeAlias = Callable[[str], httpx2.Response]
ReopenAsync: TypeAlias = Callable[[str], Awaitable[httpx2.Response]]

#: What connect_sse sends on every request.
SSE_HEADERS: Mapping[str, str] = {"accept": "text/event-stream", "cache-control": "no-store"}
#: The keyword arguments that go to ``client.send`` rather than ``client.build_request``.
_SEND_KWARGS = frozenset({"auth", "follow_redirects"})


def _raw(event: ServerSentEvent) -> ServerSentEvent:
    return event


def is_event_stream(response: httpx2.Response) -> bool:
    """Whether ``response`` is a successful ``text/event-stream`` answer."""
    media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return 200 <= response.status_code < 300 and media == "text/event-stream"


def refuse_response(response: httpx2.Response, raw: bytes) -> APIError:
    """The error for a response that is not an event stream, naming status and type.

    ``raw`` is the start of its body (already read with a bound; the response is closed).
    """
    kind = response.headers.get("content-type") or "no content type"
    if response.status_code >= 400:
        error = error_for(response, raw)
        error.message = f"{error.message} (expected text/event-stream, got {kind})"
        error.args = (error.message,)
        return error
    body = redact(raw.decode("utf-8", "replace"), secrets_of(response.request))
    return NotAnEventStream(
        f"expected text/event-stream, got {kind}",
        status_code=response.status_code,
        body=body,
        headers=response.headers,
    )


def _connection_error(exc: httpx2.TransportError) -> APIConnectionError:
    error = APIConnectionError(f"could not reconnect: {exc!r}")
    error.__cause__ = exc
    return error


def _closed() -> StreamClosed:
    return StreamClosed("the stream was closed while it was reconnecting")


class ReconnectingEventStream(EventStream[T]):
    """An :class:`~levante.EventStream` that reconnects after its body is cut short.

    ``reopen(last_event_id)`` sends the resuming request; ``reconnect`` is the policy
    (``None``: behave exactly as :class:`~levante.EventStream`). Created by
    :func:`connect_sse` and by the resources whose endpoints can resume. Other keyword
    arguments are :class:`~levante.EventStream`'s.
    """

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], T],
        *,
        reconnect: Reconnect | None = None,
        reopen: Reopen | None = None,
        **options: Any,
    ) -> None:
        if reconnect is not None and reopen is None:
            raise TypeError("a reconnecting stream needs reopen=")
        super().__init__(response, decode, **options)
        self._tries = ReconnectState(reconnect) if reconnect is not None else None
        self._reopener = reopen
        self._lost_at_end = reconnect is not None and reconnect.on_end
        # A 204 answer means "no more events": the stream ends, never reconnecting.
        self._no_more = response.status_code == 204
        self._events_before = 0

    def _reopen(self) -> bool:
        tries, reopen = self._tries, self._reopener
        if tries is None or reopen is None:
            return False  # raise the IncompleteStreamError, as any stream does
        self._drop_body()
        if self._no_more:
            self._failure = None
            return False
        events = self.stats.events
        tries.lost(self._failure or _closed(), progressed=events > self._events_before)
        while True:
            try:
                wait = tries.next_wait(self.retry)
            except ReconnectError as exc:
                self._fail(exc)
                return False
            if not self._wait(wait):
                self._fail(_closed())
                return False
            try:
                response = reopen(self.last_event_id)
            except httpx2.TransportError as exc:
                tries.failed(_connection_error(exc))
                continue
            if not is_event_stream(response):
                if response.status_code == 204:
                    read_error_body(response)  # read to its (empty) end: back to the pool
                    self._failure = None
                else:
                    self._fail(refuse_response(response, read_error_body(response)))
                return False
            if not self._attach(response):
                response.close()
                self._fail(_closed())
                return False
            self._events_before = events
            return True


class ReconnectingEventStreamAsync(EventStreamAsync[T]):
    """The async twin of :class:`ReconnectingEventStream` (``reopen`` is async)."""

    def __init__(
        self,
        response: httpx2.Response,
        decode: Callable[[ServerSentEvent], T],
        *,
        reconnect: Reconnect | None = None,
        reopen: ReopenAsync | None = None,
        **options: Any,
    ) -> None:
        if reconnect is not None and reopen is None:
            raise TypeError("a reconnecting stream needs reopen=")
        super().__init__(response, decode, **options)
        self._tries = ReconnectState(reconnect) if reconnect is not None else None
        self._reopener = reopen
        self._lost_at_end = reconnect is not None and reconnect.on_end
        self._no_more = response.status_code == 204
        self._events_before = 0

    async def _reopen(self) -> bool:
        tries, reopen = self._tries, self._reopener
        if tries is None or reopen is None:
            return False
        await self._drop_body()
        if self._no_more:
            self._failure = None
            return False
        events = self.stats.events
        tries.lost(self._failure or _closed(), progressed=events > self._events_before)
        while True:
            try:
                wait = tries.next_wait(self.retry)
            except ReconnectError as exc:
                self._fail(exc)
                return False
            outcome = await self._guarded(functools.partial(_attempt, wait, reopen, self))
            if outcome is None:
                self._fail(_closed())
                return False
            if isinstance(outcome, httpx2.TransportError):
                tries.failed(_connection_error(outcome))
                continue
            if not is_event_stream(outcome):
                if outcome.status_code == 204:
                    await aread_error_body(outcome)
                    self._failure = None
                else:
                    self._fail(refuse_response(outcome, await aread_error_body(outcome)))
                return False
            if not self._attach(outcome):
                await outcome.aclose()
                self._fail(_closed())
                return False
            self._events_before = events
            return True


async def _attempt(
    wait: float, reopen: ReopenAsync, stream: EventStreamAsync[Any]
) -> httpx2.Response | httpx2.TransportError:
    """Wait, then send the resuming request (the transport error is returned, not raised)."""
    await anyio.sleep(wait)
    try:
        return await reopen(stream.last_event_id)
    except httpx2.TransportError as exc:
        return exc


# -- connect_sse / aconnect_sse -----------------------------------------------------------


class _Plan:
    """One connect_sse call, validated before any I/O: how to build each request."""

    __slots__ = ("build", "method", "policy", "send", "stream", "url")

    def __init__(
        self,
        client: httpx2.Client | httpx2.AsyncClient,
        method: str,
        url: httpx2.URL | str,
        reconnect: ReconnectPolicy,
        stream: dict[str, Any],
        request_kwargs: dict[str, Any],
    ) -> None:
        self.policy = resolve_reconnect(reconnect)
        end = stream["end"]
        if end is None:
            # raw events: an "error" event or payload is data like any other here
            stream["end"] = EndRule.at_body_end(errors=(), error_payloads=False)
        elif not isinstance(end, EndRule):
            raise TypeError(f"end must be an EndRule, not {type(end).__name__}")
        check_timeout("first_event_timeout", stream["first_event_timeout"])
        check_timeout("idle_timeout", stream["idle_timeout"])
        SSEDecoder(stream["max_event_size"])  # refuses a bad size now, not after the request
        self.stream = stream
        self.send = {k: request_kwargs.pop(k) for k in _SEND_KWARGS if k in request_kwargs}
        self.build = request_kwargs
        self.method = method
        self.url = url
        self.request(client, "")  # a bad URL or argument fails here, before any I/O

    def request(self, client: httpx2.Client | httpx2.AsyncClient, last_id: str) -> httpx2.Request:
        """The request to send; ``last_id`` (when not empty) as ``Last-Event-ID``."""
        request = client.build_request(self.method, self.url, **self.build)
        request.headers.update(SSE_HEADERS)
        if last_id:
            request.headers["last-event-id"] = last_id
        return request


def _stream_options(
    end: EndRule | None,
    first_event_timeout: float | None,
    idle_timeout: float | None,
    max_event_size: int | None,
) -> dict[str, Any]:
    return {
        "end": end,
        "first_event_timeout": first_event_timeout,
        "idle_timeout": idle_timeout,
        "max_event_size": max_event_size,
    }


def connect_sse(
    client: httpx2.Client,
    method: str,
    url: httpx2.URL | str,
    *,
    reconnect: ReconnectPolicy = False,
    end: EndRule | None = None,
    first_event_timeout: float | None = None,
    idle_timeout: float | None = None,
    max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    **request_kwargs: Any,
) -> EventStream[ServerSentEvent]:
    """Send a request for a server-sent event stream; return the open stream of its events.

    ::

        with httpx2.Client() as client:
            with levante.connect_sse(client, "GET", url, reconnect=True) as events:
                for event in events:
                    print(event.id, event.event, event.data)

    ``Accept: text/event-stream`` and ``Cache-Control: no-store`` are sent; other keyword
    arguments go to ``client.build_request`` (``params``, ``headers``, ``json``,
    ``timeout``...) or ``client.send`` (``auth``, ``follow_redirects``). A response that
    is not ``text/event-stream`` is refused: :class:`~levante.errors.NotAnEventStream`
    for a success status, the status's :class:`~levante.errors.APIError` otherwise, each
    naming the status and the content type. A ``204 No Content`` gives an empty stream.

    ``reconnect``: ``True`` or a :class:`~levante.Reconnect` to reconnect when the
    connection is lost (see it); off by default, when a drop raises
    :class:`~levante.errors.IncompleteStreamError`. ``end``: an
    :class:`~levante.EndRule` (default: the end of the body, with no in-stream error
    detection, so every event is delivered raw); the timeouts and ``max_event_size`` are
    :class:`~levante.EventStream`'s. Every argument is checked before the request is sent.
    """
    if not isinstance(client, httpx2.Client):
        raise TypeError(f"client must be an httpx2.Client, not {type(client).__name__}")
    options = _stream_options(end, first_event_timeout, idle_timeout, max_event_size)
    plan = _Plan(client, method, url, reconnect, options, request_kwargs)
    request = plan.request(client, "")
    try:
        response = client.send(request, stream=True, **plan.send)
    except httpx2.TransportError as exc:
        raise connection_error(exc, request) from exc
    try:
        if not is_event_stream(response) and response.status_code != 204:
            raise refuse_response(response, read_error_body(response))
        if plan.policy is None:
            return EventStream(response, _raw, **plan.stream)

        def reopen(last_id: str) -> httpx2.Response:
            return client.send(plan.request(client, last_id), stream=True, **plan.send)

        return ReconnectingEventStream(
            response, _raw, reconnect=plan.policy, reopen=reopen, **plan.stream
        )
    except BaseException:
        response.close()
        raise


def aconnect_sse(
    client: httpx2.AsyncClient,
    method: str,
    url: httpx2.URL | str,
    *,
    reconnect: ReconnectPolicy = False,
    end: EndRule | None = None,
    first_event_timeout: float | None = None,
    idle_timeout: float | None = None,
    max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
    **request_kwargs: Any,
) -> AsyncStreamContext[EventStreamAsync[ServerSentEvent]]:
    """The async twin of :func:`connect_sse`, over an ``httpx2.AsyncClient``.

    ::

        async with levante.aconnect_sse(client, "GET", url, reconnect=True) as events:
            async for event in events:
                ...

    Arguments are checked at the call; the request is sent when the result is awaited or
    entered (``async with`` also closes the stream on leaving the block).
    """
    if not isinstance(client, httpx2.AsyncClient):
        raise TypeError(f"client must be an httpx2.AsyncClient, not {type(client).__name__}")
    options = _stream_options(end, first_event_timeout, idle_timeout, max_event_size)
    plan = _Plan(client, method, url, reconnect, options, request_kwargs)
    return AsyncStreamContext(functools.partial(_aopen, client, plan))


async def _aopen(client: httpx2.AsyncClient, plan: _Plan) -> EventStreamAsync[ServerSentEvent]:
    request = plan.request(client, "")
    try:
        response = await client.send(request, stream=True, **plan.send)
    except httpx2.TransportError as exc:
        raise connection_error(exc, request) from exc
    try:
        if not is_event_stream(response) and response.status_code != 204:
            raise refuse_response(response, await aread_error_body(response))
        if plan.policy is None:
            return EventStreamAsync(response, _raw, **plan.stream)

        async def reopen(last_id: str) -> httpx2.Response:
            return await client.send(plan.request(client, last_id), stream=True, **plan.send)

        return ReconnectingEventStreamAsync(
            response, _raw, reconnect=plan.policy, reopen=reopen, **plan.stream
        )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await response.aclose()
        raise
