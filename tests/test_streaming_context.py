"""`stream_async()` returns an AsyncStreamContext: await it, or use it in `async with`."""

from __future__ import annotations

import gc

import httpx2
import pytest

from levante import AsyncStreamContext, ChatCompletionStreamAsync, Mistral
from liveserver import LiveServer

# Each test runs over both body readers (see conftest.body_reader).
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("body_reader")]

MESSAGES = [{"role": "user", "content": "Hello there"}]


def stream_counts(dev_server: LiveServer) -> dict[str, int]:
    """The dev server's own count of the streams it served."""
    counts: dict[str, int] = httpx2.get(f"{dev_server.url}/_levante/stats").json()
    return counts


async def test_async_with_opens_and_closes_the_stream(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url) as client:
        async with client.chat.stream_async(model="levante-echo", messages=MESSAGES) as stream:
            assert isinstance(stream, ChatCompletionStreamAsync)
            text = [t async for t in stream.text_stream]
        assert "".join(text) == "Hello there"
        assert stream.closed
        # leaving the block early (an exception) closes the stream and drops its connection
        with pytest.raises(KeyError):
            async with client.chat.stream_async(model="levante-long", messages=MESSAGES) as stream:
                await stream.__anext__()
                raise KeyError("boom")
        assert stream.closed
    assert dev_server.wait_for_connections(0) == 0


async def test_await_gives_the_open_stream_as_in_the_official_sdk(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url) as client:
        stream = await client.chat.stream_async(model="levante-echo", messages=MESSAGES)
        async with stream:
            final = await stream.final_response()
        assert final.choices[0].message is not None
        assert final.choices[0].message.content == "Hello there"
        events = await client.beta.conversations.start_stream_async(
            model="levante-echo", inputs="Hi"
        )
        async with events:
            kinds = [event.event async for event in events]
        assert kinds[-1] == "conversation.response.done"


async def test_the_request_is_sent_once(dev_server: LiveServer) -> None:
    async with Mistral(server_url=dev_server.url) as client:
        opening = client.fim.stream_async(model="codestral-latest", prompt="def f(")
        assert isinstance(opening, AsyncStreamContext)
        async with await opening:
            pass
        with pytest.raises(RuntimeError, match="already sent"):
            await opening
        with pytest.raises(RuntimeError, match="already sent"):
            async with opening:
                pass
    assert sum(stream_counts(dev_server).values()) == 1  # one stream served (aborted: unread)


async def test_nothing_is_sent_until_awaited_and_bad_arguments_fail_at_once(
    dev_server: LiveServer,
) -> None:
    async with Mistral(server_url=dev_server.url) as client:
        opening = client.agents.stream_async(agent_id="ag-1", messages=MESSAGES)
        del opening
        gc.collect()  # warnings are errors: an un-awaited coroutine would fail this test
        with pytest.raises(ValueError, match="temprature"):
            client.chat.stream_async(
                model="levante-echo",
                messages=MESSAGES,
                temprature=0.5,  # type: ignore[call-arg]
            )
    assert sum(stream_counts(dev_server).values()) == 0
