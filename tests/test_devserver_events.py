"""GET /_levante/events: ids, retry, resume after Last-Event-ID (checked on the server side),
204 at the end, and the cut faults a reconnecting client recovers from, over real sockets."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import anyio
import httpx2
import pytest

from conftest import open_streams
from levante.devserver import EmbeddedServer
from levante.sse import ServerSentEvent, SSEDecoder


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def read(response: httpx2.Response) -> tuple[list[ServerSentEvent], bool]:
    """The whole events of a response, and whether its connection was cut."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    try:
        for data in response.iter_bytes():
            events.extend(decoder.feed(data))
    except httpx2.TransportError:
        return events, True
    return events, False


def test_events_carry_ids_retry_and_end_with_the_body(
    server: EmbeddedServer, client: httpx2.Client
) -> None:
    with client.stream("GET", "/_levante/events", params={"n": 5, "retry": 250}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events, cut = read(response)
    assert not cut
    assert [e.id for e in events] == ["1", "2", "3", "4", "5"]
    assert {e.event for e in events} == {"tick"}
    assert [json.loads(e.data)["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert all(e.retry == 250 for e in events)
    assert server.fetch_stats() == {"open": 0, "completed": 1, "aborted": 0}
    assert server.resumes() == [{"path": "/_levante/events", "last_event_id": None}]


def test_last_event_id_resumes_after_it_and_is_recorded(
    server: EmbeddedServer, client: httpx2.Client
) -> None:
    headers = {"Last-Event-ID": "3"}
    with client.stream("GET", "/_levante/events?n=6", headers=headers) as response:
        events, _ = read(response)
    assert [e.id for e in events] == ["4", "5", "6"]
    raw = client.get("/_levante/events?n=6", headers=headers).text
    assert raw.startswith("retry: 100\nid: 4\nevent: tick\ndata: ")
    # the workflow streams' query parameter works too; the header wins over it
    query = client.get("/_levante/events", params={"n": 6, "last_event_id": "5"})
    assert [e.id for e in SSEDecoder().feed(query.content)] == ["6"]
    both = client.get("/_levante/events?n=6&last_event_id=1", headers={"Last-Event-ID": "4"})
    assert [e.id for e in SSEDecoder().feed(both.content)] == ["5", "6"]
    fetched = client.get("/_levante/resumes").json()["resumes"]
    assert [r["last_event_id"] for r in fetched] == ["3", "3", "5", "4"]
    assert fetched == server.resumes()


def test_resuming_at_the_end_is_204(client: httpx2.Client) -> None:
    done = client.get("/_levante/events?n=4", headers={"Last-Event-ID": "4"})
    assert done.status_code == 204 and done.content == b""
    assert client.get("/_levante/events?n=0").content == b""


def test_bad_query_is_422(client: httpx2.Client) -> None:
    response = client.get("/_levante/events?n=-1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "n"]


def reconnect_until_done(client: httpx2.Client, fault: str, n: int) -> tuple[list[str], int]:
    """A minimal reconnecting reader: the ids delivered, and how many connections it took."""
    delivered: list[str] = []
    connections = 0
    while True:
        headers = {"x-levante-fault": fault}
        if delivered:
            headers["Last-Event-ID"] = delivered[-1]
        with client.stream("GET", f"/_levante/events?n={n}", headers=headers) as response:
            connections += 1
            if response.status_code == 204:
                return delivered, connections
            events, cut = read(response)
        delivered.extend(e.id for e in events)
        if not cut:
            return delivered, connections


@pytest.mark.parametrize(
    ("fault", "cursors"),
    [
        ("disconnect-after=3", [None, "3", "6", "9"]),
        ("disconnect-mid-event=4", [None, "4", "8"]),
        ("byte-writes", [None]),
    ],
)
def test_a_reconnecting_client_gets_every_event_once(
    server: EmbeddedServer, client: httpx2.Client, fault: str, cursors: list[str | None]
) -> None:
    delivered, used = reconnect_until_done(client, fault, 10)
    assert delivered == [str(i) for i in range(1, 11)]
    assert used == len(cursors)
    assert [r["last_event_id"] for r in server.resumes()] == cursors


def test_random_drops_lose_and_repeat_nothing(
    server: EmbeddedServer, client: httpx2.Client
) -> None:
    delivered, used = reconnect_until_done(client, "disconnect-random=3-40", 400)
    assert delivered == [str(i) for i in range(1, 401)]
    assert used > 400 // 40
    cursors = [r["last_event_id"] for r in server.resumes()]
    assert len(cursors) == used and cursors[0] is None
    # every reconnection resumed after an event the client had whole, always moving on
    assert all(int(a or 0) < int(b) for a, b in itertools.pairwise(cursors))
    assert open_streams(server) == 0  # its bookkeeping sees the last hang-up a moment later


@pytest.mark.anyio
async def test_async_reconnect_after_a_mid_event_cut(server: EmbeddedServer) -> None:
    delivered: list[str] = []
    with anyio.fail_after(10):
        async with httpx2.AsyncClient(base_url=server.url) as client:
            for _ in range(10):
                headers = {"x-levante-fault": "disconnect-mid-event=2"}
                if delivered:
                    headers["Last-Event-ID"] = delivered[-1]
                async with client.stream("GET", "/_levante/events?n=7", headers=headers) as resp:
                    if resp.status_code == 204:
                        break
                    decoder = SSEDecoder()
                    try:
                        async for data in resp.aiter_bytes():
                            delivered.extend(e.id for e in decoder.feed(data))
                    except httpx2.TransportError:
                        continue
                    break
    assert delivered == [str(i) for i in range(1, 8)]
    assert [r["last_event_id"] for r in server.resumes()] == [None, "2", "4", "6"]
