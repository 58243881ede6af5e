"""HLS: fetching what viewers download (the rules are in playlist.py, reloads.py, live.py)."""

from __future__ import annotations

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a playlist or segment, as a player fetches it."""
    async with session.get(url, timeout=TIMEOUT) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    """Status and text of a playlist."""
    status, _, body = await get(session, url)
    return status, body.decode(errors="replace")
