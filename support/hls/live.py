"""Watching a live HLS stream as a player does, checking everything downloaded on the way.

Reloads follow RFC 8216 6.3.4: one target duration after a changed playlist, half of one after
an unchanged one, none after EXT-X-ENDLIST. Every new segment is fetched and judged in its own
format: MPEG-TS down to the packets (support.media.ts), or fMP4 with the initialization section
of its EXT-X-MAP, fetched once per map (support.media.fmp4). A segment with EXT-X-BYTERANGE is
fetched as its sub-range, as players fetch it. A segment that leaves the playlist is fetched once
more, since players may still be on it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from support.core.verdict import MUST, Check, Rule, failures, warnings
from support.hls.fetch import get, get_range
from support.hls.playlist import (
    PARSES,
    Playlist,
    Resource,
    Segment,
    check_encoding,
    check_playlist,
    check_response,
)
from support.hls.reloads import PlaylistHistory
from support.media import fmp4, ts
from support.media.ffprobe import check_playable
from support.media.segments import Timeline

SEGMENT_SERVED = Rule("every segment the playlist lists is served", MUST, "contract: HLS")
MAP_SERVED = Rule("the EXT-X-MAP initialization section is served", MUST, "RFC 8216 4.3.2.5")
REMOVED_STAY = Rule("a removed segment stays available for a while", MUST, "RFC 8216 6.2.2")
TS_WITHOUT_MAP = Rule(
    "a segment without EXT-X-MAP is MPEG-TS (fMP4 needs EXT-X-MAP)", MUST, "RFC 8216 3.3"
)


@dataclass
class Downloaded:
    """One segment as judged: its bytes, what the playlist said, and its timeline."""

    segment: Segment
    data: bytes
    timeline: Timeline


@dataclass
class LiveReport:
    url: str
    checks: list[Check] = field(default_factory=list)
    reloads: int = 0
    segments: dict[int, Downloaded] = field(default_factory=dict)
    # Each EXT-X-MAP's bytes, and what they say when they are fMP4 (None: MPEG-TS tables).
    inits: dict[Resource, tuple[bytes, fmp4.Init | None]] = field(default_factory=dict)
    last_playlist: str = ""
    urls: list[str] = field(default_factory=list)

    def failures(self) -> list[Check]:
        return failures(self.checks)

    def warnings(self) -> list[Check]:
        return warnings(self.checks)

    def media(self) -> bytes:
        """Every segment downloaded, in order, as a player feeds its decoder (fMP4: init first)."""
        window = [self.segments[n] for n in sorted(self.segments)]
        maps = [d.segment.map for d in window if d.segment.map]
        init = self.inits[maps[0]][0] if maps and maps[0] in self.inits else b""
        return init + b"".join(d.data for d in window)

    @property
    def seconds(self) -> float:
        """What the playlists said the downloaded segments last."""
        return sum(d.segment.duration for d in self.segments.values())

    def describe(self) -> str:
        seen: dict[tuple[str, bool, bool], int] = {}
        for check in self.checks:
            key = (str(check.rule), check.passed, check.warning)
            seen[key] = seen.get(key, 0) + 1
        lines = [f"{self.url}: {self.reloads} reloads, {len(self.segments)} segments checked"]
        lines += [
            f"  {'ok  ' if ok else ('warn' if warn else 'FAIL')} x{count} {rule}"
            for (rule, ok, warn), count in seen.items()
        ]
        lines += [f"  {check}" for check in self.checks if not check.passed][:20]
        lines.append("last playlist:\n" + self.last_playlist)
        return "\n".join(lines)


async def watch(
    session: aiohttp.ClientSession, url: str, *, seconds: float, secret: str | None = None
) -> LiveReport:
    report = LiveReport(url)
    history = PlaylistHistory()
    previous: Playlist | None = None
    ends = time.monotonic() + seconds
    base = url.rsplit("/", 1)[0]
    wait = 0.0
    while True:
        status, content_type, body = await get(session, url)
        now = time.monotonic()
        report.reloads += 1
        report.urls.append(url)
        report.checks += check_response(url, status, content_type)
        if status != 200:
            break
        report.checks.append(check_encoding(body))
        text = body.decode(errors="replace")
        report.last_playlist = text
        checks = check_playlist(text, secret)
        report.checks += checks
        if any(check.rule is PARSES for check in failures(checks)):
            break
        playlist = Playlist.parse(text)
        report.checks += history.add(now, playlist)
        if previous is not None:
            report.checks.append(history.stall(now, resolution=wait))
            for gone in (s for s in previous.segments if s.sequence < playlist.media_sequence):
                gone_status, _, _ = await get_range(session, f"{base}/{gone.uri}", gone.byterange)
                report.checks.append(
                    REMOVED_STAY.check(gone_status == 200, f"{gone.resource}: {gone_status}")
                )
        for segment in playlist.segments:
            if segment.sequence not in report.segments:
                await download(session, base, segment, report)
        changed = previous is None or playlist.segments != previous.segments
        previous = playlist
        if now >= ends or playlist.ended:
            break
        target = playlist.target_duration or 1
        wait = target if changed else target / 2
        await asyncio.sleep(wait)  # a player's reload interval, not a wait for a condition
    return report


async def download(
    session: aiohttp.ClientSession, base: str, segment: Segment, report: LiveReport
) -> None:
    url = f"{base}/{segment.uri}"
    report.urls.append(url)
    status, data, checks = await get_range(session, url, segment.byterange)
    report.checks += checks
    report.checks.append(SEGMENT_SERVED.check(status == 200, f"{segment.resource}: {status}"))
    if status != 200:
        return
    timeline: Timeline
    if segment.map is None:
        if not data.startswith(bytes([ts.SYNC])) and fmp4.looks_like_iso_bmff(data):
            report.checks.append(TS_WITHOUT_MAP.check(False, f"{segment.uri} is ISO BMFF"))
            return
        checks, timeline = ts.check_segment(data, segment.duration)
        playable = data
    else:
        init = await initialization(session, base, segment.map, report)
        if init is None:
            return
        init_data, parsed_init = init
        if parsed_init is None:  # MPEG-TS whose PAT and PMT are in the map (RFC 8216 3.2)
            checks, timeline = ts.check_segment(data, segment.duration, initialization=init_data)
        else:
            checks, timeline = fmp4.check_segment(data, parsed_init, segment.duration)
        playable = init_data + data
    report.checks += checks
    if not report.segments:
        report.checks += await asyncio.to_thread(check_playable, playable)
    before = report.segments.get(segment.sequence - 1)
    if (
        before is not None
        and type(before.timeline) is type(timeline)
        and before.segment.map == segment.map
        and not segment.discontinuity
    ):
        report.checks += timeline.follows(before.timeline)
    report.segments[segment.sequence] = Downloaded(segment, data, timeline)


async def initialization(
    session: aiohttp.ClientSession, base: str, section: Resource, report: LiveReport
) -> tuple[bytes, fmp4.Init | None] | None:
    """The initialization section of an EXT-X-MAP, fetched and judged once per map: fMP4's
    'ftyp' and 'moov', or MPEG-TS packets holding the PAT and PMT (judged with each segment)."""
    if section not in report.inits:
        url = f"{base}/{section.uri}"
        report.urls.append(url)
        status, data, checks = await get_range(session, url, section.byterange)
        report.checks += checks
        report.checks.append(MAP_SERVED.check(status == 200, f"{section}: {status}"))
        if status != 200:
            return None
        if data.startswith(bytes([ts.SYNC])):
            report.inits[section] = (data, None)
        else:
            init = fmp4.read_init(data)
            report.checks += init.checks
            report.inits[section] = (data, init)
    return report.inits[section]
