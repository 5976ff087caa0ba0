"""Google Cloud access tokens for :class:`~levante.MistralGCP`: fixed, or from google-auth.

google-auth is an optional extra (``pip install 'levante[gcp]'``), imported only when a
client needs Application Default Credentials; a fixed ``access_token`` needs nothing.

A credentials object is refreshed when google-auth says it is no longer ``valid``, which
it does a few minutes *before* the token expires (google-auth's refresh threshold), so a
request never leaves with a token about to lapse. The refresh is network I/O: the async
send path runs it in a worker thread (:meth:`GoogleTokens.refresh_async`) before it
builds the request; the sync path refreshes inline.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import anyio

__all__ = ["CLOUD_PLATFORM_SCOPE", "GCP_EXTRA_HINT", "GoogleTokens", "default_credentials"]

#: The OAuth scope Vertex AI calls need (the official client asks for the same).
CLOUD_PLATFORM_SCOPE: Final = "https://www.googleapis.com/auth/cloud-platform"

GCP_EXTRA_HINT: Final = (
    "MistralGCP without access_token gets its token from google-auth, which is not "
    "installed: pip install 'levante[gcp]' (or pass access_token=...)"
)


def _google_auth() -> Any:
    try:
        import google.auth
        import google.auth.transport.requests
    except ImportError as exc:
        raise ImportError(GCP_EXTRA_HINT) from exc
    return google.auth


def default_credentials() -> tuple[Any, str | None]:
    """Application Default Credentials and their project, from ``google.auth.default``."""
    google_auth = _google_auth()
    credentials, project_id = google_auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    if credentials is None:
        raise ValueError("google-auth found no Google Cloud credentials")
    return credentials, project_id


class GoogleTokens:
    """The bearer token of each request: ``access_token`` as given, or ``credentials``'
    token, refreshed before it expires (thread-safe; one refresh at a time).

    ``credentials`` is any google-auth ``Credentials``-like object: ``token``, ``valid``
    and ``refresh(request)``.
    """

    __slots__ = ("_credentials", "_fixed", "_lock")

    def __init__(self, *, access_token: str | None = None, credentials: Any = None) -> None:
        if (access_token is None) == (credentials is None):
            raise TypeError("pass exactly one of access_token and credentials")
        if access_token is not None and (not isinstance(access_token, str) or not access_token):
            raise TypeError("access_token must be a non-empty str")
        if credentials is not None and not callable(getattr(credentials, "refresh", None)):
            raise TypeError("credentials must be google-auth credentials (with refresh())")
        self._fixed = access_token
        self._credentials = credentials
        self._lock = threading.Lock()

    @property
    def stale(self) -> bool:
        """Whether the next request needs a refresh first."""
        credentials = self._credentials
        return credentials is not None and not (credentials.valid and credentials.token)

    def refresh(self) -> None:
        """Refresh the credentials if they are stale (blocking: network I/O)."""
        with self._lock:
            # checked again under the lock: another thread may have refreshed meanwhile
            if self.stale:
                request = _google_auth().transport.requests.Request()
                self._credentials.refresh(request)

    async def refresh_async(self) -> None:
        """Refresh stale credentials in a worker thread, off the event loop."""
        if self.stale:
            await anyio.to_thread.run_sync(self.refresh)

    def token(self) -> str:
        """The token to send now (refreshed first when stale)."""
        if self._fixed is not None:
            return self._fixed
        if self.stale:
            self.refresh()
        token = self._credentials.token
        if not isinstance(token, str) or not token:
            raise ValueError("google-auth credentials gave no access token")
        return token
