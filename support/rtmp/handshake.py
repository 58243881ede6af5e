"""The RTMP handshake, client side: C0+C1 out, S0+S1+S2 in and checked, C2 out."""

from __future__ import annotations

import os
import struct

from support.rtmp.errors import Malformed

VERSION = 3
SIZE = 1536


class ClientHandshake:
    """Sans-I/O: `start()` gives C0+C1; `receive()` takes bytes until S0+S1+S2 are in."""

    def __init__(self, random: bytes | None = None, epoch: int = 0) -> None:
        body = random if random is not None else os.urandom(SIZE - 8)
        if len(body) != SIZE - 8:
            raise ValueError(f"the handshake's random part is {SIZE - 8} bytes, not {len(body)}")
        # Time, then zero: the "simple" handshake (no digest), which every server accepts.
        self.c1 = struct.pack(">II", epoch, 0) + body
        self._received = bytearray()
        self.done = False

    def start(self) -> bytes:
        return bytes([VERSION]) + self.c1

    def receive(self, data: bytes) -> tuple[bytes, bytes]:
        """(C2 to send once S2 is in, else b""; the bytes past S2, which belong to the chunks)."""
        if self.done:
            return b"", data
        self._received += data
        if self._received and self._received[0] != VERSION:
            raise Malformed(
                f"handshake: the server answered RTMP version {self._received[0]}, "
                f"expected {VERSION}"
            )
        if len(self._received) < 1 + 2 * SIZE:
            return b"", b""
        s1 = bytes(self._received[1 : 1 + SIZE])
        s2 = bytes(self._received[1 + SIZE : 1 + 2 * SIZE])
        if s2[8:] != self.c1[8:]:
            raise Malformed("handshake: S2 does not echo the random bytes of C1")
        self.done = True
        rest = bytes(self._received[1 + 2 * SIZE :])
        self._received.clear()
        return s1, rest
