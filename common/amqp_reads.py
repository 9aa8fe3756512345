"""Buffered reads for py-amqp's plain TCP transport, in every process of the CRM.

py-amqp reads a frame as three exact reads (its header, its payload, its end byte), so an RPC
request or reply (three frames: method, header, body) costs about ten ``recv`` calls, each
going through eventlet's green socket in a service and giving up and taking back the
interpreter lock among a gateway worker's threads. Read through :func:`install`, the
transport asks the socket for whatever has come, up to ``READ_CHUNK`` bytes, and keeps what
it did not need in the read buffer py-amqp already has (where a timed-out read leaves its
bytes too): the same frames in one or two ``recv`` calls.

Something that asks the socket whether a frame has come (``select``/``poll``) must look at
the transport's ``_read_buffer`` as well (:func:`has_buffered`).
"""
from __future__ import annotations

import errno
import socket

import amqp.transport

READ_CHUNK = 65536


def install() -> None:
    """Make every plain TCP transport of this process read through :func:`_buffered_read`
    (TLS transports read through their own)."""
    amqp.transport.TCPTransport._read = _buffered_read


def has_buffered(transport) -> bool:
    """Whether bytes read from the socket wait in ``transport``'s buffer."""
    return bool(getattr(transport, "_read_buffer", b""))


def _buffered_read(self, n: int, initial: bool = False,
                   _errnos=(errno.EAGAIN, errno.EINTR)) -> bytes:
    """``TCPTransport._read`` of py-amqp 5, asking for at least ``READ_CHUNK`` bytes."""
    rbuf = self._read_buffer
    try:
        while len(rbuf) < n:
            try:
                received = self._quick_recv(max(n - len(rbuf), READ_CHUNK))
            except OSError as exc:
                if exc.errno in _errnos:
                    if initial and self.raise_on_initial_eintr:
                        raise socket.timeout()
                    continue
                raise
            if not received:
                raise OSError("Server unexpectedly closed connection")
            rbuf += received
    except:  # noqa: E722 - as py-amqp: whatever stops the read, what was read stays read
        self._read_buffer = rbuf
        raise
    result, self._read_buffer = rbuf[:n], rbuf[n:]
    return result
