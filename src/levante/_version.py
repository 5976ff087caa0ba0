"""The one place levante's version is written: the package metadata (pyproject.toml reads
it from here), ``levante.__version__`` and the ``User-Agent`` header all take it from this."""

__all__ = ["__version__"]

__version__ = "0.1.0"
