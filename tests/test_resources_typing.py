"""mypy knows what the audio, responses, parse and cloud-client calls return (``stream=``
picks the type through ``typing.overload``) and rejects misspelt keyword arguments."""

from __future__ import annotations

from typecheck import Checked, snippet

SNIPPET = """
from pydantic import BaseModel

from levante import Mistral, MistralAzure, MistralGCP


class City(BaseModel):
    name: str


client = Mistral(api_key="k")
reveal_type(client.audio.speech.complete(input="x"))
reveal_type(client.audio.speech.complete(input="x", stream=True))
reveal_type(client.audio.speech.complete(input="x", stream=False, response_format="wav"))
reveal_type(client.audio.transcriptions.stream(model="m", file=b"x"))
reveal_type(client.audio.transcriptions.complete(model="m", file_url="u"))

reveal_type(client.chat.parse(City, model="m", messages=[]).choices[0].message)
reveal_type(client.chat.parse_stream(City, model="m", messages=[]))
reveal_type(client.responses.create(model="m", input="x"))
reveal_type(client.responses.create(model="m", input="x", stream=True))
reveal_type(MistralAzure("k", server_url="https://a.test").chat.stream(messages=[]))
reveal_type(MistralGCP("p", access_token="t").fim.complete(model="m", prompt="x"))

async def use() -> None:
    reveal_type(await client.audio.speech.complete_async(input="x", stream=True))
    reveal_type(client.audio.transcriptions.stream_async(model="m", file=b"x"))
    reveal_type(await client.chat.parse_async(City, model="m", messages=[]))
    reveal_type(await client.responses.create_async(model="m", input="x", stream=True))

client.audio.speech.complete(input="x", voice="v")
client.audio.transcriptions.complete(model="m", granularity=["word"])
client.chat.parse(City, model="m", messages=[], response_format=City)
MistralGCP("p", access_token="t").chat.complete(messages=[])
client.responses.create(model="m", input="x", store=True)
"""
MODULE = snippet("snippet", SNIPPET)  # the module name shows in revealed types: snippet.City

EXPECTED = [
    "levante.models.audio.SpeechResponse",
    "levante.resources.audio.SpeechStream",
    "levante.models.audio.SpeechResponse",
    "levante.resources.audio.TranscriptionStream",
    "levante.models.audio.TranscriptionResponse",
    "levante.models.structured.ParsedAssistantMessage[snippet.City] | None",
    "levante.resources.parse.ParsedChatCompletionStream[snippet.City]",
    "levante.models.responses.CreateResponseResponse",
    "levante.resources.responses.ResponseStream",
    "levante.resources.chat.ChatCompletionStream",
    "levante.models.fim.FIMCompletionResponse",
    "levante.resources.audio.SpeechStreamAsync",
    "levante._streaming._context.AsyncStreamContext[levante.resources.audio.TranscriptionStreamAsync]",
    "levante.models.structured.ParsedChatCompletionResponse[snippet.City]",
    "levante.resources.responses.ResponseStreamAsync",
]


def test_mypy_knows_the_return_types(mypy_snippets: Checked) -> None:
    assert mypy_snippets.status == 1, mypy_snippets.stderr
    lines = mypy_snippets.lines(MODULE)
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
    assert len(errors) == 5, errors
    voice, granularity, twice, no_model, store = (errors[line] for line in sorted(errors))
    assert '"store"' in store
    assert '"voice"' in voice and '"granularity"' in granularity
    assert "response_format" in twice  # the model class, then again as a keyword
    assert '"model"' in no_model  # Vertex AI needs the model
