"""An attacker on the same network: idle connections held open, broken RTMP, abusive WebSocket
pages. Each attack ends in an outcome that says what the server did with the attacker.

The server is expected to drop the attacker (`Dropped`); `HeldOpen` means it was still holding
the connection when the bound ran out, and `Unreachable` that the attack never reached it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from support.core.limits import allow_open_files
from support.rtmp.chunks import ChunkWriter
from support.rtmp.handshake import SIZE, ClientHandshake
from support.rtmp.messages import RawMessage

CONNECT_TIMEOUT = 5.0
DRAIN = 2.0  # to read what a page that never read has waiting, up to the server's close


@dataclass(frozen=True)
class Dropped:
    after: float  # seconds from the attack to the server closing the connection
    close_code: int | None = None  # a WebSocket's close code, if the server sent one

    def __str__(self) -> str:
        code = f" with close code {self.close_code}" if self.close_code else ""
        return f"dropped{code} after {self.after:.1f} s"


@dataclass(frozen=True)
class HeldOpen:
    after: float

    def __str__(self) -> str:
        return f"still open after {self.after:.1f} s"


@dataclass(frozen=True)
class Unreachable:
    reason: str

    def __str__(self) -> str:
        return f"never reached the server: {self.reason}"


AttackOutcome = Dropped | HeldOpen | Unreachable


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


async def connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)


async def until_dropped(
    reader: asyncio.StreamReader, began: float, within: float, on_data: Callable[[bytes], bool]
) -> AttackOutcome:
    """Read (and hand over) what the server sends until it closes, or the bound runs out.
    `on_data` says whether the data itself ends the connection (a WebSocket close frame)."""
    while True:
        left = began + within - time.monotonic()
        if left <= 0:
            return HeldOpen(time.monotonic() - began)
        try:
            data = await asyncio.wait_for(reader.read(65536), left)
        except TimeoutError:
            return HeldOpen(time.monotonic() - began)
        except OSError:  # reset: dropped just the same
            return Dropped(time.monotonic() - began)
        if not data or on_data(data):
            return Dropped(time.monotonic() - began)


# ---- RTMP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RtmpAbuse:
    after_handshake: bool  # sent once a real handshake is done, else instead of one
    payload: Callable[[], bytes]


def chunk(type_id: int, payload: bytes) -> bytes:
    return ChunkWriter().write(RawMessage(type_id, 0, 0, payload), 2)


def enormous_message() -> bytes:
    """A chunk header announcing a 16 MB message (RTMP 5.3.1.2: lengths are 3 bytes)."""
    header = bytes([0x03]) + bytes(3) + (0xFFFFFF).to_bytes(3, "big") + bytes([20]) + bytes(4)
    return header + os.urandom(4096)


RTMP_ABUSES = {
    "a handshake of the wrong version": RtmpAbuse(False, lambda: bytes([6]) + os.urandom(SIZE)),
    "half a handshake": RtmpAbuse(False, lambda: bytes([3]) + os.urandom(SIZE // 2)),
    "garbage after the handshake": RtmpAbuse(True, lambda: os.urandom(8192)),
    "an enormous chunk size": RtmpAbuse(True, lambda: chunk(1, struct.pack(">I", 0x7FFFFFFF))),
    "an enormous message": RtmpAbuse(True, enormous_message),
}


async def abuse_rtmp(rtmp_url: str, abuse: RtmpAbuse, within: float) -> AttackOutcome:
    try:
        reader, writer = await connect(*host_port(rtmp_url, 1935))
    except (OSError, TimeoutError) as error:
        return Unreachable(repr(error))
    began = time.monotonic()
    try:
        if abuse.after_handshake:
            handshake = ClientHandshake()
            writer.write(handshake.start())
            while not handshake.done:
                data = await asyncio.wait_for(reader.read(65536), within)
                if not data:
                    return Unreachable("the server closed the connection during the handshake")
                c2, _ = handshake.receive(data)
                writer.write(c2)
        writer.write(abuse.payload())
        with contextlib.suppress(OSError):
            await writer.drain()
        return await until_dropped(reader, began, within, lambda data: False)
    except TimeoutError:
        return Unreachable("the server never finished the handshake")
    finally:
        writer.close()


@dataclass
class IdleCrowd:
    """Connections opened and left silent: not a byte of RTMP is sent on them."""

    connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(
        default_factory=list
    )
    refused: int = 0
    opened_at: float = 0.0

    @classmethod
    async def open(cls, url: str, count: int) -> IdleCrowd:
        allow_open_files(count + 1024)
        crowd = cls(opened_at=time.monotonic())
        host, port = host_port(url, 1935)
        for done in asyncio.as_completed([connect(host, port) for _ in range(count)]):
            try:
                crowd.connections.append(await done)
            except (OSError, TimeoutError):
                crowd.refused += 1
        return crowd

    async def dropped_within(self, seconds: float) -> tuple[int, int]:
        """(how many the server closed, how many it still held) once `seconds` have passed."""
        outcomes = await asyncio.gather(
            *(until_dropped(reader, self.opened_at, seconds, lambda data: False)
              for reader, _ in self.connections)
        )  # fmt: skip
        dropped = sum(isinstance(outcome, Dropped) for outcome in outcomes)
        return dropped, len(outcomes) - dropped

    def __str__(self) -> str:
        return f"{len(self.connections)} connections open, {self.refused} not accepted"

    def close(self) -> None:
        for _, writer in self.connections:
            writer.close()
        self.connections.clear()


# ---- WebSocket (RFC 6455) --------------------------------------------------------------------

TEXT, CLOSE, PING = 0x1, 0x8, 0x9


def client_frame(opcode: int, payload: bytes, mask: bytes = b"\0\0\0\0") -> bytes:
    """A final frame, masked as a client must (section 5.3); the default key masks nothing."""
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 1 << 16:
        length = bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        length = bytes([0x80 | 127]) + size.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if any(mask) else payload
    return bytes([0x80 | opcode]) + length + mask + masked


def close_code(data: bytes) -> int | None:
    """The code of the first close frame among the server's frames, if there is one."""
    at = 0
    while at + 2 <= len(data):
        opcode, size = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if size == 126:
            size, at = int.from_bytes(data[at : at + 2], "big"), at + 2
        elif size == 127:
            size, at = int.from_bytes(data[at : at + 8], "big"), at + 8
        if opcode == CLOSE and size >= 2 and at + 2 <= len(data):
            return int.from_bytes(data[at : at + 2], "big")
        at += size
    return None


