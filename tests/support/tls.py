"""TLS for the encryption-in-transit tests: a self-signed certificate made with the openssl
CLI, and a TLS terminator in front of the plain RabbitMQ this machine runs (it has no TLS
listener), so the code's ``amqps://`` side is exercised against the real broker."""
from __future__ import annotations

import asyncio
import ssl
import subprocess
import threading
from pathlib import Path

OPENSSL = "/usr/bin/openssl"


def self_signed(folder: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A certificate for host ``name`` (``localhost``: and ``127.0.0.1``) and its private
    key, valid a day."""
    cert, key = folder / f"{name}.cert.pem", folder / f"{name}.key.pem"
    names = f"DNS:{name},IP:127.0.0.1" if name == "localhost" else f"DNS:{name}"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName={names}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


class TlsTerminator:
    """Listens on 127.0.0.1 with TLS and pipes each connection, decrypted, to ``target``
    (host, port): what a TLS listener of the broker would do. ``handshakes`` counts the
    connections that completed a TLS handshake."""

    def __init__(self, target: tuple[str, int], cert: Path, key: Path):
        self.target = target
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.handshakes = 0
        self.port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _serve(self, client_reader, client_writer):
        self.handshakes += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, upstream_writer}
        try:
            await asyncio.gather(self._pipe(client_reader, upstream_writer),
                                 self._pipe(upstream_reader, client_writer))
        finally:
            self._writers -= {client_writer, upstream_writer}

    async def _listen(self):
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        return self._server.sockets[0].getsockname()[1]

    def start(self) -> "TlsTerminator":
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            for writer in list(self._writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
