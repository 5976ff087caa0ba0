"""``levante``: stream chat replies from the Mistral API, or from levante's dev server.

Commands (one module each, imported only when that command runs)::

    levante chat [PROMPT]   stream one reply to stdout; without PROMPT, an interactive chat
    levante serve           run the Mistral-compatible dev server until Ctrl-C (exit 130)
    levante models          list the model ids the server offers
    levante bench           load-test a Mistral- or OpenAI-compatible server

Where requests go: ``--server-url`` (or ``MISTRAL_SERVER_URL``) when given; else the
Mistral API when an API key is set (``--api-key`` or ``MISTRAL_API_KEY``); else an embedded
dev server started in this process on a free loopback port (announced by one line on
stderr), whose ``levante-chat`` model (alias ``mistral-small-latest``, the default model)
answers in canned, deterministic text, paced so the streaming shows.

Exit codes:
    0    success (also when stdout is closed early, e.g. piped into ``head``)
    1    API or stream error (bad key, unknown model, an error inside the stream)
    2    usage error (bad arguments, a malformed URL or key)
    3    connection error (server unreachable, timeout)
    130  interrupted (Ctrl-C)

Expected failures print one line, ``levante: ...``, on stderr and no traceback.
"""

from ._main import main, run

__all__ = ["main", "run"]
