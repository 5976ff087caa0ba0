"""One API call described without I/O, and the one validation of its per-call options.

Everything a resource method receives besides its body fields is checked here, once, by
:func:`split_options`, before anything is built or sent: retries, ``server_url``,
``timeout_ms`` / ``timeout``, ``http_headers``, ``first_event_timeout``,
``idle_timeout``, ``reconnect`` and ``accumulate``. A bad option therefore never opens a
connection, never costs a request (billed upstream) and never reaches the stream
constructor.

:class:`APIRequest` is what the request layer hands to the sender: method, path, the
encoded body (JSON bytes, or multipart ``data`` / ``files`` as httpx2 takes them), query
parameters, extra headers and the validated :class:`RequestOptions`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import httpx2

from ._checks import check_headers, check_server_url, check_timeout, check_timeout_ms
from ._reconnect import Reconnect, resolve_reconnect
from ._retry import RetryConfig, resolve_retries

__all__ = [
    "NOT_GIVEN",
    "OPTION_KEYS",
    "STREAM_OPTION_KEYS",
    "APIRequest",
    "NotGiven",
    "RequestOptions",
    "TimeoutTypes",
    "coerce_timeout",
    "split_options",
]

TimeoutTypes: TypeAlias = float | httpx2.Timeout | None


class NotGiven:
    """Marks an argument the caller did not pass (``None`` is a meaningful value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = NotGiven()


@dataclass(slots=True)
class RequestOptions:
    """Per-call overrides, already validated (see :func:`split_options`).

    ``None`` / ``NOT_GIVEN`` mean "use the client's setting".
    """

    retries: RetryConfig | None = None
    server_url: str | None = None
    timeout: httpx2.Timeout | NotGiven = NOT_GIVEN
    http_headers: Sequence[tuple[str, str]] | None = None
    first_event_timeout: float | None = None
    idle_timeout: float | None = None
    reconnect: Reconnect | None = None
    accumulate: bool = True


@dataclass(slots=True)
class APIRequest:
    """One API call described without I/O: what the request layer hands to the sender.

    ``body`` is an encoded JSON body; ``data`` and ``files`` a multipart body in httpx2's
    own shapes (so that it is encoded exactly as the official SDK's httpx encodes it).
    ``model`` is the body's ``model`` field, for senders whose URL depends on it.
    """

    method: str
    path: str
    body: bytes | None = None
    stream: bool = False
    params: tuple[tuple[str, str], ...] | Mapping[str, str] | None = None
    options: RequestOptions = field(default_factory=RequestOptions)
    data: Mapping[str, str | list[str]] | None = None
    files: Sequence[tuple[str, Any]] | None = None
    headers: Sequence[tuple[str, str]] = ()
    model: str | None = None


def coerce_timeout(value: object, name: str = "timeout") -> httpx2.Timeout:
    """``value`` (seconds, an ``httpx2.Timeout`` or None for "no timeout") as a Timeout.

    Every figure must be positive and finite: NaN or an infinity would reach the socket
    layer as a raw ``OverflowError`` or ``ValueError`` at the first request.
    """
    if value is None:
        return httpx2.Timeout(None)
    if isinstance(value, httpx2.Timeout):
        for part in ("connect", "read", "write", "pool"):
            figure = getattr(value, part)
            if figure is not None and not (figure > 0 and math.isfinite(figure)):
                raise ValueError(f"{name}.{part} must be a positive, finite number of seconds")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{name} must be a number of seconds, an httpx2.Timeout or None, "
            f"not {type(value).__name__}"
        )
    seconds = check_timeout(name, value)
    return httpx2.Timeout(seconds)


#: The per-call options every method accepts (the official SDK's, plus ``timeout``).
OPTION_KEYS: Final = frozenset({"retries", "server_url", "timeout_ms", "timeout", "http_headers"})
#: ... and those of streaming methods (``reconnect`` only where the endpoint can resume).
STREAM_OPTION_KEYS: Final = OPTION_KEYS | {
    "first_event_timeout",
    "idle_timeout",
    "reconnect",
    "accumulate",
}


def split_options(params: Mapping[str, Any], where: str) -> tuple[RequestOptions, dict[str, Any]]:
    """Separate the per-call options from the body fields and validate every option.

    ``where`` names the method in error messages. The stream timeouts are accepted (and
    unused) by non-streaming methods too, since the two share their keyword arguments.
    """
    keys = STREAM_OPTION_KEYS
    options = RequestOptions()
    fields: dict[str, Any] = {}
    found = False
    for key, value in params.items():
        if key in keys:
            found = True
        else:
            fields[key] = value
    if not found:
        return options, fields
    try:
        _fill_options(options, params)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}(): {exc}") from None
    return options, fields


def _fill_options(options: RequestOptions, params: Mapping[str, Any]) -> None:
    if "retries" in params:
        options.retries = resolve_retries(params["retries"])
    server_url = params.get("server_url")
    if server_url is not None:
        options.server_url = check_server_url(server_url)
    timeout_ms = params.get("timeout_ms")
    timeout = params.get("timeout")
    if timeout_ms is not None and timeout is not None:
        raise TypeError("pass timeout_ms or timeout, not both")
    if timeout_ms is not None:
        options.timeout = coerce_timeout(check_timeout_ms("timeout_ms", timeout_ms))
    elif timeout is not None:
        options.timeout = coerce_timeout(timeout)
    options.http_headers = check_headers(params.get("http_headers"))
    options.first_event_timeout = check_timeout(
        "first_event_timeout", params.get("first_event_timeout")
    )
    options.idle_timeout = check_timeout("idle_timeout", params.get("idle_timeout"))
    options.reconnect = resolve_reconnect(params.get("reconnect"))
    accumulate = params.get("accumulate", True)
    if not isinstance(accumulate, bool):
        raise TypeError(f"accumulate must be True or False, not {type(accumulate).__name__}")
    options.accumulate = accumulate
