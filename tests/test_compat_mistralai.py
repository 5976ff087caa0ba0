"""Drop-in compatibility with the official ``mistralai`` SDK.

A capturing server records every request; the official SDK and levante make the same
calls against it, and the requests must match: identical JSON bodies and equivalent
Authorization, Content-Type and Accept headers. The official SDK's README examples then
run against levante with only the import line changed.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from mistralai.client import Mistral as OfficialMistral
from mistralai.client import models as official_models
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from levante.client import Mistral
from liveserver import live_server

CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}
    ],
}
LAST = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": " there"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}
CHAT_SSE = f"data: {json.dumps(CHUNK)}\n\ndata: {json.dumps(LAST)}\n\ndata: [DONE]\n\n".encode()
COMPLETION = {
    "id": "c2",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
CONV_SSE = (
    b"event: conversation.response.started\n"
    b'data: {"type":"conversation.response.started","conversation_id":"conv1",'
    b'"created_at":"2025-01-01T00:00:00Z"}\n\n'
    b"event: message.output.delta\n"
    b'data: {"type":"message.output.delta","id":"e1","output_index":0,"content_index":0,'
    b'"created_at":"2025-01-01T00:00:00Z","model":"m","role":"assistant","content":"Salut"}\n\n'
    b"event: conversation.response.done\n"
    b'data: {"type":"conversation.response.done","created_at":"2025-01-01T00:00:00Z",'
    b'"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n'
)
MODELS = {
    "object": "list",
    "data": [
        {
            "id": "mistral-small-latest",
            "object": "model",
            "created": 1,
            "owned_by": "mistralai",
            "capabilities": {"completion_chat": True},
            "type": "base",
        }
    ],
}
COMPARED_HEADERS = ("authorization", "content-type", "accept")


class Capture:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        self.requests.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": str(request.url.query),
                "headers": {k: request.headers.get(k) for k in COMPARED_HEADERS},
                "body": json.loads(raw) if raw else None,
            }
        )
        path = request.url.path
        if path == "/v1/models":
            return JSONResponse(MODELS)
        streaming = request.headers.get("accept") == "text/event-stream"
        if path.startswith("/v1/conversations"):
            return Response(CONV_SSE, media_type="text/event-stream")
        if streaming:
            return Response(CHAT_SSE, media_type="text/event-stream")
        return JSONResponse(COMPLETION)


def drain(result: Any) -> list[Any]:
    if hasattr(result, "__enter__"):
        with result as stream:
            return list(stream)
    return [result]


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]

CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    (
        "chat.stream full",
        lambda c: c.chat.stream(
            model="mistral-small-latest",
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
            ],
            temperature=0.3,
            top_p=0.9,
            max_tokens=64,
            tools=TOOLS,
            tool_choice="auto",
            response_format={"type": "json_object"},
            stop=["\n\n"],
            random_seed=42,
            presence_penalty=0.1,
            frequency_penalty=0.2,
            n=1,
            parallel_tool_calls=True,
            safe_prompt=False,
        ),
    ),
    (
        "chat.stream tool round trip",
        lambda c: c.chat.stream(
            model="m",
            messages=[
                {"role": "user", "content": "Weather?"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
                {
                    "role": "tool",
                    "content": "sunny",
                    "tool_call_id": "call1",
                    "name": "get_weather",
                },
            ],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            tools=TOOLS,
        ),
    ),
    (
        "chat.stream explicit None",
        lambda c: c.chat.stream(
            model="m",
            messages=[{"role": "user", "content": "x"}],
            temperature=None,
            random_seed=None,
            response_format=None,
            tool_choice=None,
            safe_prompt=None,
        ),
    ),
    (
        "chat.stream multimodal and prefix",
        lambda c: c.chat.stream(
            model="pixtral",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": "https://example.com/a.png"},
                    ],
                },
                {"role": "assistant", "content": "It is", "prefix": True},
            ],
            prediction={"type": "content", "content": "It is a cat"},
        ),
    ),
    (
        "chat.stream with the official SDK's models",
        lambda c: c.chat.stream(
            model="m",
            messages=[
                official_models.SystemMessage(content="Be brief."),
                official_models.UserMessage(content="Weather?"),
            ],
            tools=[
                official_models.Tool(
                    function=official_models.Function(name="get_weather", parameters={})
                )
            ],
            response_format=official_models.ResponseFormat(type="json_object"),
        ),
    ),
    (
        "chat.complete",
        lambda c: c.chat.complete(
            model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=5, stream=False
        ),
    ),
    (
        "chat.stream stream=True",
        lambda c: c.chat.stream(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True
        ),
    ),
    (
        "fim.stream",
        lambda c: c.fim.stream(
            model="codestral-latest", prompt="def add(a, b):", suffix="\n", max_tokens=20
        ),
    ),
    (
        "agents.stream",
        lambda c: c.agents.stream(
            agent_id="ag:123", messages=[{"role": "user", "content": "hi"}], max_tokens=10
        ),
    ),
    (
        "conversations.start_stream",
        lambda c: c.beta.conversations.start_stream(
            inputs="Bonjour", model="mistral-medium-latest", instructions="Be nice", store=False
        ),
    ),
    (
        "conversations.append_stream",
        lambda c: c.beta.conversations.append_stream(conversation_id="conv1", inputs="Et toi?"),
    ),
    (
        "conversations.restart_stream",
        lambda c: c.beta.conversations.restart_stream(
            conversation_id="conv1", from_entry_id="e1", inputs="Encore"
        ),
    ),
    ("models.list", lambda c: c.models.list()),
]


@pytest.fixture(scope="module")
def capture_server():
    capture = Capture()
    with live_server(capture.app) as server:
        yield capture, server


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_same_request_as_official_sdk(
    capture_server, name: str, call: Callable[[Any], Any]
) -> None:
    capture, server = capture_server
    with OfficialMistral(api_key="k", server_url=server.url) as official:
        official_items = drain(call(official))
    with Mistral(api_key="k", server_url=server.url) as ours:
        our_items = drain(call(ours))
    theirs, mine = capture.requests[-2], capture.requests[-1]
    assert mine["method"] == theirs["method"]
    assert mine["path"] == theirs["path"]
    assert mine["query"] == theirs["query"]
    assert mine["body"] == theirs["body"], name
    assert mine["headers"] == theirs["headers"]
    assert len(our_items) == len(official_items)


def test_streamed_content_matches_official_sdk(capture_server) -> None:
    _, server = capture_server
    messages = [{"role": "user", "content": "hi"}]
    with (
        OfficialMistral(api_key="k", server_url=server.url) as official,
        official.chat.stream(model="m", messages=messages) as stream,
    ):
        theirs = [
            (e.data.choices[0].delta.content, e.data.choices[0].finish_reason) for e in stream
        ]
    with (
        Mistral(api_key="k", server_url=server.url) as ours,
        ours.chat.stream(model="m", messages=messages) as stream,
    ):
        mine = [(e.data.choices[0].delta.content, e.data.choices[0].finish_reason) for e in stream]
    assert mine == theirs == [("Hi", None), (" there", "stop")]


README_EXAMPLES = {
    "chat stream": """
