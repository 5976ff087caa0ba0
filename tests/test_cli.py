"""The ``levante`` command end to end, in subprocesses, against real dev servers."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from clitools import TIMEOUT, closed_port, env, levante
from levante.cli._args import build_parser
from levante.devserver import EmbeddedServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    # strict: the unknown-model test needs the API's 400 (levante serve --strict-models)
    with EmbeddedServer(strict_models=True) as srv:
        yield srv


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(api_key="right-key") as srv:
        yield srv


def test_one_shot_streams_from_the_embedded_server() -> None:
    result = levante("chat", "--max-tokens", "20", "Tell me about the levante wind")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The levante is an easterly wind of the western")
    assert len(result.stdout.split()) == 20
    notice, stats = result.stderr.strip().splitlines()
    assert notice.startswith(
        "levante: no MISTRAL_API_KEY: using the built-in dev server at http://127.0.0.1:"
    )
    assert "first token" in stats and "tokens/s" in stats and "finish length" in stats
    assert "completion = " in stats


Cli = Callable[..., tuple[int, str, str]]


def test_one_shot_against_a_server_url(server: EmbeddedServer, cli: Cli) -> None:
    code, out, err = cli(
        "chat", "--server-url", server.url, "--model", "levante-echo", "--quiet", "one  two three"
    )
    assert (code, out, err) == (0, "one  two three\n", "")


def test_json_lines_are_the_raw_chunks(server: EmbeddedServer, cli: Cli) -> None:
    code, out, err = cli(
        "chat", "--server-url", server.url, "-m", "levante-long", "--max-tokens", "5", "--json", "x"
    )
    assert code == 0, err
    chunks = [json.loads(line) for line in out.splitlines()]
    assert len(chunks) == 6
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert "finish length" in err


def test_system_temperature_and_max_tokens_are_sent(server: EmbeddedServer, cli: Cli) -> None:
    code, out, err = cli(
        "chat", "--server-url", server.url, "-m", "levante-echo", "--system", "be terse",
        "--temperature", "0.2", "--max-tokens", "2", "a b c d",
    )  # fmt: skip
    assert (code, out) == (0, "a b \n"), err
    # the system message counts in the prompt: 2 messages, 2 + 4 tokens
    assert "usage 8 prompt + 2 completion" in err


def test_key_and_url_from_the_environment(
    keyed_server: EmbeddedServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "right-key")
    monkeypatch.setenv("MISTRAL_SERVER_URL", keyed_server.url + "/v1/")  # OpenAI-style is fine
    code, out, err = cli("models")
    assert code == 0, err
    assert "levante-echo" in out.split()


def test_models_lists_ids_and_json(server: EmbeddedServer, cli: Cli) -> None:
    code, out, _ = cli("models", "--server-url", server.url)
    assert code == 0
    ids = out.split("\n")
    assert ids[:3] == ["levante-echo", "levante-long", "levante-chat"]
    assert "mistral-small-latest" in ids
    code, out, _ = cli("models", "--server-url", server.url, "--json")
    listing = json.loads(out)
    assert [card["id"] for card in listing["data"]] == [i for i in ids if i]


def test_piped_stdin_is_one_message(server: EmbeddedServer) -> None:
    text = "hello\n\nsecond line\n/exit\nstill the same message\n"
    result = levante("chat", "--server-url", server.url, "-m", "levante-echo", input=text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == text  # plain output: stdout is a pipe
    (stats,) = result.stderr.splitlines()
    assert "usage 9 prompt" in stats  # one user message of 8 tokens, plus 1
    empty = levante("chat", "--server-url", server.url, input=" \n")
    assert (empty.returncode, empty.stderr) == (
        2,
        "levante: nothing to send: no PROMPT, and stdin is empty\n",
    )


def test_interrupting_a_one_shot_reply_exits_130_and_closes_the_stream() -> None:
    with EmbeddedServer(tokens_per_second=20) as srv:
        process = subprocess.Popen(
            [sys.executable, "-m", "levante.cli", "chat", "--server-url", srv.url,
             "-m", "levante-long", "--max-tokens", "500", "go"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
        )  # fmt: skip
        try:
            assert process.stdout is not None
            first = process.stdout.read(10)  # blocks until the reply is streaming
            assert first
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=TIMEOUT)
        finally:
            process.kill()
            process.wait()
        assert process.returncode == 130
        assert b"Traceback" not in err
        assert b"reply interrupted" in err
        deadline = time.monotonic() + 5
        while srv.stats()["open"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.stats() == {"open": 0, "completed": 0, "aborted": 1}


def test_serve_runs_until_interrupted() -> None:
    port = closed_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "levante.cli", "serve", "--port", str(port), "--api-key", "k",
         "--tokens-per-second", "1000", "--fault", "no-done", "--strict-models"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        import httpx2

        body = {"model": "levante-echo", "messages": [{"role": "user", "content": "a b"}]}
        with httpx2.Client(base_url=url, headers={"authorization": "Bearer k"}) as client:
            streamed = client.post("/v1/chat/completions", json={**body, "stream": True})
            assert streamed.status_code == 200
            assert b"[DONE]" not in streamed.content  # the server-wide --fault applies
            unknown = client.post("/v1/chat/completions", json={**body, "model": "gpt-nine"})
            assert unknown.status_code == 400  # --strict-models
            assert unknown.json()["type"] == "invalid_model"
            assert (
                client.get("/v1/models", headers={"authorization": "Bearer no"}).status_code == 401
            )
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130  # uvicorn shuts down, then re-raises the SIGINT
    assert b"dev server models: levante-echo" in err
    assert b"Traceback" not in err


def test_parser_defaults() -> None:
    args = build_parser().parse_args(["chat"])
    assert args.prompt is None and args.model == "mistral-small-latest" and args.retries == 2
    serve = build_parser().parse_args(["serve", "--port", "0", "--ttft", "0.5"])
    assert (serve.host, serve.port, serve.ttft, serve.tokens_per_second) == (
        "127.0.0.1",
        0,
        0.5,
        None,
    )
