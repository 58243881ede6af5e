"""HLS: fetching what viewers download (the rules are in playlist.py, reloads.py, live.py)."""

from __future__ import annotations

import aiohttp

from support.hls.playlist import Playlist

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a playlist or segment, as a player fetches it."""
    async with session.get(url, timeout=TIMEOUT) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    """Status and text of a playlist."""
    status, _, body = await get(session, url)
    return status, body.decode(errors="replace")


async def served_segments(session: aiohttp.ClientSession, url: str) -> list[str]:
    """The segment URIs of the playlist served now. AssertionError if it cannot be had (no
    answer, an error status, no segment yet), so that `eventually` asks again."""
    try:
        status, text = await fetch(session, url)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise AssertionError(f"the playlist could not be fetched: {error!r}") from None
    assert status == 200, f"the playlist answers {status}"
    segments = [segment.uri for segment in Playlist.parse(text).segments]
    assert segments, "the playlist has no segment yet"
    return segments
