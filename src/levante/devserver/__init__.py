"""A Mistral-compatible dev server: deterministic fake models, pacing and fault injection.

Needs the ``server`` extra (starlette and uvicorn).  The client never imports this package.

>>> from levante.devserver import EmbeddedServer  # doctest: +SKIP
>>> with EmbeddedServer(tokens_per_second=100) as server:
...     ...  # point any Mistral or OpenAI client at server.url

- :func:`create_app` builds the Starlette app (endpoints: :mod:`levante.devserver.app`);
- :func:`serve` runs it in the foreground (``levante serve``);
- :class:`EmbeddedServer` runs it on a free loopback port in a background thread;
- models: :mod:`levante.devserver.engine`; the ``X-Levante-Fault`` grammar:
  :mod:`levante.devserver.faults`.
"""

from .app import TPS_HEADER, TTFT_HEADER, ServerStreamCounts, create_app
from .engine import MODELS, ModelSpec
from .faults import FAULT_HEADER, FaultError, FaultPlan, parse_faults
from .runner import EmbeddedServer, serve

__all__ = [
    "FAULT_HEADER",
    "MODELS",
    "TPS_HEADER",
    "TTFT_HEADER",
    "EmbeddedServer",
    "FaultError",
    "FaultPlan",
    "ModelSpec",
    "ServerStreamCounts",
    "create_app",
    "parse_faults",
    "serve",
]
