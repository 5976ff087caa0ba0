"""The rules every layer shares, written once: option checks and error-message extraction.

This module sits at the bottom of levante (it imports only the standard library), so the
stream package, the request layer and the client all apply the same rule the same way:

- :func:`check_timeout` is the one check of a timeout in seconds (finite, positive), and
  :func:`check_timeout_ms` its spelling in milliseconds.
- :func:`check_server_url`, :func:`check_headers` and :func:`check_api_key` are the checks
  of what goes on the wire besides the body. Each runs before any connection is opened,
  and none quotes a value that may be a secret (a header value, a key, URL credentials).
- :func:`check_finite_json` refuses NaN and the infinities anywhere in a JSON body
  (other clients send them silently as ``null``).
- :func:`describe_error` is the one reader of an error payload, for HTTP error bodies and
  in-stream error events alike, with one length limit (:data:`MAX_MESSAGE`) and control
  characters escaped (:func:`printable`); :func:`secrets_in` finds the credentials a
  request carried and :func:`redact` / :func:`redact_value` take them out of whatever is
  quoted; :func:`is_loopback` tells whether a key sent in clear would leave the machine.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FRAMING_HEADERS",
    "LOOPBACK_HOSTS",
    "MAX_MESSAGE",
    "RESERVED_HEADERS",
    "SECRET_HEADERS",
    "check_api_key",
    "check_finite_json",
    "check_headers",
    "check_server_url",
    "check_timeout",
    "check_timeout_ms",
    "describe_error",
    "is_loopback",
    "printable",
    "redact",
    "redact_value",
    "secrets_in",
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

#: Headers a caller may not set, and why: the framing ones, and ``Host``, which comes from
#: the URL (another value would send the key to one host while naming another).
RESERVED_HEADERS: dict[str, str] = {
    **{name: "is set by levante from the body it sends" for name in FRAMING_HEADERS},
    "host": "comes from server_url; pass server_url instead",
}


def check_headers(
    headers: object, name: str = "http_headers"
) -> tuple[tuple[str, str], ...] | None:
    """Extra request headers as ``(name, value)`` pairs, or None; never quotes a value.

    Names must be tokens and values printable ASCII (no CR, LF or NUL), both ``str``;
    ``Content-Length``, ``Transfer-Encoding`` and ``Host`` are refused (see
    :data:`RESERVED_HEADERS`).
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
        why = RESERVED_HEADERS.get(key.lower())
        if why is not None:
            raise ValueError(f"{name}: {key!r} {why}")
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
    """A base URL: http or https, with a host, without credentials, query or fragment;
    returned without a trailing slash.

    Credentials (``user:password@host``) are refused rather than used: levante
    authenticates with the API key, and a URL is quoted in errors and logs.
    """
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
    if parts.query or parts.fragment or "?" in url or "#" in url:
        # Not quoted: a query may hold a token. And a path appended after "?" or "#" would
        # not be the path the request goes to.
        raise ValueError(f"{name} must not have a query or a fragment")
    # Past this point the URL holds no credentials, query or fragment: it may be quoted.
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError(f"{name} has an invalid port: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http:// or https:// URL with a host, got {url!r}")
    return url.rstrip("/")


#: Host names that are loopback whatever the resolver says (RFC 6761 for "localhost").
LOOPBACK_HOSTS = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a URL's hostname) names this machine: traffic never leaves it."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host in LOOPBACK_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(
        f"a number in the request is {name}: JSON cannot carry it (other clients send it "
        "silently as null); pass a finite number"
    )


def check_finite_json(body: bytes) -> None:
    """Refuse a JSON body holding ``NaN``, ``Infinity`` or ``-Infinity`` constants.

    Costs two substring searches for a body without either word; only a body that has
    one (perhaps inside a string) is parsed to tell.
    """
    if b"NaN" in body or b"Infinity" in body:
        json.loads(body, parse_constant=_refuse_constant)


#: Request headers whose values are credentials, redacted from every error levante raises.
SECRET_HEADERS = ("authorization", "api-key", "x-api-key")


def secrets_in(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The credentials among request ``headers`` (name, value pairs): each whole value of a
    :data:`SECRET_HEADERS` header, and its token part (``Bearer <token>``)."""
    found: list[str] = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            found.append(value)
            _, _, token = value.partition(" ")
            if token:
                found.append(token)
    return found


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret of four characters or more replaced by ``***``, also
    where it appears escaped inside a JSON string."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        for form in {secret, json.dumps(secret)[1:-1], secret.replace("/", "\\/")}:
            if form in text:
                text = text.replace(form, "***")
    return text


def redact_value(value: Any, secrets: list[str]) -> Any:
    """Parsed JSON ``value`` with :func:`redact` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact_value(k, secrets): redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(item, secrets) for item in value]
    return value


# C0 and C1 control characters (and DEL), escaped when a server's text is quoted in a
# message: a hostile server could otherwise move the cursor or rewrite a terminal's title
# through an error the CLI prints, or break a log line in two.
_CONTROLS = {
    code: " " if code in (0x0A, 0x0D) else f"\\x{code:02x}"
    for code in (*range(0x20), *range(0x7F, 0xA0))
    if code != 0x09
}


def printable(text: str) -> str:
    """``text`` on one line, safe to print: CR and LF become spaces, the other control
    characters (but tab) are escaped as ``\\xNN``."""
    return text.translate(_CONTROLS)


def shorten(text: str) -> str:
    """``text`` cut to :data:`MAX_MESSAGE` characters, marked when cut, controls escaped."""
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "..."
    return printable(text)


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
