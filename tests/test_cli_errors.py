"""How ``levante`` fails: the error table, Ctrl-C at startup, closed pipes, odd encodings, help.

Every row of the table runs the real command in a subprocess and checks its exit code and
that stderr is exactly one ``levante: ...`` line, with no traceback.
"""

from __future__ import annotations

import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from clitools import TIMEOUT, closed_port, env, levante
from levante.cli import main
from levante.devserver import EmbeddedServer


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    """The servers rows refer to as {keyed}, {faulty}, {strict} and {closed}."""
    with (
        EmbeddedServer(api_key="right-key") as keyed,
        EmbeddedServer(faults="error-after=2") as faulty,
        EmbeddedServer(strict_models=True) as strict,
    ):
        yield {
            "keyed": keyed.url,
            "faulty": faulty.url,
            "strict": strict.url,
            "closed": f"http://127.0.0.1:{closed_port()}",
        }


# (command, environment, exit code, the stderr line: a prefix, after "levante: ")
ERROR_TABLE = [
    ("chat --server-url 127.0.0.1:8001 hi", {}, 2,
     "argument --server-url: '127.0.0.1:8001' has no scheme; did you mean "
     "'http://127.0.0.1:8001'? (see 'levante chat --help')"),
    ("chat --server-url ftp://x hi", {}, 2,
     "argument --server-url: unsupported scheme 'ftp' in 'ftp://x': use http:// or https://"),
    ("models --server-url http://", {}, 2, "argument --server-url: 'http://' has no host"),
    ("models --server-url http://h:99999", {}, 2,
     "argument --server-url: 'http://h:99999' has a bad port"),
    ("chat --api-key clé hi", {}, 2,
     "argument --api-key: an API key is printable ASCII without spaces, and this one has 'é'"),
    ("models", {"MISTRAL_API_KEY": "clé"}, 2, "MISTRAL_API_KEY: an API key is printable ASCII"),
    ("models", {"MISTRAL_SERVER_URL": "localhost:9"}, 2,
     "MISTRAL_SERVER_URL: 'localhost:9' has no scheme; did you mean 'http://localhost:9'?"),
    ("chat --temperature hot x", {}, 2,
     "argument --temperature/-t: must be a number >= 0, got 'hot' (see 'levante chat --help')"),
    ("chat --max-tokens 0 x", {}, 2, "argument --max-tokens: must be a whole number > 0, got '0'"),
    ("chat --bogus x", {}, 2, "unrecognized arguments: --bogus (see 'levante chat --help')"),
    ("bench --concurrency two", {}, 2, "argument --concurrency/-c: must be a whole number > 0"),
    ("models --retries -1", {}, 2, "argument --retries: must be a whole number >= 0, got '-1'"),
    ("serve --port 70000", {}, 2, "argument --port: must be a port number from 0 to 65535"),
    ("serve --port 0 --fault explode", {}, 2, "--fault: unknown fault 'explode'"),
    ("serve --host nosuch.invalid --port 0", {}, 2, "cannot listen on nosuch.invalid:0: "),
    ("nope", {}, 2, "argument COMMAND: invalid choice: 'nope'"),
    ("", {}, 2, "missing COMMAND (see 'levante --help')"),
    ("chat --server-url {closed} --retries 0 hi", {}, 3,
     "connection failed: POST {closed}/v1/chat/completions failed (ConnectError"),
    ("models --server-url {closed} --retries 0", {}, 3,
     "connection failed: GET {closed}/v1/models"),
    ("chat --server-url {keyed} --api-key wrong hi", {}, 1,
     "authentication failed (401): Unauthorized"),
    ("models", {"MISTRAL_SERVER_URL": "{keyed}", "MISTRAL_API_KEY": "wrong"}, 1,
     "authentication failed (401)"),
    ("chat --server-url {strict} --model gpt-nine hi", {}, 1,
     "unknown model (400): Invalid model: gpt-nine"),
    ("chat --server-url {faulty} -m levante-echo -q 'a b c d e'", {}, 1,
     "stream failed (StreamAPIError): "),
]  # fmt: skip


def _check_row(code: int, line: str, returncode: int, stderr: str) -> None:
    assert returncode == code, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("levante: " + line), lines[0]
    assert "wrong" not in stderr and "Traceback" not in stderr  # a key never shows


