"""The player page (support/hls/browser.py): its relay of the target's HLS (serve_player's
`upstream`: what is under the target's HLS address comes from the page's own origin, byte for
byte, with its status and type, so that Chromium's network emulation, which holds back only that
origin, applies to it), and what the slow-connection scenario reads of a playback."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from support.core.loop import RunLoop
from support.hls.browser import Playback, serve_player
from support.hls.local import served


def test_the_relay_answers_as_the_target_does(tmp_path: Path) -> None:
    (tmp_path / "ladder").mkdir()
    (tmp_path / "ladder" / "a.m3u8").write_text("#EXTM3U\n")
    (tmp_path / "ladder" / "0.ts").write_bytes(bytes(range(256)) * 10)

    async def relayed() -> list[tuple[int, str, bytes]]:
        async with served(tmp_path) as base, aiohttp.ClientSession() as session:
            page = await serve_player(upstream=base)
            answers = []
            for name in ("ladder/a.m3u8", "ladder/0.ts", "ladder/missing.ts"):
                async with session.get(page.media_url(name)) as answer:
                    answers.append((answer.status, answer.content_type, await answer.read()))
            await page.close()
            return answers

    loop = RunLoop()
    try:
        playlist, segment, missing = loop.run(relayed())
    finally:
        loop.close()
    assert playlist[0] == 200
    assert playlist[2] == b"#EXTM3U\n"
    assert segment[0] == 200
    assert segment[2] == bytes(range(256)) * 10
    assert missing[0] == 404, "a missing file is missing, not relayed as something else"


def test_a_playback_tells_when_it_plays_below_its_tallest_rendition() -> None:
    """What the slow-connection scenario asks of hls.js's switches (support/hls/player.html)."""
    state = {
        "levels": [{"height": 240}, {"height": 180}, {"height": 120}],
        "switches": [{"at": 10.0, "height": 240}, {"at": 20.0, "height": 120}],
    }
    playback = Playback([{"wall": 25.0, **state}])
    assert playback.top_height() == 240
    assert not playback.below(240, 5.0), "nothing played before the first switch"
    assert not playback.below(240, 15.0), "the tallest is not below itself"
    assert playback.below(240, 21.0)
    assert not playback.below(120, 21.0)
    assert Playback().top_height() == 0
