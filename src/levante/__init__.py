"""levante: exact, fast, leak-proof streaming for the Mistral chat completions API."""

from .sse import ServerSentEvent, SSEDecoder

__version__ = "0.1.0"

__all__ = ["SSEDecoder", "ServerSentEvent", "__version__"]
