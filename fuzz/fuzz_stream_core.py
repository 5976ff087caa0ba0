"""Long-running random fuzzer for the sans-IO stream core (levante._streaming._core).

``python fuzz/fuzz_stream_core.py [--seconds 60] [--seed N]``

Each round draws a body of SSE events shaped like the streams levante reads (JSON data,
the ``[DONE]`` sentinel, terminal and error event types, error-shaped payloads, comments,
undecodable data, a cut last event), an end rule of each kind, and random reads, and steps
the core as a twin does. It checks:

- the outcome (items, final step, error type and message, stats) does not depend on how
  the body was cut into reads;
- it is what a plain model of the end rules says, applied to the events the reference
  decoder (``tests/sse_reference.py``) finds in the whole body;
- the state only moves forward, and the stats count what was delivered and read.

The first failure is printed as a reproducer and the script exits 1.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from levante._streaming._core import StreamCore
from levante._streaming._end import EndRule
from levante._streaming._state import CHECKPOINT, DRAIN, FAIL, LOST, READ, STOP, Step
from levante.sse import ServerSentEvent
from sse_reference import reference_decode

_BLOCKS = [
    b"data: 1\n\n",
    b"data: 22\n\n",
    b'data: {"error": null}\n\n',
    b'data: {"error": {"message": "boom"}}\n\n',
    b'data: {"object": "error", "message": "m"}\n\n',
    b"data: [DONE]\n\n",
    b"event: done\ndata: 3\n\n",
    b"event: failed\ndata: 4\n\n",
    b"event: error\ndata: oops\n\n",
    b"event: delta\ndata: 5\n\n",
    b": keep-alive\n\n",
    b"data: {bad\n\n",
    b"id: 9\ndata: 6\n\n",
    b"data: 7\r\n\r\n",
]
_RULES = [
    EndRule.at_sentinel(),
    EndRule.at_event({"done"}),
    EndRule.at_event({"done"}, errors={"error", "failed"}),
    EndRule.at_body_end(),
    EndRule.at_body_end(error_payloads=False),
]


def decode(event: ServerSentEvent) -> Any:
    return json.loads(event.data)


def run(rule: EndRule, reads: list[bytes]) -> tuple[Any, ...]:
    """Step a core over ``reads`` as a twin would; the outcome, as comparable data."""
    core = StreamCore(decode, end=rule)
    script = iter(reads)
    items: list[Any] = []
    states = [core._state]
    while True:
        step = core._step()
        states.append(core._state)
        if step is READ:
            data = next(script, None)
            if data is None:
                core._body_ended()
            else:
                core._feed(data)
        elif step is CHECKPOINT:
            raise AssertionError("a core that is not fair asked for a checkpoint")
        elif isinstance(step, Step):
            break
        else:
            items.append(step)
    if states != sorted(states):
        raise AssertionError(f"the state moved backwards: {states}")
    stats = core.stats
    if stats.events != len(items):
        raise AssertionError(f"stats.events={stats.events}, {len(items)} delivered")
    failure = core._failure
    error = None if failure is None else (type(failure).__name__, str(failure))
    # Bytes read depend on the reads only when the body was read to its end.
    return items, step.name, error, stats.bytes if step in (STOP, LOST) else None


def model(rule: EndRule, body: bytes) -> tuple[Any, ...]:
    """What the end rules say, over the reference decoder's events, written plainly."""
    outcome = reference_decode(body)
    items: list[Any] = []
    for event in outcome.events:
        if rule.sentinel is not None and event.data == rule.sentinel:
            return items, DRAIN.name, None, None
        terminal = event.event in rule.terminal
        if not terminal and event.event in rule.errors:
            return items, FAIL.name, ("StreamAPIError", None), None
        try:
            payload = json.loads(event.data)
        except ValueError:
            return items, FAIL.name, ("StreamDecodeError", None), None
        if (
            not terminal
            and rule.error_payloads
            and isinstance(payload, dict)
            and (payload.get("error") is not None or payload.get("object") == "error")
        ):
            return items, FAIL.name, ("StreamAPIError", None), None
        items.append(payload)
        if terminal:
            return items, DRAIN.name, None, None
    if outcome.truncated or rule.kind != "body":
        return items, LOST.name, ("IncompleteStreamError", None), len(body)
    return items, STOP.name, None, len(body)


def _cut(rng: random.Random, data: bytes) -> list[bytes]:
    marks = sorted(rng.randint(0, len(data)) for _ in range(rng.randint(0, 12)))
    bounds = [0, *marks, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def check(rng: random.Random) -> str | None:
    """Run one round; return a reproducer if something is wrong."""
    body = b"".join(rng.choice(_BLOCKS) for _ in range(rng.randint(0, 12)))
    if rng.random() < 0.2:
        body += rng.choice(_BLOCKS)[: -rng.randint(1, 3)]  # a cut last event
    rule = rng.choice(_RULES)
    reads = [piece for piece in _cut(rng, body) if piece]
    try:
        whole = run(rule, [body] if body else [])
        chunked = run(rule, reads)
    except AssertionError as exc:
        return f"{exc}\nrule={rule!r}\nreads={reads!r}"
    if whole != chunked:
        return f"outcome depends on the reads\nrule={rule!r}\nreads={reads!r}\n{whole=}\n{chunked=}"
    want = model(rule, body)
    got = (*chunked[:2], chunked[2] and (chunked[2][0], None), chunked[3])
    if got != want:
        return f"model mismatch\nrule={rule!r}\nreads={reads!r}\n{got=}\n{want=}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    deadline = time.monotonic() + args.seconds
    rounds = 0
    while time.monotonic() < deadline:
        failure = check(rng)
        rounds += 1
        if failure:
            print(f"FAILED after {rounds} rounds (seed {seed}):\n{failure}")
            return 1
    print(f"ok: {rounds} rounds in {args.seconds:g} s, seed {seed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
