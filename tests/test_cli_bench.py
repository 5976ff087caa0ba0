"""``levante bench``: its figures against servers whose pacing is known, its load shapes,
early stops, Ctrl-C, and the arithmetic of its report."""

from __future__ import annotations

import json
import math
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from clitools import TIMEOUT, Terminal, closed_port, env
from levante.cli._bench_stats import Record, Report, percentile, render, summary
from levante.cli.bench import arrivals
from levante.devserver import EmbeddedServer

Cli = Callable[..., tuple[int, str, str]]
TTFT, RATE, TOKENS = 1.0, 40.0, 20  # the paced server of the validation run


def within(measured: float | None, expected: float, tolerance: float = 0.05) -> bool:
    return measured is not None and abs(measured - expected) <= tolerance * expected


@pytest.fixture(scope="module")
def paced_serve() -> Iterator[str]:
    """``levante serve --ttft 1 --tokens-per-second 40``, in its own process."""
    port = closed_port()
    argv = ["serve", "--port", str(port), "--ttft", str(TTFT), "--tokens-per-second", str(RATE)]
    with subprocess.Popen(
        [sys.executable, "-m", "levante.cli", *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(),
    ) as process:  # fmt: skip
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline and process.poll() is None
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(TIMEOUT)


@pytest.fixture(scope="module")
def fast_server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(tokens_per_second=1000) as srv:
        yield srv


def bench_json(cli: Cli, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli("bench", "--json", *args)
    return code, json.loads(out), err


def test_figures_match_a_paced_levante_serve(paced_serve: str, cli: Cli) -> None:
    code, data, err = bench_json(
        cli, "--server-url", paced_serve, "-m", "levante-long", "--max-tokens", str(TOKENS),
        "-n", "4", "-c", "2", "--prompt-tokens", "64",
    )  # fmt: skip
    assert code == 0, err
    # What the server was told: the first token after TTFT, then one every 1/RATE; the
    # end of the stream (the usage chunk) one interval after the last token. Two at a
    # time, so that the server's own work on simultaneous requests (it handles them one
    # after the other) stays well under 5% even on a busy machine.
    itl = 1 / RATE
    expected = {
        "ttft_ms": TTFT * 1000,
        "itl_ms": itl * 1000,
        "tpot_ms": TOKENS * itl / (TOKENS - 1) * 1000,
        "e2e_ms": (TTFT + TOKENS * itl) * 1000,
    }
    for metric, value in expected.items():
        for stat in ("mean", "p50"):
            assert within(data[metric][stat], value), (metric, stat, data[metric], value)
    # 4 requests, 2 at a time: two rounds of one request's E2E (as measured: the machine's
    # own overhead, counted twice here, is not the pacing's)
    assert within(data["requests_per_s"], 4 / (2 * data["e2e_ms"]["mean"] / 1000))
    assert within(data["output_tokens_per_s"], TOKENS * data["requests_per_s"], 0.001)
    assert (data["completed"], data["failed"], data["cancelled"]) == (4, 0, 0)
    # tokens from usage: the dev server counts a word as a token, +1 per message
    assert (data["input_tokens"], data["output_tokens"]) == (4 * 65, 4 * TOKENS)
    assert data["tokens_from_usage"] is True


def test_the_embedded_server_is_paced_and_says_so(cli: Cli) -> None:
    code, data, err = bench_json(cli, "-n", "4", "-c", "2", "--max-tokens", "10")
    assert code == 0, err
    notices = err.splitlines()
    assert notices[0].startswith("levante: no MISTRAL_API_KEY: using the built-in dev server")
    assert notices[1] == (
        "levante: benchmarking the dev server, paced like a model: 0.2 s to the first token, "
        "50 tokens/s per stream (--dev-ttft, --dev-tokens-per-second); the figures measure "
        "levante, not a model"
    )
    assert data["model"] == "levante-long"
    assert data["ttft_ms"]["p50"] >= 200  # never faster than the pacing
    assert within(data["itl_ms"]["mean"], 20.0)


def test_text_report(fast_server: EmbeddedServer, cli: Cli) -> None:
    code, out, _ = cli(
        "bench", "--server-url", fast_server.url, "-m", "levante-long", "-n", "6", "-c", "3",
        "--max-tokens", "5",
        "--warmup", "0",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"server            {fast_server.url} (model levante-long)"
    assert lines[1] == "load              6 requests, concurrency 3, closed loop"
    assert lines[3] == "requests          6 ok, 0 failed"
    assert lines[6].startswith("output tokens     30 (") and lines[6].endswith(", from usage")
    assert lines[7].split() == ["mean", "p50", "p90", "p95", "p99", "max"]
    assert [line.split()[0] for line in lines[8:]] == ["TTFT", "ITL", "TPOT", "E2E"]


def test_rate_duration_and_prompt_file(
    fast_server: EmbeddedServer, cli: Cli, tmp_path: pathlib.Path
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("one two three\n\nfour five\n")
    started = time.monotonic()
    code, data, err = bench_json(
        cli, "--server-url", fast_server.url, "--rate", "20", "--duration", "1", "-c", "4",
        "--max-tokens", "3", "--prompt-file", str(prompts), "--warmup", "0",
    )  # fmt: skip
    assert code == 0, err
    assert 1.0 <= time.monotonic() - started < 5
    assert data["load"] == "1 s, concurrency 4, 20/s Poisson arrivals"
    assert data["prompts"] == f"2 prompts from {prompts}"
    # Poisson arrivals at 20/s for 1 s: 20 expected; more than 40 or under 5 is ~1e-5 likely
    assert 5 <= data["completed"] <= 40
    # prompts used in turn: 4 tokens, then 3 (a word a token, +1 for the message)
    done = data["completed"]
    assert data["input_tokens"] == 4 * ((done + 1) // 2) + 3 * (done // 2)


def test_poisson_arrivals() -> None:
    gap = arrivals(50.0, seed=7)
    gaps = [gap() for _ in range(20000)]
    assert within(sum(gaps) / len(gaps), 1 / 50, 0.03)
    # exponential: about e^-1 of the gaps are longer than the mean
    assert within(sum(g > 1 / 50 for g in gaps) / len(gaps), math.exp(-1), 0.05)
    again = arrivals(50.0, seed=7)
    assert [again() for _ in range(5)] == gaps[:5]


@pytest.mark.parametrize("where", ["keyed", "closed"])
def test_stops_at_once_on_a_wrong_key_or_no_server(where: str, cli: Cli) -> None:
    with EmbeddedServer(api_key="right") as keyed:
        url = keyed.url if where == "keyed" else f"http://127.0.0.1:{closed_port()}"
        code, data, err = bench_json(
            cli, "--server-url", url, "--api-key", "wrong", "-n", "200", "-c", "4"
        )
    assert code == 3
    assert data["completed"] == 0 and data["stopped"]
    assert data["failed"] + data["cancelled"] <= 4  # the warm-up request stopped the run
    reason = "authentication failed (401)" if where == "keyed" else "connection failed"
    assert err.splitlines()[-1].startswith(f"levante: bench stopped: {reason}")


def test_failures_are_counted_by_type(cli: Cli) -> None:
    with EmbeddedServer(faults="error-after=2", tokens_per_second=1000) as faulty:
        code, data, _ = bench_json(
            cli, "--server-url", faulty.url, "-n", "5", "-c", "2", "--warmup", "0"
        )
    assert code == 1
    assert (data["completed"], data["failed"]) == (0, 5)
    assert data["errors"] == {"StreamAPIError": 5}
    assert data["ttft_ms"]["mean"] is None


def test_ctrl_c_prints_the_summary(tmp_path: pathlib.Path) -> None:
    # a pty: the live progress line shows (stderr is a terminal), then Ctrl-C
    term = Terminal(
        "bench", "-n", "1000", "-c", "4", "--max-tokens", "200", "--dev-tokens-per-second",
        "100", "--warmup", "0", columns=120,
    )  # fmt: skip
    try:
        term.expect(r"\d+/1000 done, 4 in flight, 0 failed, [\d.]+ s", timeout=20)
        term.send(b"\x03")
        assert term.wait() == 130
        screen = term.screen
        assert "requests          0 ok, 0 failed, 4 cancelled" in screen
        assert "interrupted (Ctrl-C): the figures cover the requests done by then" in screen
        assert "Traceback" not in screen
    finally:
        term.close()


def test_summary_arithmetic() -> None:
    records = [
        Record(0.0, ttft=0.1, e2e=0.5, itl=[0.1] * 4, chunks=5, prompt_tokens=10,
               completion_tokens=5),
        Record(0.0, ttft=0.3, e2e=0.7, itl=[0.2, 0.2], chunks=3, prompt_tokens=12),
        Record(0.0, error="RateLimitError (429)"),
    ]  # fmt: skip
    data = Report(records, duration=2.0, about={"server": "s", "model": "m"}).as_dict()
    assert (data["completed"], data["failed"], data["errors"]) == (
        2, 1, {"RateLimitError (429)": 1},
    )  # fmt: skip
    assert data["requests_per_s"] == 1.0
    assert (data["input_tokens"], data["output_tokens"]) == (22, 8)  # 5 from usage, 3 counted
    assert data["tokens_from_usage"] is False
    assert data["ttft_ms"]["mean"] == pytest.approx(200.0)
    assert data["ttft_ms"]["max"] == pytest.approx(300.0)
    assert data["tpot_ms"]["p50"] == pytest.approx(150.0)  # (0.4/4 + 0.4/2) / 2
    assert data["itl_ms"]["p90"] == pytest.approx(200.0)
    text = render(data)
    assert "failures          1 RateLimitError (429)" in text
    assert "chunks counted: no usage sent" in text
    assert summary([])["p99"] is None


def test_percentile() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([5.0], 99) == 5.0
    assert percentile([0.0, 10.0], 90) == pytest.approx(9.0)
    assert math.isnan(percentile([], 50))
