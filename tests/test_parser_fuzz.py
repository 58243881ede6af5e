"""Every parser the suite points at untrusted bytes, fuzzed: any input yields a value or the
parser's one documented exception, never another exception and never a hang.

Inputs are random bytes and valid samples with bytes changed and cut (the mutations reach far
deeper than random bytes). The budget per parser is bounded (EXAMPLES) so CI stays fast; a
failure prints the input that broke the parser and `@reproduce_failure` to replay it.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.core.verdict import Check
from support.hls.playlist import Playlist, PlaylistError, check_playlist
from support.media import amf0, fmp4, ts
from support.media.fixture import fixture_path
from support.media.flv import FlvError, read_tags
from support.rtmp.chunks import ChunkReader, ChunkWriter
from support.rtmp.connection import ClientConnection
from support.rtmp.errors import Malformed, RemoteProtocolError
from support.rtmp.handshake import SIZE
from support.rtmp.messages import CommandMessage, SetChunkSize, from_raw, to_raw

EXAMPLES = 300
HANG = 2  # seconds: no parser may take longer on any input here
FIXTURES = Path(__file__).parent / "fixtures" / "hls"
fuzzed = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@contextmanager
def no_hang(seconds: int = HANG) -> Iterator[None]:
    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the parser ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """The seed with up to 8 bytes changed, then maybe cut short; or plain random bytes."""

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(0, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        cut = draw(st.integers(0, len(data))) if draw(st.booleans()) else len(data)
        return bytes(data[:cut])

    return st.one_of(mutated(), st.binary(max_size=2048))


def must_only_raise(
    expected: type[BaseException] | tuple[type[BaseException], ...], parse: Callable[[], object]
) -> None:
    with no_hang(), suppress(*(expected if isinstance(expected, tuple) else (expected,))):
        parse()


# ---- RTMP: what a server sends a publisher --------------------------------------------------

CONNECT = amf0.encode(
    "_result", 1.0, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
    {"level": "status", "code": "NetConnection.Connect.Success", "objectEncoding": 0.0},
)  # fmt: skip


def server_bytes() -> bytes:
    """S0+S1+S2 echoing a zero C1, then a chunk size change and a connect result."""
    handshake = bytes([3]) + bytes(SIZE) + bytes(SIZE)
    writer = ChunkWriter()
    chunks = writer.write(to_raw(SetChunkSize(4096)), 2)
    writer.chunk_size = 4096
    result = CommandMessage("_result", 1.0, [None, {"code": "NetConnection.Connect.Success"}])
    return handshake + chunks + writer.write(to_raw(result), 3)


@fuzzed
@given(mutations(CONNECT))
def test_amf0_decodes_any_bytes_or_says_why(data: bytes) -> None:
    must_only_raise(amf0.Amf0Error, lambda: amf0.decode(data))


@fuzzed
@given(mutations(server_bytes()[1 + 2 * SIZE :]))
def test_the_chunk_stream_reads_any_bytes_or_says_why(data: bytes) -> None:
    def parse() -> list[object]:
        return [from_raw(raw) for raw in ChunkReader().feed(data)]

    must_only_raise((Malformed, amf0.Amf0Error), parse)


@fuzzed
@given(mutations(server_bytes()), st.integers(1, 4096))
def test_a_connection_takes_any_server_bytes_in_any_pieces(data: bytes, piece: int) -> None:
    connection = ClientConnection(random=bytes(SIZE - 8))
    connection.start()

    def parse() -> None:
        for at in range(0, len(data), piece):
            connection.receive_data(data[at : at + piece])

    must_only_raise(RemoteProtocolError, parse)


def test_the_seed_of_the_rtmp_fuzzers_is_valid() -> None:
    """The mutations start from bytes the parsers accept, else they fuzz only the first check."""
    connection = ClientConnection(random=bytes(SIZE - 8))
    connection.start()
    messages = connection.receive_data(server_bytes())
    assert [type(m).__name__ for m in messages] == ["SetChunkSize", "CommandMessage"]
    assert amf0.decode(CONNECT)[0] == "_result"


# ---- Media and playlists: what an origin serves ----------------------------------------------


@fuzzed
@given(mutations(fixture_path().read_bytes()[:4096]))
def test_flv_reads_any_bytes_or_says_why(data: bytes) -> None:
    must_only_raise(FlvError, lambda: list(read_tags(data)))


PLAYLIST = (FIXTURES / "live.m3u8").read_text()


@fuzzed
@given(st.one_of(mutations(PLAYLIST.encode()).map(lambda b: b.decode("utf-8", "replace")),
                 st.text(max_size=512)))  # fmt: skip
def test_a_playlist_parses_and_is_judged_whatever_it_holds(text: str) -> None:
    must_only_raise(PlaylistError, lambda: Playlist.parse(text))
    with no_hang():
        judged = check_playlist(text)
    assert all(isinstance(check, Check) for check in judged)


@fuzzed
@given(mutations((FIXTURES / "0.ts").read_bytes()[: 188 * 40]))
def test_an_mpeg_ts_segment_is_judged_whatever_it_holds(data: bytes) -> None:
    with no_hang():
        checks, _ = ts.check_segment(data, extinf=1.0)
    assert checks


@pytest.fixture(scope="module")
def fmp4_parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """ffmpeg's CMAF: an initialization section and its first segment."""
    out = tmp_path_factory.mktemp("fmp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(fixture_path()), "-c", "copy", "-t", "1",
         "-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "1", str(out / "index.m3u8")],
        check=True, timeout=60,
    )  # fmt: skip
    segment = min(out.glob("index*.m4s"))
    return (out / "init.mp4").read_bytes(), segment.read_bytes()[:8192]


@fuzzed
@given(data=st.data())
def test_fmp4_boxes_are_judged_whatever_they_hold(
    fmp4_parts: tuple[bytes, bytes], data: st.DataObject
) -> None:
    init_bytes, segment_bytes = fmp4_parts
    broken_init = data.draw(st.one_of(st.just(init_bytes), mutations(init_bytes)))
    broken_segment = data.draw(mutations(segment_bytes))
    with no_hang():
        init = fmp4.read_init(broken_init)
        checks, _ = fmp4.check_segment(broken_segment, init, extinf=1.0)
    assert checks
