"""TLS: certificates are verified by default, sync and async, on both async transports.

A loopback HTTPS server presents a self-signed certificate made for this test. The clients
levante creates must refuse it during the handshake (``APIConnectionError`` naming the
verification failure), so the request, and the key in it, never reach the server. The
same server, trusted explicitly through a user-supplied client, is reachable: the test can
tell a refused certificate from a broken server.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from levante import Mistral
from levante._transport import AiohttpTransport
from levante.errors import APIConnectionError, AuthenticationError
from rawserver import read_request

KEY = "sk-tls-canary-0123456789"
CALL = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "levante test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class TLSServer:
    """Answers every request with 401 over TLS; keeps the requests that got through."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.requests: list[bytes] = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    self.requests.append(read_request(tls))
                    body = b'{"message": "no"}'
                    tls.sendall(
                        b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n"
                        b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                    )
            except (ssl.SSLError, OSError):
                conn.close()  # the client refused our certificate

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[TLSServer, Path]]:
    cert, key = self_signed(tmp_path)
    server = TLSServer(cert, key)
    yield server, cert
    server.close()


def test_untrusted_certificate_refused_before_the_request(tls: tuple[TLSServer, Path]) -> None:
    server, cert = tls
    with Mistral(api_key=KEY, server_url=server.url, retries=0) as client:
        for call in (client.chat.complete, client.chat.stream):
            with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED") as info:
                call(**CALL)
            assert KEY not in str(info.value)
    assert server.requests == []
    # The control: the same server, trusted explicitly, is reached (its answer comes back).
    trusted = httpx2.Client(verify=ssl.create_default_context(cafile=str(cert)))
    with (
        Mistral(api_key=KEY, server_url=server.url, client=trusted, retries=0) as client,
        pytest.raises(AuthenticationError),
    ):
        client.chat.complete(**CALL)
    assert [r for r in server.requests if r.startswith(b"POST /v1/chat/completions")]
    trusted.close()


@pytest.mark.parametrize(
    ("backend", "transport"),
    [("asyncio", "default"), ("asyncio", "aiohttp"), ("asyncio", "httpx2"), ("trio", "default")],
)
def test_async_untrusted_certificate_refused(
    tls: tuple[TLSServer, Path], backend: str, transport: str
) -> None:
    server, _ = tls

    async def main() -> None:
        http = None
        if transport != "default":
            kind = AiohttpTransport() if transport == "aiohttp" else None
            http = httpx2.AsyncClient(transport=kind)
        async with Mistral(
            api_key=KEY, server_url=server.url, retries=0, async_client=http
        ) as client:
            with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED") as info:
                await client.chat.complete_async(**CALL)
            assert KEY not in str(info.value)
            with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.chat.stream_async(**CALL)
        if http is not None:
            await http.aclose()

    anyio.run(main, backend=backend)
    assert server.requests == []