from mistralai.client import Mistral
import os

with Mistral(api_key=os.getenv("MISTRAL_API_KEY", ""), server_url=SERVER_URL) as mistral:
    res = mistral.chat.stream(model="mistral-small-latest", messages=[
        {"content": "Who is the best French painter? Answer in one sentence.", "role": "user"},
    ], stream=True)

    with res as event_stream:
        for event in event_stream:
            # handle event
            print(event.data.choices[0].delta.content, flush=True)
""",
    "fim stream": """
from mistralai.client import Mistral
import os

with Mistral(api_key=os.getenv("MISTRAL_API_KEY", ""), server_url=SERVER_URL) as mistral:
    res = mistral.fim.stream(
        model="codestral-latest", prompt="def", top_p=1, stream=True, suffix="return a+b"
    )

    with res as event_stream:
        for event in event_stream:
            # handle event
            print(event.data.choices[0].delta.content, flush=True)
""",
    "agents stream": """
from mistralai.client import Mistral
import os

with Mistral(api_key=os.getenv("MISTRAL_API_KEY", ""), server_url=SERVER_URL) as mistral:
    res = mistral.agents.stream(messages=[
        {"content": "Who is the best French painter? Answer in one sentence.", "role": "user"},
    ], agent_id="<id>", stream=True)

    with res as event_stream:
        for event in event_stream:
            # handle event
            print(event.data.choices[0].delta.content, flush=True)
""",
    "chat complete": """
from mistralai.client import Mistral
import os

with Mistral(
    api_key=os.getenv("MISTRAL_API_KEY", ""), server_url=SERVER_URL,
) as mistral:

    res = mistral.chat.complete(model="mistral-large-latest", messages=[
        {
            "role": "user",
            "content": "Who is the best French painter? Answer in one short sentence.",
        },
    ], stream=False, response_format={
        "type": "text",
    })

    # Handle response
    print(res.choices[0].message.content)
""",
    "conversations start_stream": """
from mistralai.client import Mistral
import os

with Mistral(api_key=os.getenv("MISTRAL_API_KEY", ""), server_url=SERVER_URL) as mistral:

    res = mistral.beta.conversations.start_stream(inputs=[
        {
            "object": "entry",
            "type": "function.result",
            "tool_call_id": "<id>",
            "result": "<value>",
        },
    ], completion_args={
        "response_format": {
            "type": "text",
        },
    })

    with res as event_stream:
        for event in event_stream:
            # handle event
            print(event.event, flush=True)
""",
    "async chat stream": """
import asyncio
from mistralai.client import Mistral
import os

async def main():
    async with Mistral(api_key=os.getenv("MISTRAL_API_KEY", ""), server_url=SERVER_URL) as mistral:
        res = await mistral.chat.stream_async(model="mistral-small-latest", messages=[
            {"content": "Hello", "role": "user"},
        ])
        async with res as event_stream:
            async for event in event_stream:
                print(event.data.choices[0].delta.content, flush=True)

asyncio.run(main())
""",
}


@pytest.mark.parametrize("name", list(README_EXAMPLES))
def test_readme_example_runs_with_only_the_import_changed(
    capture_server, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    capture, server = capture_server
    monkeypatch.setenv("MISTRAL_API_KEY", "k")
    official_src = README_EXAMPLES[name]
    ours_src = official_src.replace(
        "from mistralai.client import Mistral", "from levante import Mistral"
    )
    assert ours_src.count("levante") == 1

    outputs = []
    for source in (official_src, ours_src):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"<README {name}>", "exec"), {"SERVER_URL": server.url})
        outputs.append(out.getvalue())
    assert outputs[1] == outputs[0]
    assert outputs[0].strip()
    theirs, mine = capture.requests[-2], capture.requests[-1]
    assert mine["body"] == theirs["body"]
    assert mine["headers"] == theirs["headers"]
