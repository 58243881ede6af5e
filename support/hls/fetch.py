"""HLS: fetching what viewers download (the rules are in playlist.py, reloads.py, live.py)."""

from __future__ import annotations

import aiohttp

from support.core.verdict import MUST, Check, Rule
from support.hls.playlist import ByteRange, Playlist

TIMEOUT = aiohttp.ClientTimeout(total=10)

RANGE_SERVED = Rule(
    "a byte range is served as asked (206 with exactly those bytes, or 200 with the whole"
    " resource)", MUST, "RFC 9110 14.2, 15.3.7; RFC 8216 4.3.2.2",
)  # fmt: skip


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a playlist or segment, as a player fetches it."""
    async with session.get(url, timeout=TIMEOUT) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def get_range(
    session: aiohttp.ClientSession, url: str, byterange: ByteRange | None
) -> tuple[int, bytes, list[Check]]:
    """A resource, or the sub-range of it a playlist names, as a player asks for it (a Range
    header). A server may ignore Range and send the whole resource (RFC 9110 14.2): then the
    sub-range is cut from it here, as players do."""
    if byterange is None:
        status, _, data = await get(session, url)
        return status, data, []
    headers = {"Range": byterange.header}
    async with session.get(url, timeout=TIMEOUT, headers=headers) as response:
        status, data = response.status, await response.read()
        answered = response.headers.get("Content-Range", "")
    end = byterange.offset + byterange.length
    if status == 200 and len(data) >= end:
        return 200, data[byterange.offset : end], []
    if status not in (200, 206):
        return status, data, []
    exact = (
        status == 206
        and len(data) == byterange.length
        and answered.startswith(f"bytes {byterange.offset}-{end - 1}/")
    )
    check = RANGE_SERVED.check(
        exact, f"asked {byterange.header}, got {status} {answered!r} with {len(data)} bytes"
    )
    return (200 if exact else status), data, [check]


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
