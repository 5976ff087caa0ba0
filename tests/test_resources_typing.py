"""mypy knows what the audio, responses, parse and cloud-client calls return (``stream=``
picks the type through ``typing.overload``) and rejects misspelt keyword arguments."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

SNIPPET = """
from levante import Mistral

client = Mistral(api_key="k")
reveal_type(client.audio.speech.complete(input="x"))
reveal_type(client.audio.speech.complete(input="x", stream=True))
reveal_type(client.audio.speech.complete(input="x", stream=False, response_format="wav"))
reveal_type(client.audio.transcriptions.stream(model="m", file=b"x"))
reveal_type(client.audio.transcriptions.complete(model="m", file_url="u"))

async def use() -> None:
    reveal_type(await client.audio.speech.complete_async(input="x", stream=True))
    reveal_type(client.audio.transcriptions.stream_async(model="m", file=b"x"))

client.audio.speech.complete(input="x", voice="v")
client.audio.transcriptions.complete(model="m", granularity=["word"])
"""

EXPECTED = [
    "levante.models.audio.SpeechResponse",
    "levante.resources.audio.SpeechStream",
    "levante.models.audio.SpeechResponse",
    "levante.resources.audio.TranscriptionStream",
    "levante.models.audio.TranscriptionResponse",
    "levante.resources.audio.SpeechStreamAsync",
    "levante._streaming._context.AsyncStreamContext[levante.resources.audio.TranscriptionStreamAsync]",
]


def test_mypy_knows_the_return_types(tmp_path: Path) -> None:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(SNIPPET))
    out, err, status = api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(path)]
    )
    assert status == 1, err
    lines = out.splitlines()
    notes = [
        line.split("Revealed type is ", 1)[1].strip('"') for line in lines if "Revealed" in line
    ]
    assert notes == EXPECTED
    # an overloaded call's error spans several lines: one error per source line
    errors = {
        int(line.split(":", 2)[1]): line.split(": error: ", 1)[1]
        for line in reversed(lines)
        if ": error: " in line
    }
    assert len(errors) == 2, errors
    first, second = (errors[line] for line in sorted(errors))
    assert '"voice"' in first and '"granularity"' in second
