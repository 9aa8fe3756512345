"""``common.amqp_reads``: py-amqp's transport reading whatever has come reads the same frames
as its exact reads, however the bytes arrive (a frame split across reads, several frames in
one, a wait that runs out half-way through one), keeps what it did not need for the next
read, and says so (``has_buffered``)."""
import random
import socket
import struct

import amqp.transport
import pytest

from common import amqp_reads


def frame(channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", 1, channel, len(payload)) + payload + b"\xce"


class Arriving:
    """A socket's ``recv``: the stream in pieces of the sizes given, never more than asked."""

    def __init__(self, stream: bytes, pieces: list[int]):
        self.stream, self.pieces, self.asked = stream, pieces, []

    def __call__(self, wanted: int) -> bytes:
        self.asked.append(wanted)
        size = min(wanted, self.pieces.pop(0) if self.pieces else len(self.stream))
        piece, self.stream = self.stream[:size], self.stream[size:]
        return piece


def transport(stream: bytes, pieces: list[int]):
    made = amqp.transport.TCPTransport.__new__(amqp.transport.TCPTransport)
    made._read_buffer = b""
    made._quick_recv = Arriving(stream, pieces)
    made.raise_on_initial_eintr = True
    return made


def test_the_frames_read_are_those_sent_however_they_arrive(monkeypatch):
    monkeypatch.setattr(amqp.transport.TCPTransport, "_read", amqp.transport.TCPTransport._read)
    amqp_reads.install()
    chance = random.Random(11)
    payloads = [bytes(chance.randrange(256) for _ in range(size))
                for size in (0, 1, 7, 300, 70_000, 12)]
    stream = b"".join(frame(number, payload) for number, payload in enumerate(payloads))
    for pieces in ([len(stream)], [1] * len(stream),
                   [chance.randrange(1, 9000) for _ in range(200)]):
        reading = transport(stream, list(pieces))
        read = [reading.read_frame() for _ in payloads]
        assert [(channel, payload) for _, channel, payload in read] == list(enumerate(payloads))
        assert not amqp_reads.has_buffered(reading)


def test_what_came_beyond_a_frame_waits_in_the_buffer(monkeypatch):
    monkeypatch.setattr(amqp.transport.TCPTransport, "_read", amqp.transport.TCPTransport._read)
    amqp_reads.install()
    reply = frame(1, b"method") + frame(1, b"header") + frame(1, b"body")
    reading = transport(reply, [len(reply)])
    assert reading.read_frame()[2] == b"method"
    assert reading._quick_recv.asked == [amqp_reads.READ_CHUNK]  # one recv for the three
    assert amqp_reads.has_buffered(reading)
    assert [reading.read_frame()[2] for _ in range(2)] == [b"header", b"body"]
    assert reading._quick_recv.asked == [amqp_reads.READ_CHUNK]
    assert not amqp_reads.has_buffered(reading)


def test_a_read_that_times_out_half_way_through_a_frame_loses_nothing(monkeypatch):
    """What a wait that ran out leaves (a frame's first bytes) is read again with the rest."""
    monkeypatch.setattr(amqp.transport.TCPTransport, "_read", amqp.transport.TCPTransport._read)
    amqp_reads.install()
    whole = frame(3, b"a reply body")
    reading = transport(whole, [])
    pieces = [whole[:5], socket.timeout(), whole[5:9], socket.timeout(), whole[9:]]

    def recv(_wanted):
        piece = pieces.pop(0)
        if isinstance(piece, Exception):
            raise piece
        return piece

    reading._quick_recv = recv
    for _ in range(2):
        with pytest.raises(socket.timeout):
            reading.read_frame()
    assert reading.read_frame()[1:] == (3, b"a reply body")
    assert not amqp_reads.has_buffered(reading)
