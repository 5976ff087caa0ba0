"""The rules every layer shares, written once: option checks and error-message extraction.

This module sits at the bottom of levante (it imports only the standard library), so the
stream package, the request layer and the client all apply the same rule the same way:

- :func:`check_timeout` is the one check of a timeout in seconds (finite, positive).
- :func:`describe_error` is the one reader of an error payload, for HTTP error bodies and
  in-stream error events alike, with one length limit (:data:`MAX_MESSAGE`).
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_MESSAGE", "check_timeout", "describe_error", "shorten"]

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
