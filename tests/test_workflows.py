"""The workflow streams: the official SDK's requests (recorded with MockTransport, sync and
async), its decoding (the same events against the dev server), ``event: error`` as a
typed error, and resuming with the official ``last_event_id`` when ``reconnect`` is given
(real sockets, random drops)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import anyio
import httpx2
import pytest
from mistralai.client import Mistral as OfficialMistral
from mistralai.extra.exceptions import StreamDisconnectedError as OfficialDisconnected

from conftest import open_streams
from levante import Mistral, Reconnect
from levante.devserver import EmbeddedServer
from levante.errors import IncompleteStreamError, StreamDisconnectedError

AFTER = datetime(2024, 5, 1, 12, 0, 3, tzinfo=timezone.utc)
FAST = Reconnect(initial_delay=0.001, max_delay=0.01)
RANDOM = {"x-levante-fault": "disconnect-random=3-40"}

# (method path, keyword arguments): every workflow stream, with and without its options
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("workflows.executions.stream", {"execution_id": "exec-3"}),
    (
        "workflows.executions.stream",
        {"execution_id": "exec 3ü", "event_source": "LIVE", "last_event_id": "4"},
    ),
    ("workflows.executions.stream_workflow_execution_logs", {"execution_id": "exec-3"}),
    (
        "workflows.executions.stream_workflow_execution_logs",
        {
            "execution_id": "exec-3",
            "run_id": "run-exec-3",
            "activity_id": "2",
            "after": AFTER,
            "last_event_id": "1",
        },
    ),
    ("workflows.deployments.stream_deployment_logs", {"name": "dep"}),
    (
        "workflows.deployments.stream_deployment_logs",
        {"name": "dep", "worker_name": "w1", "workflow_name": "wf", "after": AFTER},
    ),
    ("workflows.events.get_stream_events", {"workflow_exec_id": "exec-3"}),
    (
        "workflows.events.get_stream_events",
        {
            "root_workflow_exec_id": "exec-3",
            "scope": "workflow",
            "start_seq": 2,
            "metadata_filters": {"team": "wind", "n": 3},
            "workflow_event_types": ["WORKFLOW_EXECUTION_STARTED", "ACTIVITY_TASK_STARTED"],
            "last_event_id": "3",
        },
    ),
    ("events.get_stream_events", {"parent_workflow_exec_id": "exec-2"}),
]


def method(client: Any, path: str) -> Any:
    target = client
    for name in path.split("."):
        target = getattr(target, name)
    return target


def wire(request: httpx2.Request) -> tuple[str, str, dict[str, str | None]]:
    names = ("accept", "authorization", "last-event-id", "content-type")
    return request.method, str(request.url), {n: request.headers.get(n) for n in names}


def answer(recorded: list[httpx2.Request]) -> Callable[[httpx2.Request], httpx2.Response]:
    def handle(request: httpx2.Request) -> httpx2.Response:
        recorded.append(request)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=b"")

    return handle


@pytest.mark.parametrize(("path", "kwargs"), CALLS)
def test_sends_the_official_sdks_request(path: str, kwargs: dict[str, Any]) -> None:
    theirs: list[httpx2.Request] = []
    ours: list[httpx2.Request] = []
    with (
        httpx2.Client(transport=httpx2.MockTransport(answer(theirs))) as a,
        httpx2.Client(transport=httpx2.MockTransport(answer(ours))) as b,
    ):
        official = OfficialMistral(api_key="k", server_url="http://wire.test", client=a)
        with method(official, path)(**kwargs) as stream:
            list(stream)
        client = Mistral(api_key="k", server_url="http://wire.test", client=b)
        with method(client, path)(**kwargs) as stream:
            list(stream)
    assert [wire(r) for r in ours] == [wire(r) for r in theirs]
    assert ours[0].content == theirs[0].content == b""


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the official SDK's async is asyncio's
@pytest.mark.parametrize(("path", "kwargs"), CALLS[1::2])
async def test_async_twins_send_the_official_sdks_request(
    path: str, kwargs: dict[str, Any]
) -> None:
    theirs: list[httpx2.Request] = []
    ours: list[httpx2.Request] = []
    async with (
        httpx2.AsyncClient(transport=httpx2.MockTransport(answer(theirs))) as a,
        httpx2.AsyncClient(transport=httpx2.MockTransport(answer(ours))) as b,
    ):
        official = OfficialMistral(api_key="k", server_url="http://wire.test", async_client=a)
        async with await method(official, path + "_async")(**kwargs) as stream:
            [event async for event in stream]
        client = Mistral(api_key="k", server_url="http://wire.test", async_client=b)
        async with method(client, path + "_async")(**kwargs) as stream:
            [event async for event in stream]
    assert [wire(r) for r in ours] == [wire(r) for r in theirs]


# -- against the dev server ------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


def plain(value: Any) -> Any:
    """JSON data without its null members (the official serializer keeps some, ours not)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def dumped(items: list[Any]) -> list[Any]:
    return [plain(item.model_dump(mode="json")) for item in items]


