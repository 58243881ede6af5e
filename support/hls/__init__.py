"""HLS: fetching what viewers download (playlist rules come with the HLS checker)."""

from __future__ import annotations

import aiohttp


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    """Status and text of a playlist URL, as a player would fetch it."""
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
        return response.status, await response.text(errors="replace")
