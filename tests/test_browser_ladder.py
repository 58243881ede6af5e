"""A real browser on a rendition ladder: hls.js in headless Chromium plays ffmpeg's two-rung live
ladder, settles on the lower rung when Chromium's own network emulation holds its download
under the upper rung's bit rate, and climbs back when the network is let go. The player page's
level switches are what is judged (support/hls/player.html, support/hls/browser.py)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.core.loop import RunLoop
from support.harness.polling import eventually
from support.hls.browser import BrowserUnavailable, Player, require_browser, serve_player

LADDER = [
    "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-re",
    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "120",
    "-filter_complex", "[0:v]split=2[a][b];[b]scale=320:180[low]",
    "-map", "[a]", "-map", "[low]", "-map", "1:a", "-map", "1:a",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    "-b:v:0", "2500k", "-maxrate:v:0", "2500k", "-bufsize:v:0", "2500k",
    "-b:v:1", "200k", "-maxrate:v:1", "200k", "-bufsize:v:1", "200k",
    "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k",
    "-f", "hls", "-hls_time", "1", "-hls_list_size", "6", "-hls_flags", "delete_segments",
    "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
]  # fmt: skip
LOW, HIGH = 180, 360  # the rungs' heights; their BANDWIDTH: 0.29 and 2.8 Mbit/s


def listed(playlist: Path, at_least: int) -> None:
    assert playlist.exists(), f"no {playlist.name} yet"
    assert playlist.read_text().count("#EXTINF") >= at_least, f"{playlist.name} is filling"


@pytest.fixture
def ladder(tmp_path: Path) -> Iterator[Path]:
    """ffmpeg packaging a live ladder in real time (a live player keeps a few segments of
    buffer, so its choice of rung follows the network within seconds)."""
    try:
        require_browser()
    except BrowserUnavailable as missing:
        pytest.skip(str(missing))
    process = subprocess.Popen([*LADDER, str(tmp_path / "out_%v.m3u8")])
    try:
        eventually(lambda: listed(tmp_path / "out_1.m3u8", 3), within=20, what="the ladder")
        yield tmp_path
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def player_of(ladder: Path) -> Iterator[Player]:
    loop = RunLoop()
    page = loop.run(serve_player(media=ladder))  # one origin: the network emulation applies
    player = Player(page.url_for(page.media_url("master.m3u8")))
    try:
        yield player
    finally:
        player.close()
        loop.run(page.close())
        loop.close()


def height_now(player: Player) -> int | None:
    switched = player.playback.level_at(time.time())
    return switched["height"] if switched else None


def test_hlsjs_settles_lower_on_a_slow_network_and_climbs_back(player_of: Player) -> None:
    player = player_of
    assert player.wait_until(lambda p: height_now(player) == HIGH, within=20), (
        f"hls.js never played the upper rung: {player.playback.switches()}"
    )
    # Under the upper rung's 2.8 Mbit/s, over the lower's 0.3: each upper segment now takes twice
    # its duration, so hls.js measures the network and switches down (throttled to a fifth of
    # that, every upper segment's load outlives the live window and hls.js, measuring nothing,
    # never switched: measured).
    player.throttle(1500)
    throttled_at = time.time()
    assert player.wait_until(lambda p: height_now(player) == LOW, within=25), (
        f"hls.js did not settle on the lower rung: {player.playback.switches()}"
    )
    settled = time.time()
    player.throttle(None)
    # hls.js climbs back once its bandwidth estimate recovers: 15 s measured alone, over 30 s once
    # while the other tests loaded both cores.
    assert player.wait_until(lambda p: height_now(player) == HIGH, within=45), (
        f"hls.js did not climb back: {player.playback.switches()}"
    )
    playback = player.stop()
    print(
        f"switches: {playback.switches()}; throttled at {throttled_at:.1f}, settled {settled:.1f}"
    )
    after = playback.between(settled)
    assert after.problems(ratio=0.0) == [], "the lower rung did not play on"
    levels = playback.samples[-1]["levels"]
    assert sorted(level["height"] for level in levels) == [LOW, HIGH]
