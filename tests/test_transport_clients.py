"""The async client levante creates: its short send path does what httpx2's send does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from levante._transport import new_async_client
from levante._transport._clients import OwnedAsyncClient
from liveserver import LiveServer, live_server

pytestmark = pytest.mark.anyio


async def _events(request: Request) -> StreamingResponse:
    async def body() -> Any:
        yield b"data: 1\n\n"
        yield b"data: [DONE]\n\n"

    headers = {
        "set-cookie": "lb=node-7; Path=/",
        "x-seen-cookie": request.headers.get("cookie", ""),
    }
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


async def _moved(request: Request) -> Response:
    return Response(status_code=307, headers={"location": "/v1/events"})


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    app = Starlette(routes=[Route("/v1/events", _events), Route("/v1/moved", _moved)])
    with live_server(app) as srv:
        yield srv


def _request(client: httpx2.AsyncClient, url: str) -> httpx2.Request:
    return client.build_request("GET", url, headers={"accept": "text/event-stream"})


async def _exchange(client: httpx2.AsyncClient, url: str) -> dict[str, Any]:
    """What a streamed exchange leaves on the response, the client and the next request."""
    request = _request(client, url)
    response = await client.send(request, stream=True)
    try:
        body = await response.aread()
    finally:
        await response.aclose()
    second = await client.send(_request(client, url), stream=True)
    await second.aclose()
    return {
        "status": response.status_code,
        "body": body,
        "request is the one sent": response.request is request,
        "elapsed set": response.elapsed.total_seconds() >= 0,
        "history": response.history,
        "http_version": response.http_version,
        "cookie kept": client.cookies.get("lb"),
        "cookie sent next": second.headers["x-seen-cookie"],
    }


async def test_the_short_path_leaves_what_httpx2s_send_leaves(server: LiveServer) -> None:
    timeout = httpx2.Timeout(10.0)
    owned = new_async_client(timeout)
    assert isinstance(owned, OwnedAsyncClient)
    async with httpx2.AsyncClient(timeout=timeout) as plain:
        expected = await _exchange(plain, server.url + "/v1/events")
    try:
        got = await _exchange(owned, server.url + "/v1/events")
    finally:
        await owned.aclose()
    assert got == expected
    assert got["cookie kept"] == "node-7" and got["cookie sent next"] == "lb=node-7"


async def test_hooks_auth_and_redirects_take_httpx2s_send(server: LiveServer) -> None:
    seen: list[str] = []

    async def hook(request: httpx2.Request) -> None:
        seen.append(request.url.path)

    client = new_async_client(httpx2.Timeout(10.0))
    try:
        client.event_hooks = {"request": [hook], "response": []}
        response = await client.send(_request(client, server.url + "/v1/events"), stream=True)
        await response.aclose()
        assert seen == ["/v1/events"]
        client.event_hooks = {"request": [], "response": []}

        client.auth = ("user", "secret")
        response = await client.send(_request(client, server.url + "/v1/events"), stream=True)
        await response.aclose()
        assert response.request.headers["authorization"].startswith("Basic ")
        client.auth = None

        moved = _request(client, server.url + "/v1/moved")
        response = await client.send(moved, stream=True, follow_redirects=True)
        await response.aclose()
        assert response.status_code == 200 and [r.status_code for r in response.history] == [307]

        response = await client.send(_request(client, server.url + "/v1/moved"))
        assert response.status_code == 307 and response.is_closed  # read, as send reads it
    finally:
        await client.aclose()


async def test_a_closed_client_refuses_as_httpx2_does(server: LiveServer) -> None:
    client = new_async_client(httpx2.Timeout(10.0))
    request = _request(client, server.url + "/v1/events")
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.send(request, stream=True)
