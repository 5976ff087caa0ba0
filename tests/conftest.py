"""Shared pytest configuration: async tests run on asyncio and trio through anyio."""

from __future__ import annotations

import pytest

import levante._streaming._body as body


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["direct", "generic"])
def body_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test over both ways a stream reads its body (see levante/_streaming/_body.py).

    ``direct`` is what a response from httpx2's own HTTP/1.1 transport gets; ``generic``
    (the byte iterator every other transport gets) is forced by hiding the known chain.
    """
    if request.param == "generic":
        monkeypatch.setattr(body, "_CHAINS", None)
    return str(request.param)
