"""Building the ``httpx2.Request`` of a call for a fraction of ``build_request``'s cost.

Every request levante sends used to pay ``AsyncClient.build_request`` in full: the URL
parsed from its string (about 40 us here), the client's default headers merged with the
call's one by one, each lookup re-deriving the headers' encoding (about 50 us), then the
request itself. At thousands of streams opened at once that is a tenth of what opening a
stream costs. :class:`RequestBuilder` keeps what does not change between calls.

Design rules (keep them when changing this module):

1. The request built is the one ``http.build_request(method, url, content=body,
   headers=headers, timeout=timeout)`` builds: same method, URL, headers (names, values,
   order), body and extensions. The quick path only reuses results of the same public
   operations (``httpx2.URL(text)``, ``Headers(client.headers).update(headers)``); the
   merge is cached under the client's current headers and the call's, so a change to
   either is seen at the next request.
2. It is taken only where ``build_request`` would add nothing else: no query parameters
   (the call's or the client's), no cookie in the client's jar, an absolute URL (which a
   client's ``base_url`` does not change), a body of bytes or none (no multipart data or
   files). Anything else goes to ``build_request`` itself, from :meth:`build` too.
3. The caches are bounded, whatever the URLs (path parameters) or keys (a callable key
   rotating its token) a program uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import httpx2

__all__ = ["RequestBuilder", "set_headers"]

#: Entries kept per cache before it starts over (a program uses a handful).
CACHE_SIZE: Final = 64

_HeaderKey = tuple[tuple[tuple[bytes, bytes], ...], tuple[tuple[str, str], ...]]


def set_headers(headers: dict[str, str], extra: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``headers`` with each of ``extra`` set in turn, as ``httpx2.Headers`` sets them: a
    name is matched case-insensitively, and one already there keeps its place and takes
    the new spelling and value. A plain dict, so the request takes the quick path."""
    result = dict(headers)
    for name, value in extra:
        lowered = name.lower()
        for existing in result:
            if existing.lower() == lowered:
                if existing == name:
                    result[name] = value
                else:  # rare (a differently spelled name): rebuilt to keep the order
                    result = {
                        (name if key == existing else key): (value if key == existing else old)
                        for key, old in result.items()
                    }
                break
        else:
            result[name] = value
    return result


class RequestBuilder:
    """What a sender keeps to build its requests quickly (see the module doc)."""

    __slots__ = ("_headers", "_urls")

    def __init__(self) -> None:
        self._urls: dict[str, httpx2.URL] = {}
        self._headers: dict[_HeaderKey, httpx2.Headers] = {}

    def build(
        self,
        http: httpx2.Client | httpx2.AsyncClient,
        method: str,
        url: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        timeout: httpx2.Timeout | None,
        params: Any = None,
        data: Any = None,
        files: Any = None,
    ) -> httpx2.Request:
        """``http.build_request(method, url, content=body, data=data, files=files,
        params=params, headers=headers, timeout=timeout or the client's)``, quickly where
        rule 2 allows."""
        target = self._url(url)
        if (
            params is not None
            or data is not None
            or files is not None
            or http.params
            or http.cookies
            or not target.is_absolute_url
        ):
            return http.build_request(
                method,
                target,
                content=body,
                data=data,
                files=files,
                params=params,
                headers=headers,
                timeout=httpx2.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        return httpx2.Request(
            method,
            target,
            content=body,
            headers=self._merged(http.headers, headers),
            extensions={"timeout": (http.timeout if timeout is None else timeout).as_dict()},
        )

    def _url(self, text: str) -> httpx2.URL:
        url = self._urls.get(text)
        if url is None:
            url = httpx2.URL(text)
            urls = self._urls
            if len(urls) >= CACHE_SIZE:
                urls.clear()
            urls[text] = url
        # An httpx2.URL is immutable: every request may hold the same one.
        return url

    def _merged(self, defaults: httpx2.Headers, headers: dict[str, str]) -> httpx2.Headers:
        key = (tuple(defaults.raw), tuple(headers.items()))
        merged = self._headers.get(key)
        if merged is None:
            merged = httpx2.Headers(defaults)
            merged.update(headers)
            cache = self._headers
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            cache[key] = merged
        # Request() copies the headers it is given: the cached object is never changed.
        return merged
