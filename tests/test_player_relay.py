"""The player page's relay (support/hls/browser.py, serve_player's `upstream`): what is under the
target's HLS address comes from the page's own origin, byte for byte, with its status and type,
so that Chromium's network emulation, which holds back only that origin, applies to it."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from support.core.loop import RunLoop
from support.hls.browser import serve_player
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
