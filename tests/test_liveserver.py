"""The live-server helper itself: it serves real sockets and counts connections."""

from __future__ import annotations

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from liveserver import live_server


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hi")


def test_live_server_serves_and_counts_connections() -> None:
    app = Starlette(routes=[Route("/", hello)])
    with live_server(app) as srv, httpx2.Client(base_url=srv.url) as client:
        assert client.get("/").text == "hi"
        assert client.get("/").text == "hi"
        assert srv.open_connections == 1  # keep-alive: both requests on one connection
    assert srv.wait_for_connections(0) == 0
