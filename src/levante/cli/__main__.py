"""``python -m levante.cli``: the same as the ``levante`` command."""

from ._main import run

run()