@pytest.mark.parametrize(
    ("command", "environment", "code", "line"), ERROR_TABLE, ids=[row[0] for row in ERROR_TABLE]
)
def test_error_table(
    command: str,
    environment: dict[str, str],
    code: int,
    line: str,
    urls: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process, for speed: the same main() the console script runs, minus the interpreter
    # start (test_error_table_in_a_real_process covers that path for a few rows).
    for name in ("MISTRAL_API_KEY", "MISTRAL_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value.format(**urls))
    returncode = main(shlex.split(command.format(**urls)))
    _check_row(code, line.format(**urls), returncode, capsys.readouterr().err)


@pytest.mark.parametrize("row", [0, 17], ids=lambda i: ERROR_TABLE[i][0])
def test_error_table_in_a_real_process(row: int, urls: dict[str, str]) -> None:
    command, environment, code, line = ERROR_TABLE[row]
    result = levante(
        *shlex.split(command.format(**urls)),
        extra_env={k: v.format(**urls) for k, v in environment.items()},
    )
    _check_row(code, line.format(**urls), result.returncode, result.stderr)


def test_closed_stdout_exits_0_quietly() -> None:
    # `levante chat ... | head -c 20`: the reader goes away mid-reply
    read, write = os.pipe()
    with subprocess.Popen(
        [sys.executable, "-m", "levante.cli", "chat", "Tell me about the levante wind"],
        stdout=write, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env(),
    ) as process:  # fmt: skip
        os.close(write)
        assert os.read(read, 20)
        os.close(read)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert b"Traceback" not in err and b"Exception" not in err
    assert err.decode().splitlines() == [
        line for line in err.decode().splitlines() if line.startswith("levante: no MISTRAL")
    ]


def test_any_stdout_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # as with PYTHONIOENCODING=latin-1: a stdout that cannot encode everything
    with EmbeddedServer() as server:
        raw = io.BytesIO()
        latin = io.TextIOWrapper(raw, encoding="latin-1", errors="strict", write_through=True)
        monkeypatch.setattr(sys, "stdout", latin)
        code = main(["chat", "--server-url", server.url, "-m", "levante-echo", "-q", "café 日本"])
        monkeypatch.undo()
    assert code == 0
    assert raw.getvalue() == "café ??\n".encode("latin-1")  # what latin-1 can show


def test_version_and_help_start_without_the_client() -> None:
    version = levante("--version")
    assert (version.returncode, version.stdout, version.stderr) == (0, "levante 0.1.0\n", "")
    code = (
        "import sys; from levante.cli import main; code = main(['chat', '--help']); "
        "heavy = [m for m in ('httpx2', 'pydantic', 'anyio', 'levante.client') "
        "if m in sys.modules]; print(code, heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, env=env()
    )
    assert result.stdout.splitlines()[-1] == "0 []"


@pytest.mark.parametrize("command", ["chat", "serve", "models", "bench"])
def test_every_option_has_help_with_its_default(command: str) -> None:
    from levante.cli._args import build_parser

    parser = build_parser()
    sub = next(action for action in parser._actions if action.dest == "command").choices[command]  # type: ignore[index]
    text = sub.format_help()
    for action in sub._actions:
        if action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
        if action.option_strings and action.default is not None and action.default is not False:
            assert f"(default: {action.default})" in " ".join(text.split()), action.dest
    assert "exit codes: 0 ok" in text


@pytest.mark.parametrize("delay", [0.4, 0.7, 1.0])
def test_ctrl_c_while_starting_exits_130_quietly(delay: float) -> None:
    # A chat against the embedded server imports the client and the dev server and starts
    # uvicorn: a Ctrl-C at any point of that is exit 130 with nothing on stderr.
    with subprocess.Popen(
        [sys.executable, "-m", "levante.cli", "chat", "-m", "levante-long", "hi"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env(),
    ) as process:  # fmt: skip
        try:
            process.wait(delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, err
    assert b"Traceback" not in err and b"Exception" not in err, err
    lines = err.decode().splitlines()
    assert all(line.startswith("levante: ") for line in lines), err


def test_serve_on_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = levante("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == f"levante: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_a_ctrl_c_swallowed_by_a_callback_is_raised_again() -> None:
    # A SIGINT can land inside a weakref callback (importlib's module locks use them), where
    # Python prints "Exception ignored" and drops the KeyboardInterrupt: levante raises it
    # again once the callback is over, so the command still stops.
    import weakref

    from levante.cli._signals import Interrupted, take_over_ctrl_c

    class Thing:
        pass

    def callback(_: object) -> None:
        raise KeyboardInterrupt  # as the signal handler would, inside the callback

    restore = take_over_ctrl_c()
    try:
        with pytest.raises(KeyboardInterrupt):
            thing = Thing()
            ref = weakref.ref(thing, callback)
            del thing  # the callback runs, and its KeyboardInterrupt is "ignored"...
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # ...then raised again, here
                time.sleep(0.001)
        assert ref() is None
        assert Interrupted.seen
    finally:
        restore()