@pytest.mark.parametrize(("path", "kwargs"), CALLS[::2])
def test_decodes_what_the_official_sdk_decodes(
    server: EmbeddedServer, path: str, kwargs: dict[str, Any]
) -> None:
    with (
        OfficialMistral(api_key="k", server_url=server.url) as official,
        method(official, path)(**kwargs) as stream,
    ):
        theirs = list(stream)
    with (
        Mistral(api_key="k", server_url=server.url) as client,
        method(client, path)(**kwargs) as stream,
    ):
        ours = list(stream)
    assert len(ours) == len(theirs) > 0
    assert dumped(ours) == dumped(theirs)
    assert [item.id for item in ours] == [str(i) for i in range(len(ours))]


@pytest.mark.parametrize(("path", "kwargs"), CALLS[::2])
def test_event_error_raises_a_typed_error(
    server: EmbeddedServer, path: str, kwargs: dict[str, Any]
) -> None:
    fault = {"x-levante-fault": "error-after=2"}
    with (
        OfficialMistral(api_key="k", server_url=server.url) as official,
        pytest.raises(OfficialDisconnected) as expected,
    ):
        list(method(official, path)(**kwargs, http_headers=fault))
    with Mistral(api_key="k", server_url=server.url) as client:
        stream = method(client, path)(**kwargs, http_headers=fault)
        got: list[Any] = []
        with pytest.raises(StreamDisconnectedError) as caught, stream:
            got.extend(stream)
    assert len(got) == 2 and stream.closed
    error = caught.value
    assert (error.reason, error.error) == (expected.value.reason, expected.value.error)
    assert error.reason == "internal_error" and error.events_delivered == 2
    assert error.event.event == "error"


def test_an_unknown_reason_or_raw_data_reads_as_the_official_sdk_does() -> None:
    from levante.resources.workflows import disconnected
    from levante.sse import ServerSentEvent

    raw = disconnected(ServerSentEvent("error", "plain words "))
    assert (raw.error, raw.reason) == ("plain words", "stream_error")
    odd = disconnected(ServerSentEvent("error", '{"error": "x", "reason": "novel"}'))
    assert (odd.error, odd.reason) == ("x", "stream_error")


class Sent:
    """Records, on real sockets, the resume cursor each request carried."""

    def __init__(self) -> None:
        self.cursors: list[tuple[str | None, str | None]] = []

    def __call__(self, request: httpx2.Request) -> None:
        query = request.url.params.get("last_event_id")
        self.cursors.append((query, request.headers.get("last-event-id")))


RESUMABLE = [
    ("workflows.executions.stream", {"execution_id": "exec-300"}, "query"),
    ("workflows.executions.stream_workflow_execution_logs", {"execution_id": "exec-300"}, "query"),
    ("workflows.deployments.stream_deployment_logs", {"name": "dep"}, "query"),
    ("workflows.events.get_stream_events", {"workflow_exec_id": "exec-300"}, "header"),
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("path", "kwargs", "where"), RESUMABLE)
def test_reconnect_resumes_with_the_official_last_event_id(
    server: EmbeddedServer, path: str, kwargs: dict[str, Any], where: str
) -> None:
    sent = Sent()
    expected = 602 if "deployments" not in path else 8  # exec-300: 2 * 300 + 2 events
    with (
        httpx2.Client(event_hooks={"request": [sent]}) as http,
        Mistral(server_url=server.url, client=http) as client,
    ):
        stream = method(client, path)(**kwargs, http_headers=RANDOM, reconnect=FAST)
        with stream:
            ids = [item.id for item in stream]
    assert ids == [str(i) for i in range(expected)]  # each once, in order
    drops = stream.stats.reconnections
    if expected > 40:
        assert drops >= expected // 40
    assert len(sent.cursors) == drops + 1 and sent.cursors[0] == (None, None)
    for query, header in sent.cursors[1:]:
        assert (query if where == "query" else header) is not None
        assert (header if where == "query" else query) is None
    cursors = [r["last_event_id"] for r in server.resumes()]
    assert all(int(a or -1) < int(b) for a, b in itertools.pairwise(cursors))


@pytest.mark.anyio
async def test_reconnect_resumes_async(server: EmbeddedServer) -> None:
    with anyio.fail_after(20):
        async with (
            Mistral(server_url=server.url) as client,
            client.workflows.executions.stream_async(
                execution_id="exec-300", http_headers=RANDOM, reconnect=FAST
            ) as stream,
        ):
            ids = [item.id async for item in stream]
    assert ids == [str(i) for i in range(602)]
    assert stream.stats.reconnections >= 602 // 40
    assert open_streams(server) == 0


def test_without_reconnect_a_drop_raises(server: EmbeddedServer) -> None:
    fault = {"x-levante-fault": "disconnect-after=3"}
    with Mistral(server_url=server.url) as client:
        stream = client.workflows.executions.stream(execution_id="exec-3", http_headers=fault)
        with pytest.raises(IncompleteStreamError), stream:
            list(stream)
    assert len(server.resumes()) == 1


def test_reconnect_is_refused_before_any_request_where_nothing_can_resume(
    server: EmbeddedServer,
) -> None:
    with Mistral(server_url=server.url) as client:
        with pytest.raises(ValueError, match="cannot reconnect"):
            client.chat.stream(  # type: ignore[call-arg]
                model="m", messages=[{"role": "user", "content": "hi"}], reconnect=True
            )
        with pytest.raises(TypeError, match="reconnect must be"):
            client.workflows.executions.stream(execution_id="e", reconnect="yes")  # type: ignore[typeddict-item]
    assert server.stats()["completed"] == 0 and server.resumes() == []
