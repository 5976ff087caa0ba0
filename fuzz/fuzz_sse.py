"""Long-running random fuzzer for levante.sse (pure Python, no atheris needed).

``python fuzz/fuzz_sse.py [--seconds 60] [--seed N]``

Each round draws an SSE-ish byte stream (field names, colons, every line end, BOM pieces,
invalid and split UTF-8, NUL, random bytes), cuts it into random reads (empty ones
included) and checks, against the reference decoder in ``tests/sse_reference.py``:

- without a size limit, the decoder observes exactly what the reference does, chunked and
  whole, including across a reconnection (``end()`` then a second stream);
- with a random small limit, the outcome does not depend on the chunking, matches the
  reference's model of the limit, and nothing but ``EventTooLarge`` escapes ``feed``/``end``.

The first failure is printed as a ready-to-paste reproducer and the script exits 1. The
unit tests run the same checks through hypothesis with a small budget; this script is for
spending minutes or hours on it.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from levante.sse import SSEDecoder
from sse_reference import Outcome, drive, reference_decode

_TOKENS = [
    *(b"data", b"data:", b"data: ", b"event:", b"event: ", b"id:", b"id: ", b"retry:"),
    *(b"retry: ", b"retry: 15", b":", b": ", b" ", b"\r", b"\n", b"\r\n", b"\n\n"),
    *(b"\r\r", b"\xef\xbb\xbf", b"\xef", b"\xbb", b"\xbf", b"\xc3\xa9", b"\xc3", b"\xa9"),
    *(b"\xe2\x80\xa8", b"\xc2\x85", b"\xf0\x9f\x8c\xac", b"\xf0\x9f", b"\xff", b"\x00"),
    *(b"x", b"7", b"42", b"+", b"-", b"\t", b"ping"),
]


def _stream(rng: random.Random) -> bytes:
    out = []
    for _ in range(rng.randint(0, 60)):
        if rng.random() < 0.85:
            out.append(rng.choice(_TOKENS))
        else:
            out.append(rng.randbytes(rng.randint(1, 4)))
    return b"".join(out)


def _cut(rng: random.Random, data: bytes) -> list[bytes]:
    marks = sorted(rng.randint(0, len(data)) for _ in range(rng.randint(0, 12)))
    bounds = [0, *marks, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def check(rng: random.Random) -> str | None:
    """Run one round; return a reproducer if something is wrong."""
    first, second = _stream(rng), _stream(rng)
    cuts1, cuts2 = _cut(rng, first), _cut(rng, second)
    decoder = SSEDecoder(max_event_size=None)
    got1, _ = drive(cuts1, decoder)
    got2, _ = drive(cuts2, decoder)
    want1 = reference_decode(first)
    want2 = reference_decode(second, last_event_id=want1.last_event_id, retry=want1.retry)
    if (got1, got2) != (want1, want2):
        return f"reference mismatch\nfirst={cuts1!r}\nsecond={cuts2!r}\n{got1=}\n{want1=}"
    limit = rng.randint(1, 40)
    whole: Outcome
    whole, whole_errors = drive([first], max_event_size=limit)
    chunked, chunked_errors = drive(cuts1, max_event_size=limit)
    if whole != chunked or bool(whole_errors) != bool(chunked_errors):
        return f"limit {limit} depends on chunking\nchunks={cuts1!r}\n{whole=}\n{chunked=}"
    want = reference_decode(first, max_event_size=limit)
    if chunked != want:
        return f"limit {limit} reference mismatch\nchunks={cuts1!r}\n{chunked=}\n{want=}"
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
