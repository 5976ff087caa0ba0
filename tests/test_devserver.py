"""The dev server's endpoints over real sockets: shapes (checked against levante.models),
the fake models, tool calls, conversations, auth, errors, pacing and disconnect detection."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from levante.devserver import EmbeddedServer
from levante.devserver.engine import tokenize
from levante.models import (
    ChatCompletionResponse,
    CompletionEvent,
    ConversationResponse,
    FIMCompletionResponse,
    ModelList,
    decode_conversation_event,
)
from levante.sse import ServerSentEvent, SSEDecoder

USER = [{"role": "user", "content": "Hello there,  levante  world"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city"],
        },
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def sse(response: httpx2.Response) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = decoder.feed(response.content)
    assert decoder.end() == []
    return events


def chat_stream(client: httpx2.Client, **body: Any) -> list[ServerSentEvent]:
    body.setdefault("messages", USER)
    response = client.post("/v1/chat/completions", json={"stream": True, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse(response)


def chunks(events: list[ServerSentEvent]) -> list[Any]:
    assert events[-1].data == "[DONE]"
    return [CompletionEvent.from_sse_data(e.data).data for e in events[:-1]]


def test_tokenize_round_trips_and_keeps_trailing_space() -> None:
    text = "  Hello, world!\n\nNew  line "
    assert "".join(tokenize(text)) == text
    assert tokenize("Hello, world") == ["Hello, ", "world"]
    assert tokenize("") == []


def test_echo_stream_replies_with_last_user_message(client: httpx2.Client) -> None:
    events = chat_stream(
        client,
        model="levante-echo",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "second  message here"}]},
        ],
    )
    parsed = chunks(events)
    assert parsed[0].choices[0].delta.role == "assistant"
    contents = [c.choices[0].delta.content for c in parsed]
    assert contents[:-1] == ["second  ", "message ", "here"]
    assert all(c.choices[0].finish_reason is None for c in parsed[:-1])
    last = parsed[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.usage.completion_tokens == 3
    assert last.usage.total_tokens == last.usage.prompt_tokens + 3
    assert {c.id for c in parsed} == {parsed[0].id}
    assert all(c.model == "levante-echo" for c in parsed)


def test_non_streamed_chat_is_a_chat_completion(client: httpx2.Client) -> None:
    response = client.post("/v1/chat/completions", json={"model": "levante-echo", "messages": USER})
    assert response.status_code == 200
    completion = ChatCompletionResponse.model_validate_json(response.content)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == USER[0]["content"]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == len(tokenize(USER[0]["content"]))


def test_long_model_honours_max_tokens(client: httpx2.Client) -> None:
    parsed = chunks(chat_stream(client, model="levante-long", max_tokens=7))
    assert len([c for c in parsed if c.choices[0].delta.content]) == 7
    assert parsed[-1].choices[0].finish_reason == "length"
    assert parsed[-1].usage.completion_tokens == 7
    whole = client.post(
        "/v1/chat/completions", json={"model": "levante-long", "messages": USER}
    ).json()
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert whole["usage"]["completion_tokens"] == 512
    # deterministic: the same request gives the same text, another seed another text
    again = client.post(
        "/v1/chat/completions", json={"model": "levante-long", "messages": USER}
    ).json()
    seeded = client.post(
        "/v1/chat/completions",
        json={"model": "levante-long", "messages": USER, "random_seed": 7},
    ).json()
    text = whole["choices"][0]["message"]["content"]
    assert again["choices"][0]["message"]["content"] == text
    assert seeded["choices"][0]["message"]["content"] != text


def test_echo_truncated_by_max_tokens(client: httpx2.Client) -> None:
    parsed = chunks(chat_stream(client, model="levante-echo", max_tokens=2))
    assert "".join(c.choices[0].delta.content for c in parsed) == "Hello there,  "
    assert parsed[-1].choices[0].finish_reason == "length"


def test_alias_answers_about_the_levante_wind(client: httpx2.Client) -> None:
    parsed = chunks(
        chat_stream(
            client,
            model="mistral-small-latest",
            messages=[{"role": "user", "content": "Tell me about the levante wind"}],
        )
    )
    text = "".join(c.choices[0].delta.content for c in parsed)
    assert text.startswith("The levante is an easterly wind")
    assert parsed[0].model == "mistral-small-latest"


def tool_deltas(parsed: list[Any]) -> list[Any]:
    return [tc for c in parsed for tc in (c.choices[0].delta.tool_calls or [])]


@pytest.mark.parametrize(
    ("tool_choice", "prompt"),
    [
        ("any", "What is it like in Paris today?"),
        ("required", "What is it like in Paris today?"),
        ("auto", "Use get_weather for Paris please"),
        ({"type": "function", "function": {"name": "get_weather"}}, "Hi from Paris"),
    ],
)
def test_tool_call_streamed_as_deltas(client: httpx2.Client, tool_choice: Any, prompt: str) -> None:
    parsed = chunks(
        chat_stream(
            client,
            model="mistral-large-latest",
            messages=[{"role": "user", "content": prompt}],
            tools=[WEATHER_TOOL],
            tool_choice=tool_choice,
        )
    )
    deltas = tool_deltas(parsed)
    assert len(deltas) >= 3  # the arguments really are split across chunks
    assert deltas[0].id and deltas[0].function.name == "get_weather"
    assert all(d.index == 0 for d in deltas)
    assert all(d.function.name == "" for d in deltas[1:])
    assert all(d.id == "null" for d in deltas[1:])  # the id was not sent again
    arguments = json.loads("".join(d.function.arguments for d in deltas))
    assert arguments == {"city": "Paris", "unit": "celsius", "days": 1}
    assert parsed[-1].choices[0].finish_reason == "tool_calls"
    assert parsed[-1].usage.completion_tokens > 0


@pytest.mark.parametrize(
    ("tool_choice", "prompt"),
    [("auto", "Tell me a story"), ("none", "Use get_weather for Paris")],
)
def test_no_tool_call_unless_asked(client: httpx2.Client, tool_choice: str, prompt: str) -> None:
    parsed = chunks(
        chat_stream(
            client,
            model="levante-echo",
            messages=[{"role": "user", "content": prompt}],
            tools=[WEATHER_TOOL],
            tool_choice=tool_choice,
        )
    )
    assert tool_deltas(parsed) == []
    assert "".join(c.choices[0].delta.content for c in parsed) == prompt


def test_tool_result_is_answered_with_text(client: httpx2.Client) -> None:
    body = {
        "model": "levante-chat",
        "tools": [WEATHER_TOOL],
        "messages": [
            {"role": "user", "content": "get_weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "abc", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "name": "get_weather", "tool_call_id": "abc", "content": "sunny"},
        ],
    }
    completion = client.post("/v1/chat/completions", json=body).json()
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["choices"][0]["message"]["content"].startswith(
        "The get_weather tool returned sunny."
    )


def test_non_streamed_tool_call(client: httpx2.Client) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "levante-chat",
            "messages": USER,
            "tools": [WEATHER_TOOL],
            "tool_choice": "any",
        },
    )
    completion = ChatCompletionResponse.model_validate_json(response.content)
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["unit"] == "celsius"
    assert completion.choices[0].finish_reason == "tool_calls"


def test_fim_stream_and_complete(client: httpx2.Client) -> None:
    body = {"model": "codestral-latest", "prompt": "def f():", "suffix": "print(f())"}
    response = client.post("/v1/fim/completions", json={**body, "stream": True})
    text = "".join(c.choices[0].delta.content for c in chunks(sse(response)))
    assert "return None" in text
    whole = FIMCompletionResponse.model_validate_json(
        client.post("/v1/fim/completions", json=body).content
    )
    assert whole.choices[0].message.content == text


def test_agents_behave_as_the_named_model(client: httpx2.Client) -> None:
    response = client.post(
        "/v1/agents/completions",
        json={"agent_id": "levante-echo", "messages": USER, "stream": True},
    )
    text = "".join(c.choices[0].delta.content for c in chunks(sse(response)))
    assert text == USER[0]["content"]
    other = client.post(
        "/v1/agents/completions", json={"agent_id": "ag:123", "messages": USER}
    ).json()
    assert other["model"] == "levante-chat"
    missing = client.post("/v1/agents/completions", json={"messages": USER})
    assert missing.status_code == 422


def conversation(response: httpx2.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    return [decode_conversation_event(e.event, e.data) for e in sse(response)]


def test_conversation_start_append_restart(client: httpx2.Client) -> None:
    events = conversation(
        client.post(
            "/v1/conversations",
            json={"model": "levante-echo", "inputs": "one two", "stream": True},
        )
    )
    kinds = [e.event for e in events]
    assert kinds == [
        "conversation.response.started",
        "message.output.delta",
        "message.output.delta",
        "conversation.response.done",
    ]
    conv_id = events[0].data.conversation_id
    assert "".join(e.data.content for e in events[1:3]) == "one two"
    assert events[-1].data.usage.completion_tokens == 2

    appended = conversation(
        client.post(f"/v1/conversations/{conv_id}", json={"inputs": "three", "stream": True})
    )
    assert appended[0].data.conversation_id == conv_id
    assert appended[1].data.content == "three"

    history = client.get(f"/v1/conversations/{conv_id}/history").json()["entries"]
    assert [e["type"] for e in history] == [
        "message.input",
        "message.output",
        "message.input",
        "message.output",
    ]

    # Restart before the second input: a new conversation that forgets "three".
    restarted = ConversationResponse.model_validate_json(
        client.post(
            f"/v1/conversations/{conv_id}/restart",
            json={"from_entry_id": history[2]["id"], "inputs": "four"},
        ).content
    )
    assert restarted.conversation_id != conv_id
    assert restarted.outputs[0].content == "four"
    new_history = client.get(f"/v1/conversations/{restarted.conversation_id}/history").json()
    assert [e.get("content") for e in new_history["entries"]] == [
        "one two",
        "one two",
        "four",
        "four",
    ]


def test_conversation_function_calls_stream(client: httpx2.Client) -> None:
    events = conversation(
        client.post(
            "/v1/conversations",
            json={
                "model": "levante-chat",
                "inputs": "Call get_weather for Paris",
                "tools": [WEATHER_TOOL],
                "stream": True,
            },
        )
    )
    deltas = [e.data for e in events if e.event == "function.call.delta"]
    assert len(deltas) >= 2
    assert {d.name for d in deltas} == {"get_weather"}
    assert json.loads("".join(d.arguments for d in deltas))["city"] == "Paris"
    conv_id = events[0].data.conversation_id
    answer = client.post(
        f"/v1/conversations/{conv_id}",
        json={
            "inputs": [
                {"type": "function.result", "tool_call_id": deltas[0].tool_call_id, "result": "22C"}
            ]
        },
    ).json()
    assert answer["outputs"][0]["content"].startswith("The get_weather tool returned 22C.")


def test_conversation_errors(client: httpx2.Client) -> None:
    unknown = client.post("/v1/conversations/conv_nope", json={"inputs": "x"})
    assert unknown.status_code == 404
    assert unknown.json()["object"] == "error"
    no_model = client.post("/v1/conversations", json={"inputs": "x"})
    assert no_model.status_code == 422
    bad_entry = client.post(
        "/v1/conversations", json={"model": "levante-echo", "inputs": [{"type": "x"}]}
    )
    assert bad_entry.status_code == 422


def test_models_lists_builtins_and_aliases(client: httpx2.Client) -> None:
    listing = ModelList.model_validate_json(client.get("/v1/models").content)
    ids = [card.id for card in listing.data or []]
    for expected in ("levante-echo", "levante-long", "levante-chat", "mistral-small-latest"):
        assert expected in ids
    assert client.get("/v1/models/mistral-large-latest").json()["aliases"] == ["levante-chat"]
    assert client.get("/v1/models/nope").status_code == 404


def test_unknown_models_behave_like_levante_chat(client: httpx2.Client) -> None:
    for path, body in (
        ("/v1/chat/completions", {"messages": USER}),
        ("/v1/conversations", {"inputs": "Hello there,  levante  world"}),
    ):
        known = client.post(path, json={"model": "levante-chat", **body}).json()
        unknown = client.post(path, json={"model": "mistral-medium-3-5", **body}).json()
        if "choices" in known:
            assert unknown["model"] == "mistral-medium-3-5"
            assert unknown["choices"] == known["choices"]
        else:
            assert unknown["outputs"][0]["content"] == known["outputs"][0]["content"]
            assert unknown["outputs"][0]["model"] == "mistral-medium-3-5"
    fim = client.post("/v1/fim/completions", json={"model": "mistral-tiny", "prompt": "def f():"})
    assert fim.status_code == 200


def test_strict_models_refuses_unknown_names() -> None:
    with EmbeddedServer(strict_models=True) as srv, httpx2.Client(base_url=srv.url) as c:
        for path, body in (
            ("/v1/chat/completions", {"messages": USER}),
            ("/v1/fim/completions", {"prompt": "x"}),
            ("/v1/conversations", {"inputs": "x"}),
        ):
            unknown_model = c.post(path, json={"model": "gpt-9", **body})
            assert unknown_model.status_code == 400, path
            error = unknown_model.json()
            assert error["type"] == "invalid_model"
            assert error["message"].startswith("Invalid model: gpt-9")
            assert set(error) >= {"object", "message", "type", "param", "code"}
        alias = c.post(
            "/v1/chat/completions", json={"model": "mistral-small-latest", "messages": USER}
        )
        assert alias.status_code == 200


def test_error_shapes(client: httpx2.Client) -> None:
    not_json = client.post("/v1/chat/completions", content=b"{nope")
    assert not_json.status_code == 422
    no_messages = client.post("/v1/chat/completions", json={"model": "levante-echo"})
    assert no_messages.status_code == 422
    assert no_messages.json()["detail"][0]["loc"] == ["body", "messages"]
    bad_max = client.post(
        "/v1/chat/completions", json={"model": "levante-echo", "messages": USER, "max_tokens": True}
    )
    assert bad_max.status_code == 422
    no_route = client.get("/v2/whatever")
    assert no_route.status_code == 404
    assert no_route.json()["object"] == "error"
    wrong_method = client.get("/v1/chat/completions")
    assert wrong_method.status_code == 405
    bad_header = client.post(
        "/v1/chat/completions",
        headers={"x-levante-ttft": "soon"},
        json={"model": "levante-echo", "messages": USER},
    )
    assert bad_header.status_code == 400
    assert "x-levante-ttft" in bad_header.json()["message"]


def test_api_key_is_checked_when_configured() -> None:
    with EmbeddedServer(api_key="sekret") as srv, httpx2.Client(base_url=srv.url) as c:
        body = {"model": "levante-echo", "messages": USER}
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "sekret"}):
            denied = c.post("/v1/chat/completions", json=body, headers=headers)
            assert denied.status_code == 401
            assert denied.json()["object"] == "error"
            assert denied.json()["type"] == "unauthorized"
        assert c.get("/v1/models").status_code == 401
        ok = c.post("/v1/chat/completions", json=body, headers={"authorization": "Bearer sekret"})
        assert ok.status_code == 200
        assert c.get("/_levante/stats").status_code == 200  # the stats need no key


def first_event_delay(
    client: httpx2.Client, headers: dict[str, str], body: dict[str, Any]
) -> tuple[float, float, int]:
    """(seconds to the first event, seconds to the end, number of events)."""
    start = time.monotonic()
    first = None
    count = 0
    with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response:
        decoder = SSEDecoder()
        for data in response.iter_bytes():
            events = decoder.feed(data)
            if events and first is None:
                first = time.monotonic() - start
            count += len(events)
    assert first is not None
    return first, time.monotonic() - start, count


def test_pacing_headers_override_server_defaults(client: httpx2.Client) -> None:
    body = {"model": "levante-long", "messages": USER, "max_tokens": 10, "stream": True}
    _, fast_total, _ = first_event_delay(client, {}, body)
    assert fast_total < 0.5
    headers = {"x-levante-ttft": "0.3", "x-levante-tokens-per-second": "50"}
    first, total, count = first_event_delay(client, headers, body)
    assert count == 12  # 10 tokens, the usage chunk, [DONE]
    assert first >= 0.29
    # 10 paced gaps of 20 ms after the first event: the rate holds, give or take scheduling
    assert 0.18 <= total - first < 1.0


def test_server_wide_pacing() -> None:
    with (
        EmbeddedServer(ttft=0.2, tokens_per_second=100) as srv,
        httpx2.Client(base_url=srv.url) as c,
    ):
        body = {"model": "levante-long", "messages": USER, "max_tokens": 20, "stream": True}
        first, total, _ = first_event_delay(c, {}, body)
        assert first >= 0.19
        assert total - first >= 0.18
        start = time.monotonic()
        c.post("/v1/chat/completions", json={**body, "stream": False})
        assert time.monotonic() - start >= 0.35  # a whole reply takes as long as its stream


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_client_disconnect_stops_the_stream_and_counts_as_aborted() -> None:
    with EmbeddedServer(tokens_per_second=20) as srv, httpx2.Client(base_url=srv.url) as c:
        body = {"model": "levante-long", "messages": USER, "max_tokens": 1000, "stream": True}
        with c.stream("POST", "/v1/chat/completions", json=body) as response:
            decoder = SSEDecoder()
            seen = 0
            # Keep the iterator referenced: finalizing it would close the connection early.
            chunks = response.iter_bytes()
            for data in chunks:
                seen += len(decoder.feed(data))
                if seen >= 2:
                    break
            time.sleep(0.1)
            assert srv.stats() == {"open": 1, "completed": 0, "aborted": 0}
        # 1000 tokens at 20/s would take 50 s: only disconnect detection ends it this soon.
        assert wait_for(lambda: srv.stats()["open"] == 0, timeout=3)
        assert srv.fetch_stats() == {"open": 0, "completed": 0, "aborted": 1}
        chat_stream(c, model="levante-echo", messages=USER)
        assert srv.fetch_stats() == {"open": 0, "completed": 1, "aborted": 1}


def test_create_app_rejects_bad_options() -> None:
    from levante.devserver import create_app

    with pytest.raises(ValueError, match="tokens_per_second"):
        create_app(tokens_per_second=0)
    with pytest.raises(ValueError, match="ttft"):
        create_app(ttft=-1)


TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


@pytest.mark.parametrize(
    ("parallel", "expected"), [(True, ["get_weather", "get_time"]), (False, ["get_weather"])]
)
def test_parallel_tool_calls(client: httpx2.Client, parallel: bool, expected: list[str]) -> None:
    parsed = chunks(
        chat_stream(
            client,
            model="levante-chat",
            messages=[{"role": "user", "content": "call get_time and get_weather for Rome"}],
            tools=[WEATHER_TOOL, TIME_TOOL],
            parallel_tool_calls=parallel,
        )
    )
    deltas = tool_deltas(parsed)
    firsts = [d for d in deltas if d.function.name]
    assert [d.function.name for d in firsts] == expected  # in the order of `tools`
    assert [d.index for d in firsts] == list(range(len(expected)))
    for index in range(len(expected)):
        json.loads("".join(d.function.arguments for d in deltas if d.index == index))


def test_split_arguments_always_gives_several_pieces() -> None:
    from levante.devserver.engine import split_arguments

    for text in ["{}", '{"a": 1}', '{"city": "Paris", "unit": "celsius"}']:
        pieces = split_arguments(text)
        assert len(pieces) >= 2 and "".join(pieces) == text


def test_response_formats(client: httpx2.Client) -> None:
    def reply(response_format: dict[str, Any]) -> Any:
        body = {"model": "levante-echo", "messages": USER, "response_format": response_format}
        text = "".join(c.choices[0].delta.content for c in chunks(chat_stream(client, **body)))
        return json.loads(text)

    assert reply({"type": "json_object"}) == {"reply": USER[0]["content"]}
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    }
    as_schema = reply({"type": "json_schema", "json_schema": {"name": "p", "schema": schema}})
    assert as_schema == {"name": "name of the levante", "age": 1}
