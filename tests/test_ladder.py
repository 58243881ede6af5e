"""The service's multivariant playlist (reference_service/ladder.py): what it reads from the
segments against what ffprobe and the suite's own reader (an implementation it does not share)
say of segments ffmpeg made, and the playlist it serves from nginx-rtmp's hls_variant output."""

from __future__ import annotations

import os
import subprocess
import uuid
from fractions import Fraction
from pathlib import Path

import pytest

from reference_service import ladder, playlists
from support.media import codecs
from support.media.ffprobe import streams

ENCODINGS = {  # the picture ffmpeg makes, and how it encodes it
    "baseline 320x240 25 fps": ("320x240", "25", ["-profile:v", "baseline"]),
    "high 1280x720 30000/1001 (cropped)": ("1280x720", "30000/1001", ["-profile:v", "high"]),
    "main 426x240 15 fps (odd width, cropped)": ("426x240", "15", ["-profile:v", "main"]),
}  # fmt: skip


def segment(directory: Path, encoding: tuple[str, str, list[str]]) -> bytes:
    size, rate, options = encoding
    path = directory / "segment.ts"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", f"testsrc=duration=2:size={size}:rate={rate}",
         "-f", "lavfi", "-i", "sine=duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", *options, "-c:a", "aac", "-f", "mpegts",
         str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path.read_bytes()


@pytest.mark.parametrize("name", ENCODINGS)
def test_what_the_service_reads_from_a_segment_is_what_ffprobe_and_the_suite_read(
    tmp_path: Path, name: str
) -> None:
    data = segment(tmp_path, ENCODINGS[name])
    facts = ladder.media_facts(data)
    video = next(s for s in streams(data) if s["codec_type"] == "video")
    assert set(facts.codecs) == codecs.ts_codecs(data)
    assert facts.resolution == f"{video['width']}x{video['height']}"
    assert facts.frame_rate is not None
    assert float(facts.frame_rate) == pytest.approx(float(Fraction(video["r_frame_rate"])), 1e-3)


def test_a_segment_that_is_not_mpeg_ts_names_nothing() -> None:
    assert ladder.media_facts(b"<html>not found</html>" * 20) == ladder.MediaFacts()


WRITTEN = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=300000
{id}_src/index.m3u8
#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=100000,RESOLUTION=240x180,FRAME-RATE=25.000
{id}_180p/index.m3u8
"""
STREAM = "0f0e0d0c-0b0a-4909-8807-060504030201"


def media_playlist(directory: Path, first: int, sizes: list[int], duration: float = 1.0) -> None:
    directory.mkdir(exist_ok=True)
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:1", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    for number, size in enumerate(sizes, first):
        (directory / f"{number}.ts").write_bytes(b"\0" * size)
        lines += [f"#EXTINF:{duration:.3f},", f"{number}.ts"]
    (directory / playlists.PLAYLIST).write_text("\n".join(lines) + "\n")


def test_the_bit_rates_count_every_segment_of_the_streams_life_once(tmp_path: Path) -> None:
    rendition = tmp_path / f"{STREAM}_src"
    media_playlist(rendition, 0, [10_000, 40_000, 20_000])
    first = ladder.bitrates(rendition)
    assert first is not None
    assert (first.peak, first.average) == (320_000, 560_000 / 3)
    media_playlist(rendition, 2, [20_000, 5_000])  # 0 and 1 left the window; 2 is counted
    later = ladder.bitrates(rendition)
    assert later is not None
    assert later.peak == 320_000, "the peak of a segment that left the window is kept"
    assert later.bits == 75_000 * 8
    assert later.seconds == 4


def test_the_served_playlist_has_the_measured_bit_rates_and_codecs(tmp_path: Path) -> None:
    (tmp_path / f"{STREAM}.m3u8").write_text(WRITTEN.format(id=STREAM))
    source, low = tmp_path / f"{STREAM}_src", tmp_path / f"{STREAM}_180p"
    media_playlist(source, 0, [50_000])
    (source / "0.ts").write_bytes(segment(tmp_path, ENCODINGS["baseline 320x240 25 fps"]))
    size = (source / "0.ts").stat().st_size
    media_playlist(low, 0, [5_000])
    text = ladder.served(tmp_path, STREAM)
    assert text is not None
    lines = text.splitlines()
    assert "PROGRAM-ID" not in text, "removed in protocol version 6 (RFC 8216 7)"
    assert lines[2] == (
        f"#EXT-X-STREAM-INF:BANDWIDTH={max(size * 8, 300_000)},AVERAGE-BANDWIDTH={size * 8},"
        f'CODECS="avc1.42c00d,mp4a.40.2",RESOLUTION=320x240,FRAME-RATE=25.000'
    ), "the source's attributes, measured; its BANDWIDTH never under the nominal one"
    assert lines[4] == (
        "#EXT-X-STREAM-INF:BANDWIDTH=100000,AVERAGE-BANDWIDTH=40000,RESOLUTION=240x180,"
        "FRAME-RATE=25.000"
    ), "a rendition whose segment names no codec gets no CODECS; the configured values stay"


def test_a_rendition_not_written_yet_is_not_listed(tmp_path: Path) -> None:
    (tmp_path / f"{STREAM}.m3u8").write_text(WRITTEN.format(id=STREAM))
    assert ladder.served(tmp_path, STREAM) is None, "no rendition written: no playlist"
    media_playlist(tmp_path / f"{STREAM}_180p", 0, [5_000])
    text = ladder.served(tmp_path, STREAM)
    assert text is not None
    assert f"{STREAM}_180p/index.m3u8" in text
    assert "_src" not in text


def test_a_variant_uri_reaching_out_of_the_ladder_is_not_served(tmp_path: Path) -> None:
    (tmp_path / f"{STREAM}.m3u8").write_text(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../../etc/index.m3u8\n"
    )
    assert ladder.served(tmp_path, STREAM) is None


def test_an_interrupted_streams_renditions_are_kept_from_cleanup(tmp_path: Path) -> None:
    renditions = tmp_path / ladder.DIRECTORY
    renditions.mkdir()
    (renditions / f"{STREAM}.m3u8").write_text(WRITTEN.format(id=STREAM))
    media_playlist(renditions / f"{STREAM}_180p", 0, [5_000])
    old = 1_000_000_000
    for path in [renditions / f"{STREAM}.m3u8", *(renditions / f"{STREAM}_180p").iterdir()]:
        os.utime(path, (old, old))
    playlists.keep_media_of(tmp_path, uuid.UUID(STREAM))
    kept = [renditions / f"{STREAM}.m3u8", renditions / f"{STREAM}_180p" / "0.ts"]
    assert all(path.stat().st_mtime > old for path in kept)
