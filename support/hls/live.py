"""Watching a live HLS stream as a player does, checking everything downloaded on the way.

Reloads follow RFC 8216 6.3.4: one target duration after a changed playlist, half of one after
an unchanged one. Every new segment is fetched and checked down to its packets; a segment that
leaves the playlist is fetched once more, since players may still be on it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from support.hls import get
from support.hls.playlist import Check, Playlist, check_playlist, check_response, failures
from support.hls.reloads import PlaylistHistory
from support.media import ts


@dataclass
class LiveReport:
    url: str
    checks: list[Check] = field(default_factory=list)
    reloads: int = 0
    segments: dict[int, ts.Segment] = field(default_factory=dict)
    durations: dict[int, float] = field(default_factory=dict)
    data: dict[int, bytes] = field(default_factory=dict)
    last_playlist: str = ""
    urls: list[str] = field(default_factory=list)

    def failures(self) -> list[Check]:
        return failures(self.checks)

    def describe(self) -> str:
        seen: dict[tuple[str, bool, bool], int] = {}
        for check in self.checks:
            key = (check.rule, check.passed, check.warning)
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
    last_checked: tuple[int, ts.Segment] | None = None
    ends = time.monotonic() + seconds
    base = url.rsplit("/", 1)[0]
    wait = 0.0
    while True:
        status, content_type, body = await get(session, url)
        now = time.monotonic()
        report.reloads += 1
        report.urls.append(url)
        report.checks += check_response(status, content_type)
        if status != 200:
            break
        text = body.decode(errors="replace")
        report.last_playlist = text
        report.checks += check_playlist(text, secret)
        playlist = Playlist.parse(text)
        report.checks += history.add(now, playlist)
        if previous is not None:
            report.checks.append(history.stall(now, resolution=wait))
            for gone in (s for s in previous.segments if s.sequence < playlist.media_sequence):
                gone_status, _, _ = await get(session, f"{base}/{gone.uri}")
                report.checks.append(
                    Check(
                        "removed segments stay fetchable for a while",
                        gone_status == 200,
                        f"{gone.uri}: {gone_status}",
                    )
                )
        for segment in playlist.segments:
            if segment.sequence in report.segments:
                continue
            segment_url = f"{base}/{segment.uri}"
            report.urls.append(segment_url)
            seg_status, _, data = await get(session, segment_url)
            report.checks.append(
                Check(
                    "every segment URI fetchable", seg_status == 200, f"{segment.uri}: {seg_status}"
                )
            )
            if seg_status != 200:
                continue
            checks, parsed = ts.check_segment(data, segment.duration)
            report.checks += checks
            if not report.segments:
                report.checks.append(await asyncio.to_thread(ts.ffprobe_streams, data))
            if last_checked is not None and last_checked[0] == segment.sequence - 1:
                report.checks.append(ts.check_continuity(last_checked[1], parsed))
            report.segments[segment.sequence] = parsed
            report.durations[segment.sequence] = segment.duration
            report.data[segment.sequence] = data
            last_checked = (segment.sequence, parsed)
        changed = previous is None or playlist.segments != previous.segments
        previous = playlist
        if now >= ends:
            break
        target = playlist.target_duration or 1
        wait = target if changed else target / 2
        await asyncio.sleep(wait)  # a player's reload interval, not a wait for a condition
    return report
