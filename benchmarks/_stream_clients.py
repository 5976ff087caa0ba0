"""Full-client runners for bench_client's transcription and Responses rows.

Each runner streams one response through a client (levante's or the official SDK's) and
touches the typed attributes a caller reads (``event.data.type`` and the delta text), so
both SDKs pay for typed decoding of every event; the server sends the events of
``_stream_kinds`` one per write. Clients are closed by :data:`CLEANUPS` at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

AUDIO_MODEL = "voxtral-mini-latest"
AUDIO_URL = "https://example.com/speech.mp3"
PROMPT = "Tell me a story"

Runner = Callable[[], int]

#: What to run once the measurements are over (close clients and loops, so that nothing
#: is left for the garbage collector to complain about).
CLEANUPS: list[Callable[[], None]] = []


def levante_transcription(url: str) -> Runner:
    from levante import Mistral

    client = Mistral(api_key="k", server_url=url, retries=0)
    CLEANUPS.append(client.close)

    def run() -> int:
        n = 0
        with client.audio.transcriptions.stream(model=AUDIO_MODEL, file_url=AUDIO_URL) as stream:
            for event in stream:
                if event.data.type == "transcription.text.delta":
                    _text = event.data.text  # type: ignore[union-attr]
                n += 1
        return n

    return run


def mistralai_transcription(url: str) -> Runner:
    from mistralai.client import Mistral as OfficialMistral

    client = OfficialMistral(api_key="k", server_url=url)

    def run() -> int:
        n = 0
        with client.audio.transcriptions.stream(model=AUDIO_MODEL, file_url=AUDIO_URL) as stream:
            for event in stream:
                if event.data.type == "transcription.text.delta":
                    _text = event.data.text
                n += 1
        return n

    return run


def levante_responses(url: str) -> Runner:
    from levante import Mistral

    client = Mistral(api_key="k", server_url=url, retries=0)
    CLEANUPS.append(client.close)

    def run() -> int:
        n = 0
        with client.responses.create(model="m", input=PROMPT, stream=True) as stream:
            for frame in stream:
                if frame.data.type == "response.output_text.delta":
                    _delta = frame.data.delta  # type: ignore[union-attr]
                n += 1
        return n

    return run


def levante_responses_async(url: str) -> Runner:
    from levante import Mistral

    client = Mistral(api_key="k", server_url=url, retries=0)
    loop = asyncio.new_event_loop()

    def close() -> None:
        loop.run_until_complete(client.aclose())
        loop.close()

    CLEANUPS.append(close)

    async def consume() -> int:
        n = 0
        async with await client.responses.create_async(
            model="m", input=PROMPT, stream=True
        ) as stream:
            async for frame in stream:
                if frame.data.type == "response.output_text.delta":
                    _delta = frame.data.delta  # type: ignore[union-attr]
                n += 1
        return n

    return lambda: loop.run_until_complete(consume())


def mistralai_responses(url: str) -> Runner:
    from mistralai.client import Mistral as OfficialMistral

    client = OfficialMistral(api_key="k", server_url=url)

    def run() -> int:
        n = 0
        with client.responses.create(model="m", input=PROMPT, stream=True) as stream:
            for frame in stream:
                if frame.data.type == "response.output_text.delta":
                    _delta = frame.data.delta
                n += 1
        return n

    return run


#: (title, clients by name): the rows of bench_client's stream section.
SCENARIOS: list[tuple[str, dict[str, Callable[[str], Runner]]]] = [
    (
        "transcription, end to end (audio.transcriptions.stream)",
        {"levante": levante_transcription, "mistralai": mistralai_transcription},
    ),
    (
        "responses, end to end (responses.create(stream=True))",
        {
            "levante": levante_responses,
            "levante async": levante_responses_async,
            "mistralai": mistralai_responses,
        },
    ),
]
