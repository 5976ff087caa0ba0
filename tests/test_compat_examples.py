"""The official SDK's documented flows for structured output, reasoning and transcription,
run against the dev server with the official SDK and with levante, only the imports
changed: each example below is written once and receives the SDK's names (``Mistral``
and the models module), the way a user's program would after changing its import line.

The examples are written here (not copied): they do what the official examples of
``mistralai`` 3.7 do (``chat.parse`` / ``parse_async`` / ``parse_stream`` with a pydantic
model, reasoning with ``ThinkChunk`` content, complete and streamed; transcription of an
opened file with ``File(content=f, file_name=f.name)``, of a URL with segments, streamed
with ``stream_async``) and record what those print, so the two runs can be compared.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mistralai.client
import mistralai.client.models
import pytest
from pydantic import BaseModel

import levante
import levante.models
from levante.devserver import EmbeddedServer

KEY = "example-key"
SDKS = {
    "mistralai": types.SimpleNamespace(
        Mistral=mistralai.client.Mistral, models=mistralai.client.models
    ),
    "levante": types.SimpleNamespace(Mistral=levante.Mistral, models=levante.models),
}


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(api_key=KEY) as srv:
        yield srv


class Explanation(BaseModel):
    explanation: str
    output: str


class MathDemonstration(BaseModel):
    steps: list[Explanation]
    final_answer: str


TUTOR = [
    {"role": "system", "content": "You are a math tutor: solve step by step."},
    {"role": "user", "content": "How can I solve 8x + 7 = -23"},
]


# -- the examples: each takes the SDK's names and returns what it printed ------------------


def structured_output(sdk: Any, url: str) -> list[str]:
    with sdk.Mistral(api_key=KEY, server_url=url) as client:
        reply = client.chat.parse(
            model="mistral-large-latest", messages=TUTOR, response_format=MathDemonstration
        )
        printed = [repr(reply.choices[0].message.parsed)]
        with client.chat.parse_stream(
            model="mistral-large-latest", messages=TUTOR, response_format=MathDemonstration
        ) as stream:
            printed += [str(chunk.data.choices[0].delta.content) for chunk in stream]
    return printed


def structured_output_async(sdk: Any, url: str) -> list[str]:
    async def main() -> list[str]:
        async with sdk.Mistral(api_key=KEY, server_url=url) as client:
            reply = await client.chat.parse_async(
                model="mistral-large-2411", messages=TUTOR, response_format=MathDemonstration
            )
        return [repr(reply.choices[0].message.parsed)]

    return asyncio.run(main())


def reasoning(sdk: Any, url: str) -> list[str]:
    models = sdk.models
    with sdk.Mistral(api_key=KEY, server_url=url, timeout_ms=300_000) as client:
        reply = client.chat.complete(
            model="mistral-medium-3-5",
            messages=[models.UserMessage(content="How old is John, one of 4 children?")],
            reasoning_effort="high",
            temperature=0.7,
        )
    printed = []
    content = reply.choices[0].message.content
    if isinstance(content, str):
        return [content]
    for chunk in content or []:
        if isinstance(chunk, models.ThinkChunk):
            printed.append("--- thinking ---")
            printed += [
                inner.text for inner in chunk.thinking if isinstance(inner, models.TextChunk)
            ]
            printed.append("--- /thinking ---")
        elif isinstance(chunk, models.TextChunk):
            printed.append(chunk.text)
    return printed


def reasoning_stream(sdk: Any, url: str) -> list[str]:
    models = sdk.models
    printed: list[str] = []
    thinking = False
    with sdk.Mistral(api_key=KEY, server_url=url) as client:
        # the stream iterated without ``with``, as the official example does
        for event in client.chat.stream(
            model="mistral-medium-3-5",
            messages=[models.UserMessage(content="When do the two trains meet?")],
            reasoning_effort="high",
            temperature=0.7,
        ):
            delta = event.data.choices[0].delta.content
            if not delta:
                continue
            if isinstance(delta, str):
                if thinking:
                    printed.append("--- /thinking ---")
                    thinking = False
                printed.append(delta)
                continue
            for chunk in delta:
                if isinstance(chunk, models.ThinkChunk):
                    if not thinking:
                        printed.append("--- thinking ---")
                        thinking = True
                    printed += [i.text for i in chunk.thinking if isinstance(i, models.TextChunk)]
                elif isinstance(chunk, models.TextChunk):
                    printed.append(chunk.text)
    return printed


def transcription_of_a_file(sdk: Any, url: str, path: Path) -> list[str]:
    async def main() -> list[str]:
        async with sdk.Mistral(api_key=KEY, server_url=url) as client:
            with open(path, "rb") as f:  # noqa: ASYNC230 - as the official example does
                reply = await client.audio.transcriptions.complete_async(
                    model="voxtral-mini-latest", file=sdk.models.File(content=f, file_name=f.name)
                )
        return [reply.text]

    return asyncio.run(main())


def transcription_stream(sdk: Any, url: str, path: Path) -> list[str]:
    async def main() -> list[str]:
        async with sdk.Mistral(api_key=KEY, server_url=url) as client:
            with open(path, "rb") as f:  # noqa: ASYNC230 - as the official example does
                response = await client.audio.transcriptions.stream_async(
                    model="voxtral-mini-2507", file=sdk.models.File(content=f, file_name=f.name)
                )
                return [f"{chunk.event} {chunk.data.type}" async for chunk in response]

    return asyncio.run(main())


def transcription_segments(sdk: Any, url: str) -> list[str]:
    with sdk.Mistral(api_key=KEY, server_url=url) as client:
        reply = client.audio.transcriptions.complete(
            model="voxtral-mini-latest",
            file_url="https://docs.example.com/audio/weather.mp3",
            timestamp_granularities=["segment"],
        )
    return [f"{s.start}-{s.end} {s.text}" for s in reply.segments or []]


EXAMPLES = {
    "structured output": structured_output,
    "structured output, async": structured_output_async,
    "reasoning": reasoning,
    "reasoning, streamed": reasoning_stream,
    "transcription of a URL, segments": transcription_segments,
}
FILE_EXAMPLES = {
    "transcription of a file, async": transcription_of_a_file,
    "transcription, streamed": transcription_stream,
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_runs_the_same_with_levante(server: EmbeddedServer, name: str) -> None:
    example = EXAMPLES[name]
    official = example(SDKS["mistralai"], server.url)
    ours = example(SDKS["levante"], server.url)
    assert ours == official
    assert len(ours) > 1 or (ours and ours[0])


@pytest.mark.parametrize("name", list(FILE_EXAMPLES))
def test_file_example_runs_the_same_with_levante(
    server: EmbeddedServer, name: str, tmp_path: Path
) -> None:
    path = tmp_path / "weather.mp3"
    path.write_bytes(b"ID3\x03\x00 pretend this is an mp3")
    example = FILE_EXAMPLES[name]
    official = example(SDKS["mistralai"], server.url, path)
    ours = example(SDKS["levante"], server.url, path)
    assert ours == official and ours


def test_the_examples_see_what_they_look_for(server: EmbeddedServer) -> None:
    # a sanity check on the comparisons above: the flows really met thinking, a parsed
    # model and transcription events (equal outputs could otherwise be equally empty)
    sdk = SDKS["levante"]
    assert "--- thinking ---" in reasoning(sdk, server.url)
    assert "--- thinking ---" in reasoning_stream(sdk, server.url)
    assert structured_output(sdk, server.url)[0].startswith("MathDemonstration(")
    assert len(transcription_segments(sdk, server.url)) > 1