WEBSOCKET_ABUSES: dict[str, Callable[[], bytes]] = {
    "a message of 1 MB": lambda: client_frame(TEXT, b"a" * (1 << 20)),
    "a frame of an unknown type": lambda: client_frame(0x3, b"?"),
    "text that is not UTF-8": lambda: client_frame(TEXT, b"\xff\xfe\xfd"),
    "50 messages at once": lambda: client_frame(TEXT, b"hello") * 50,
}


@dataclass
class AbusivePage:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    began: float
    reading: bool
    received: bytearray = field(default_factory=bytearray)

    @classmethod
    async def open(cls, ws_url: str, *, reading: bool = True) -> AbusivePage | Unreachable:
        """A room's page opened by hand: the RFC 6455 opening handshake, then raw frames."""
        parts = urlsplit(ws_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        key = base64.b64encode(os.urandom(16)).decode()
        try:
            sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
            if not reading:  # a reader that never reads: a tiny window, filled at once
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(
                f"GET {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CONNECT_TIMEOUT)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            return Unreachable(repr(error))
        status = head.split(b"\r\n", 1)[0].decode(errors="replace")
        if " 101 " not in status + " ":
            writer.close()
            return Unreachable(f"the upgrade was answered {status!r}")
        return cls(reader, writer, time.monotonic(), reading)

    def closing(self, data: bytes) -> bool:
        """Keep what the server sent; True once it holds a close frame (RFC 6455 5.5.1: the
        server has begun closing; it may wait for the page's reply before it hangs up)."""
        self.received += data
        return close_code(bytes(self.received)) is not None

    async def send(self, frames: bytes, within: float) -> AttackOutcome:
        """Send the frames and read at once (the write is buffered, not awaited): a server that
        closes while they are still arriving resets the connection, which would discard a
        close frame not yet read."""
        self.began = time.monotonic()
        self.writer.write(frames)
        return await self.dropped_within(within)

    async def dropped_within(self, seconds: float) -> AttackOutcome:
        """How the server ended this page within `seconds` of the abuse. A page that never
        reads looks only when the time is up: then it must find the connection closed."""
        if self.reading:
            outcome = await until_dropped(self.reader, self.began, seconds, self.closing)
        else:
            await asyncio.sleep(self.began + seconds - time.monotonic())
            drained = await until_dropped(self.reader, time.monotonic(), DRAIN, self.closing)
            outcome = Dropped(seconds) if isinstance(drained, Dropped) else HeldOpen(seconds)
        self.writer.close()
        if isinstance(outcome, Dropped):
            return Dropped(outcome.after, close_code(bytes(self.received)))
        return outcome
