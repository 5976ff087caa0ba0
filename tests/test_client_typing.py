"""The resources' keyword arguments are type-checked: mypy rejects misspelt, missing and
mistyped arguments, and infers the stream types."""

from __future__ import annotations

from typecheck import Checked, snippet

SNIPPET = """
from levante.client import Mistral

client = Mistral(api_key="k")
client.chat.stream(model="m", messages=[{"role": "user", "content": "x"}], temprature=1)
client.chat.complete(model=3, messages=[])
client.fim.stream(model="m")
client.conversations.append_stream(conversation_id="c", inputs="x", store="yes")
client.models.list(timeout_ms="soon")
reveal_type(client.chat.stream(model="m", messages=[], stream=True, timeout_ms=500))
reveal_type(client.beta.conversations.start_stream(inputs="x"))
"""
ARGUMENTS = snippet("snippet_arguments", SNIPPET)


def test_mypy_checks_resource_arguments(mypy_snippets: Checked) -> None:
    assert mypy_snippets.status == 1, mypy_snippets.stderr
    lines = mypy_snippets.lines(ARGUMENTS)
    errors = [line.split(": error: ", 1)[1] for line in lines if ": error: " in line]
    assert any('Unexpected keyword argument "temprature"' in e for e in errors)
    assert any('"model" to "complete" of "Chat" has incompatible type "int"' in e for e in errors)
    assert any('Missing named argument "prompt"' in e for e in errors)
    assert any('"store" to "append_stream"' in e for e in errors)
    assert any('"timeout_ms" to "list"' in e for e in errors)
    assert len(errors) == 5, errors
    notes = [line for line in lines if "Revealed type" in line]
    assert "levante.resources.chat.ChatCompletionStream" in notes[0]
    assert "EventStream[levante.models.conversations.ConversationEvents]" in notes[1]


OVERLOAD_SNIPPET = """
from levante import Mistral
from test_endpoint import Speech

speech = Speech(Mistral(api_key="k").chat._sender)
reveal_type(speech.complete(input="x"))
reveal_type(speech.complete(input="x", stream=False))
reveal_type(speech.complete(input="x", stream=True, idle_timeout=5))

async def use() -> None:
    reveal_type(await speech.complete_async(input="x", stream=True))
    reveal_type(await speech.complete_async(input="x"))

speech.complete(input="x", stream=True, voice="v")
"""
OVERLOADS = snippet("snippet_overloads", OVERLOAD_SNIPPET)


def test_mypy_knows_what_the_stream_flag_returns(mypy_snippets: Checked) -> None:
    # the Speech resource of tests/test_endpoint.py, declared as resources/_base.py says
    assert mypy_snippets.status == 1, mypy_snippets.stderr
    lines = mypy_snippets.lines(OVERLOADS)
    errors = [line.split(": error: ", 1)[1] for line in lines if ": error: " in line]
    assert errors and all("call-overload" in e for e in errors), errors
    assert 'Unexpected keyword argument "voice"' in errors[0]
    notes = [line.split("Revealed type is ", 1)[1] for line in lines if "Revealed type" in line]
    assert notes == [
        '"levante.models.audio.SpeechResponse"',
        '"levante.models.audio.SpeechResponse"',
        '"levante._streaming._sync.EventStream[levante.models.audio.SpeechStreamEvents]"',
        '"levante._streaming._async.EventStreamAsync[levante.models.audio.SpeechStreamEvents]"',
        '"levante.models.audio.SpeechResponse"',
    ]
