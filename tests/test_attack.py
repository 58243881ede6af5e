"""The attacker's tools against local servers that drop it, and ones that hold it open."""

from __future__ import annotations

import asyncio
import struct
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from support.clients.attack import (
    CLOSE,
    PING,
    RTMP_ABUSES,
    TEXT,
    WEBSOCKET_ABUSES,
    AbusivePage,
    Dropped,
    HeldOpen,
    IdleCrowd,
    Unreachable,
    abuse_rtmp,
    client_frame,
    close_code,
)


def server_frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        return bytes([0x80 | opcode, size]) + payload
    return bytes([0x80 | opcode, 126]) + size.to_bytes(2, "big") + payload


def test_a_client_frame_is_masked_and_sized_as_rfc_6455_says() -> None:
    frame = client_frame(TEXT, b"abc", mask=b"\x01\x02\x03\x04")
    assert frame[:2] == bytes([0x81, 0x80 | 3])
    assert frame[2:6] == b"\x01\x02\x03\x04"
    assert frame[6:] == bytes([ord("a") ^ 1, ord("b") ^ 2, ord("c") ^ 3])
    assert client_frame(TEXT, b"x" * 300)[1:4] == bytes([0x80 | 126]) + (300).to_bytes(2, "big")
    assert client_frame(TEXT, b"x" * 70000)[1] == 0x80 | 127


def test_the_close_code_is_found_after_other_frames() -> None:
    frames = (
        server_frame(TEXT, b"e" * 200)
        + server_frame(PING, b"")
        + server_frame(CLOSE, struct.pack(">H", 1008) + b"bye")
    )
    assert close_code(frames) == 1008
    assert close_code(server_frame(TEXT, b"hello")) is None
    assert close_code(frames[:-5]) is None  # the close frame not all in yet


@asynccontextmanager
async def local_server(close_at_once: bool) -> AsyncIterator[str]:
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if close_at_once:
            writer.close()
        else:
            held.append(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"rtmp://127.0.0.1:{port}/live"
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.parametrize(
    ("close_at_once", "outcome"), [(True, Dropped), (False, HeldOpen)], ids=["hangs up", "holds on"]
)
def test_the_outcome_says_whether_the_server_dropped_the_attacker(
    close_at_once: bool, outcome: type
) -> None:
    async def attack() -> object:
        async with local_server(close_at_once) as url:
            return await abuse_rtmp(url, RTMP_ABUSES["half a handshake"], within=0.5)

    assert isinstance(asyncio.run(attack()), outcome)


def test_an_attack_on_nothing_is_unreachable() -> None:
    async def attack() -> object:
        async with local_server(close_at_once=True) as url:
            pass  # the server is gone before the attack
        return await abuse_rtmp(url, RTMP_ABUSES["half a handshake"], within=0.5)

    assert isinstance(asyncio.run(attack()), Unreachable)


def test_idle_connections_a_server_keeps_are_counted_as_held() -> None:
    async def crowd() -> tuple[int, int]:
        async with local_server(close_at_once=False) as url:
            idle = await IdleCrowd.open(url, 20)
            try:
                return await idle.dropped_within(0.3)
            finally:
                idle.close()

    assert asyncio.run(crowd()) == (0, 20)


# ---- Servers nobody here wrote -------------------------------------------------------------


def test_ffmpegs_rtmp_server_drops_a_handshake_of_the_wrong_version_at_once(
    ffmpeg_listener: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, _, _ = ffmpeg_listener
    attack = abuse_rtmp(url, RTMP_ABUSES["a handshake of the wrong version"], within=5)
    outcome = asyncio.run(attack)
    assert isinstance(outcome, Dropped), outcome
    assert outcome.after < 1, outcome


@asynccontextmanager
async def websockets_server() -> AsyncIterator[str]:
    """python-websockets' server, as strict as RFC 6455 asks: 4 KB messages, pings every 0.5 s."""

    async def listen(connection: ServerConnection) -> None:
        async for _ in connection:
            pass

    async with serve(listen, "127.0.0.1", 0, max_size=4096, ping_interval=0.5,
                     ping_timeout=0.5) as server:  # fmt: skip
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/room"


@pytest.mark.parametrize(
    ("abuse", "code"),
    [("a message of 1 MB", 1009), ("a frame of an unknown type", 1002),
     ("text that is not UTF-8", 1007)],
)  # fmt: skip
def test_the_close_codes_of_a_websocket_server_nobody_here_wrote(abuse: str, code: int) -> None:
    async def attack() -> object:
        async with websockets_server() as url:
            page = await AbusivePage.open(url)
            assert isinstance(page, AbusivePage), page
            return await page.send(WEBSOCKET_ABUSES[abuse](), within=5)

    outcome = asyncio.run(attack())
    assert isinstance(outcome, Dropped), outcome
    assert outcome.close_code == code, outcome


def test_a_websocket_server_nobody_here_wrote_closes_a_page_that_never_reads() -> None:
    async def attack() -> object:
        async with websockets_server() as url:
            page = await AbusivePage.open(url, reading=False)
            assert isinstance(page, AbusivePage), page
            return await page.dropped_within(3)

    assert isinstance(asyncio.run(attack()), Dropped)
