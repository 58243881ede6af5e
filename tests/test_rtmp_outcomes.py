"""What the publisher says happened, against servers that fail in every way a real one can.

The small asyncio servers here play one misbehaving peer each; ffmpeg's own RTMP listener is the
well-behaved server nobody on this team wrote.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from support.media.fixture import clip, looped
from support.rtmp.client import RtmpPublisher
from support.rtmp.handshake import SIZE
from support.rtmp.session import (
    ProtocolViolation,
    Published,
    PublishOutcome,
    Refused,
    Unanswered,
    Unreachable,
)
from support.tools.publish import main as cli
from tests.conftest import free_port

Peer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def against(peer: Peer) -> PublishOutcome:
    server = await asyncio.start_server(peer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        return await RtmpPublisher(f"rtmp://127.0.0.1:{port}/live/x", timeout=0.5).publish()


async def handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server's half of the simple handshake: S0+S1+S2, S2 echoing C1."""
    c0c1 = await reader.readexactly(1 + SIZE)
    writer.write(b"\x03" + bytes(SIZE) + c0c1[1:])
    await reader.readexactly(SIZE)  # C2


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


async def hangs_up_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def hangs_up_after_handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await handshake(reader, writer)
    await reader.read(1)  # the connect command arrives
    writer.close()


async def silent_after_handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await handshake(reader, writer)
    await reader.read()


async def speaks_another_version(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await reader.readexactly(1 + SIZE)
    writer.write(b"\x06" + bytes(2 * SIZE))
    await reader.read()


def test_a_closed_port_is_unreachable() -> None:
    outcome = asyncio.run(RtmpPublisher(f"rtmp://127.0.0.1:{free_port()}/live/x").publish())
    assert isinstance(outcome, Unreachable), outcome
    assert "cannot connect" in outcome.reason


@pytest.mark.parametrize(
    ("peer", "outcome_type", "says"),
    [
        (silent, Unreachable, "did not finish the RTMP handshake within 0.5 s"),
        (hangs_up_at_once, Unreachable, "closed the connection during the RTMP handshake"),
        (hangs_up_after_handshake, Refused, "closed the connection while we waited for connect"),
        (silent_after_handshake, Unanswered, "no answer to connect"),
    ],
)
def test_a_server_that_says_no_is_told_from_one_that_is_not_there_or_silent(
    peer: Peer, outcome_type: type, says: str
) -> None:
    """Refused only when the server said no; a timeout or a dead end is not a refusal."""
    outcome = asyncio.run(against(peer))
    assert isinstance(outcome, outcome_type), outcome
    assert not isinstance(outcome, Published)
    assert says in outcome.reason


def test_bytes_that_are_not_rtmp_are_the_servers_protocol_violation() -> None:
    outcome = asyncio.run(against(speaks_another_version))
    assert isinstance(outcome, ProtocolViolation), outcome
    assert outcome.by == "server"
    assert "RTMP version 6, expected 3" in outcome.reason


@pytest.mark.parametrize(
    ("peer", "status", "says"),
    [
        (None, 3, "unreachable: cannot connect"),
        (silent_after_handshake, 4, "unanswered: no answer to connect"),
        (hangs_up_after_handshake, 2, "refused: the server closed the connection"),
        (speaks_another_version, 5, "protocol violation by the server"),
    ],
)
def test_the_cli_says_what_happened_and_exits_with_its_own_status(
    peer: Peer | None, status: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run() -> int:
        if peer is None:
            return await asyncio.to_thread(cli, [f"rtmp://127.0.0.1:{free_port()}/live/x"])
        server = await asyncio.start_server(peer, "127.0.0.1", 0)
        url = f"rtmp://127.0.0.1:{server.sockets[0].getsockname()[1]}/live/x"
        async with server:
            return await asyncio.to_thread(cli, [url, "--timeout", "0.5"])

    assert asyncio.run(run()) == status
    assert says in capsys.readouterr().err


# ---- ffmpeg's own RTMP server ------------------------------------------------------------------


def test_the_publisher_publishes_to_ffmpegs_rtmp_server_frame_for_frame(
    ffmpeg_listener: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, out, process = ffmpeg_listener
    fixture = clip()

    async def publish() -> tuple[PublishOutcome, int, int]:
        publisher = RtmpPublisher(url)
        outcome = await publisher.publish()
        assert isinstance(outcome, Published), outcome
        frames = list(looped(fixture, 4.0))
        await publisher.send_media(fixture.metadata, fixture.headers, frames, realtime=False)
        await publisher.finish()
        audio = sum(1 for tag in frames if not tag.is_video_frame)
        return outcome, publisher.video_frames_sent, audio

    _, video_sent, audio_sent = asyncio.run(publish())
    process.wait(timeout=10)
    packets = ffprobe_packets(out)
    video = [p for p in packets if p["codec_type"] == "video"]
    audio = [p for p in packets if p["codec_type"] == "audio"]
    assert (len(video), len(audio)) == (video_sent, audio_sent)
    for track in (video, audio):
        times = [int(p["dts"]) for p in track]
        assert times == sorted(times), "timestamps go backwards in what ffmpeg received"
    decode = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert decode.returncode == 0
    assert decode.stderr == "", f"ffmpeg reported decoding errors: {decode.stderr[:500]}"


def ffprobe_packets(path: Path) -> list[dict[str, str]]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=codec_type,dts", "-of", "json",
         str(path)],
        capture_output=True, check=True,
    )  # fmt: skip
    packets: list[dict[str, str]] = json.loads(result.stdout)["packets"]
    return packets
