"""The rules every layer shares, written once: option checks and error-message extraction.

This module sits at the bottom of levante (it imports only the standard library), so the
stream package, the request layer and the client all apply the same rule the same way:

- :func:`check_timeout` is the one check of a timeout in seconds (finite, positive), and
  :func:`check_timeout_ms` its spelling in milliseconds.
- :func:`check_server_url`, :func:`check_headers` and :func:`check_api_key` are the checks
  of what goes on the wire besides the body. Each runs before any connection is opened,
  and none quotes a value that may be a secret (a header value, a key, URL credentials).
- :func:`describe_error` is the one reader of an error payload, for HTTP error bodies and
  in-stream error events alike, with one length limit (:data:`MAX_MESSAGE`);
  :func:`redact` takes the caller's secrets out of whatever is quoted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FRAMING_HEADERS",
    "MAX_MESSAGE",
    "check_api_key",
    "check_headers",
    "check_server_url",
    "check_timeout",
    "check_timeout_ms",
    "describe_error",
    "redact",
    "shorten",
]

#: Longest message quoted from a server's payload; the whole payload stays on the error.
MAX_MESSAGE = 500


def check_timeout(name: str, value: object) -> float | None:
    """``value`` as float seconds, or None; TypeError / ValueError name ``name``.

    NaN, infinities, zero and negative numbers are refused: each would either never fire
    or fire at once, and both are mistakes best reported before any request is sent.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return float(value)


def check_timeout_ms(name: str, value: object) -> float | None:
    """A timeout given in milliseconds (the official SDK's ``timeout_ms``), as seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of milliseconds, not {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive, finite number of milliseconds, got {value!r}")
    return value / 1000


# RFC 9110 token characters: what a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Printable ASCII, space and tab: anything else (CR, LF, NUL, DEL, non-ASCII) would either
# split the header block or be refused by the HTTP library after the connection opened.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")

#: Headers that frame the body: levante sets them from the body it sends, and a caller's
#: value would desynchronise the connection.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


def check_headers(
    headers: object, name: str = "http_headers"
) -> tuple[tuple[str, str], ...] | None:
    """Extra request headers as ``(name, value)`` pairs, or None; never quotes a value.

    Names must be tokens and values printable ASCII (no CR, LF or NUL), both ``str``;
    ``Content-Length`` and ``Transfer-Encoding`` are refused (see :data:`FRAMING_HEADERS`).
    """
    if headers is None:
        return None
    if not isinstance(headers, Mapping):
        raise TypeError(f"{name} must be a mapping of str to str, not {type(headers).__name__}")
    pairs = []
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"{name} must map str to str (got {type(key).__name__} to {type(value).__name__})"
            )
        if not _TOKEN.fullmatch(key):
            raise ValueError(f"{name}: {key!r} is not a valid header name")
        if not _FIELD_VALUE.fullmatch(value):
            # the value may be a credential: say what is wrong, never what it is
            raise ValueError(
                f"{name}: the value of {key!r} contains a line break, a control character "
                "or a non-ASCII character"
            )
        if key.lower() in FRAMING_HEADERS:
            raise ValueError(f"{name}: {key!r} is set by levante from the body it sends")
        pairs.append((key, value))
    return tuple(pairs)


def check_api_key(key: object) -> str:
    """An API key as it will go into a header; the message never quotes the key."""
    if not isinstance(key, str):
        raise TypeError(f"the API key must be a str, not {type(key).__name__}")
    if not _FIELD_VALUE.fullmatch(key) or key != key.strip():
        raise ValueError(
            "the API key contains whitespace at an end, a line break, a control character or "
            "a non-ASCII character (a trailing newline read from a file?)"
        )
    return key


def check_server_url(url: object, name: str = "server_url") -> str:
    """A base URL: http or https, with a host, without credentials; no trailing slash."""
    if not isinstance(url, str):
        raise TypeError(f"{name} must be a str, not {type(url).__name__}")
    if not _FIELD_VALUE.fullmatch(url) or any(c.isspace() for c in url):
        raise ValueError(f"{name} contains whitespace, a control character or non-ASCII")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # quoting the URL would show the password
        raise ValueError(
            f"{name} must not carry credentials (user:password@host); pass the API key "
            "as api_key instead"
        )
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError(f"{name} has an invalid port: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http:// or https:// URL with a host, got {url!r}")
    return url.rstrip("/")


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret of four characters or more replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text


def shorten(text: str) -> str:
    """``text`` cut to :data:`MAX_MESSAGE` characters, marked when cut."""
    if len(text) > MAX_MESSAGE:
        return text[:MAX_MESSAGE] + "..."
    return text


def _describe_detail(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                msg = str(item.get("msg", item))
                parts.append(f"{loc}: {msg}" if loc else msg)
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)


def describe_error(payload: Any) -> tuple[str, Any]:
    """A one-line message and the validation ``detail`` (or None) of an error payload.

    ``payload`` is parsed JSON or text. The shapes servers of this wire format use are
    understood: ``{"error": {"message": ...}}``, ``{"error": "..."}``,
    ``{"message": ..., "type": ..., "code": ...}``, ``{"detail": [...]}``. Anything else
    is quoted as JSON. The message is at most :data:`MAX_MESSAGE` characters ("" when the
    payload says nothing).
    """
    detail: Any = None
    message = ""
    if isinstance(payload, dict):
        inner = payload.get("error")
        if isinstance(inner, dict):
            payload = inner
        elif isinstance(inner, str) and inner:
            return shorten(inner), None
        if "detail" in payload:
            detail = payload["detail"]
            message = _describe_detail(detail)
        elif "message" in payload:
            raw = payload["message"]
            message = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
            if isinstance(raw, dict) and "detail" in raw:
                detail = raw["detail"]
            extras = [f"{k}={payload[k]}" for k in ("type", "code") if payload.get(k) is not None]
            if extras:
                message = f"{message} ({', '.join(extras)})"
        else:
            message = json.dumps(payload, ensure_ascii=False, default=str)
    elif isinstance(payload, str):
        message = payload.strip()
    elif payload is not None:
        message = json.dumps(payload, ensure_ascii=False, default=str)
    return shorten(message), detail
