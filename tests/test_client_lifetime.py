"""A Mistral dropped without close() still closes its pool, but never under a live stream."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from levante import Mistral
from levante.devserver import create_app
from liveserver import LiveServer, live_server

MESSAGES = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with live_server(create_app()) as srv:
        yield srv


def test_a_dropped_client_closes_its_pool(server: LiveServer) -> None:
    client = Mistral(server_url=server.url)
    with client.chat.stream(model="levante-echo", messages=MESSAGES) as stream:
        assert "".join(stream.text_stream) == "Hello there"
    assert server.open_connections == 1  # kept alive in the pool for the next call
    del client, stream
    gc.collect()  # warnings are errors here: an unclosed socket would fail the test
    assert server.wait_for_connections(0) == 0


def test_a_stream_keeps_its_dropped_client_alive(server: LiveServer) -> None:
    stream = Mistral(server_url=server.url).chat.stream(model="levante-long", messages=MESSAGES)
    gc.collect()  # the Mistral is unreachable except through the stream
    with stream:
        events = list(stream)
    assert len(events) > 100
    assert events[-1].data.choices[0].finish_reason == "stop"
    del stream, events
    gc.collect()
    assert server.wait_for_connections(0) == 0


def test_close_detaches_the_finalizer(server: LiveServer) -> None:
    client = Mistral(server_url=server.url)
    client.models.list()
    client.close()
    client.close()  # idempotent
    assert server.wait_for_connections(0) == 0
    assert client.models.list().data  # a closed client opens a new pool on demand
    client.close()
    assert server.wait_for_connections(0) == 0
