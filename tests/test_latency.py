"""The delays behind the camera (support/hls/latency.py): the segment clock on ffmpeg's own
live HLS of stamped media, the browser page's account, and a bound's verdict."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from support.core.loop import RunLoop
from support.harness.polling import eventually
from support.hls.browser import BrowserUnavailable, Playback, Player, require_browser, serve_player
from support.hls.latency import Delay, Delays, SegmentClock, first_stamp
from support.hls.local import served
from support.media import sei
from support.media.fixture import clip, looped
from support.media.flv import write_tags

FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def test_a_bound_is_broken_by_any_delay_over_it_and_by_nothing_measured() -> None:
    delays = Delays("sent to played", [Delay(1.0, 2.0), Delay(2.0, 5.5), Delay(3.0, 3.0)])
    assert delays.beyond(6.0) == []
    [problem] = delays.beyond(4.5)
    assert "1 of 3 over 4.5 s, the worst 5.50 s" in problem
    assert "p50 3.000 s" in problem
    assert delays.since(2.5).seen == [Delay(3.0, 3.0)]
    nothing = Delays("sent to available", unmeasured=["index1.ts: no stamp in its first frame"])
    assert nothing.beyond(1.5) == [
        "sent to available: not measured (index1.ts: no stamp in its first frame)"
    ]


def test_the_browser_pages_account_is_read_from_its_last_state() -> None:
    playback = Playback([{"wall": 1.0}, {"wall": 2.0, "behind": [{"at": 2.0, "seconds": 1.8}]}])
    assert playback.behind().seen == [Delay(2.0, 1.8)]
    assert "found no stamp" in Playback([{"wall": 1.0}]).behind().describe()


def stamped_flv(path: Path, seconds: float, base: float) -> None:
    media = clip()
    frames = [sei.stamped(tag, base + tag.timestamp / 1000) for tag in looped(media, seconds)]
    path.write_bytes(write_tags([*media.headers, *frames]))


async def clocked(directory: Path, seconds: float) -> Delays:
    async with served(directory) as base, aiohttp.ClientSession() as session:
        clock = SegmentClock(session, f"{base}/index.m3u8")
        await asyncio.sleep(seconds)  # the span measured
        return await clock.stop()


def test_the_clock_times_ffmpegs_live_hls_of_stamped_media(tmp_path: Path) -> None:
    """ffmpeg reads the stamped FLV in real time (-re) and packages 1 s segments: each is listed
    about a segment after its first frame's stamp, never before it."""
    source, playlist = tmp_path / "stamped.flv", tmp_path / "index.m3u8"
    stamped_flv(source, seconds=12, base=time.time() + 0.2)
    process = subprocess.Popen(
        [*FFMPEG, "-re", "-i", str(source), "-c", "copy", "-f", "hls", "-hls_time", "1",
         "-hls_list_size", "4", str(playlist)],
    )  # fmt: skip
    try:
        eventually(playlist.exists, within=10, what="ffmpeg's playlist")
        delays = asyncio.run(clocked(tmp_path, seconds=5))
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(delays.describe())
    assert len(delays.seen) >= 3, delays.describe()
    assert all(0 < d.seconds < 3 for d in delays.seen), delays.describe()


def test_a_segment_without_stamps_is_said_to_have_none(tmp_path: Path) -> None:
    out = tmp_path / "plain.ts"
    subprocess.run([*FFMPEG, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "1",
                    "-c:v", "libx264", "-f", "mpegts", str(out)], check=True)  # fmt: skip
    assert first_stamp(out.read_bytes()) is None


@pytest.mark.parametrize("base", [1796300725.5])
def test_the_first_frames_stamp_is_read_from_mpeg_ts(tmp_path: Path, base: float) -> None:
    source, out = tmp_path / "stamped.flv", tmp_path / "copy.ts"
    stamped_flv(source, seconds=2, base=base)
    subprocess.run([*FFMPEG, "-i", str(source), "-c", "copy", "-f", "mpegts", str(out)], check=True)
    first_video = next(tag for tag in clip().frames if tag.is_video_frame)
    assert first_stamp(out.read_bytes()) == pytest.approx(base + first_video.timestamp / 1000)


def test_the_browser_reads_the_delay_on_ffmpegs_hls_of_stamped_media(tmp_path: Path) -> None:
    """The player page's account (support/hls/player.html) on a packager we did not write:
    ffmpeg packages the stamped media live, hls.js plays it, and the page finds a stamp near
    every picture it shows, behind the camera by about its live sync distance."""
    try:
        require_browser()
    except BrowserUnavailable as missing:
        pytest.skip(str(missing))
    source, playlist = tmp_path / "stamped.flv", tmp_path / "index.m3u8"
    stamped_flv(source, seconds=30, base=time.time() + 0.2)
    process = subprocess.Popen(
        [*FFMPEG, "-re", "-i", str(source), "-c", "copy", "-f", "hls", "-hls_time", "1",
         "-hls_list_size", "4", "-hls_flags", "delete_segments", str(playlist)],
    )  # fmt: skip
    loop = RunLoop()
    try:
        eventually(playlist.exists, within=10, what="ffmpeg's playlist")
        page = loop.run(serve_player(media=tmp_path))
        player = Player(page.url_for(page.media_url("index.m3u8")))
        player.wait_until(lambda p: len(p.behind().seen) >= 5, within=20)
        behind = player.stop().behind()
        loop.run(page.close())
    finally:
        loop.close()
        process.terminate()
        process.wait(timeout=10)
    print(behind.describe())
    assert len(behind.seen) >= 5, behind.describe()
    assert all(0.5 < d.seconds < 6 for d in behind.seen), behind.describe()
