"""A TCP proxy in front of the broker that can stop reading what its clients send, as a
broker under a resource alarm stops reading its publishers: to see that a client's blocked
write is bounded, without touching the shared RabbitMQ."""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit, urlunsplit

SMALL_BUFFER = 4096  # the proxy's receive buffer: a stalled client's writes back up soon


class StallingProxy:
    """Forwards every connection made to ``uri`` (an ``amqp://`` URI of this proxy, same
    user and vhost as ``upstream_uri``) to the broker; :meth:`stall` stops reading the
    clients' side (the broker's answers still come through), :meth:`resume` reads again."""

    def __init__(self, upstream_uri: str):
        parts = urlsplit(upstream_uri)
        self._upstream = (parts.hostname, parts.port or 5672)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        port = self._listener.getsockname()[1]
        credentials = parts.netloc.rpartition("@")[0]
        self.uri = urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        for each in [self._listener, *self._sockets]:
            try:
                each.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv
            except OSError:
                pass
            each.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self._upstream)
            except OSError:
                return  # closed
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while True:
                if from_client:
                    self._flowing.wait()
                if self._closed:
                    return
                data = source.recv(SMALL_BUFFER)
                if not data:
                    return
                target.sendall(data)
        except OSError:
            return
        finally:
            for each in (source, target):
                try:
                    each.close()
                except OSError:
                    pass
