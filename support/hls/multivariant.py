"""Multivariant playlists judged to the letter of RFC 8216 (and, where it says so, Apple's HLS
Authoring Specification): the playlist itself, what each variant declares against what its
segments measure, and whether the variants line up so that a player can switch between them.

- The playlist (4.3.4.2): every EXT-X-STREAM-INF has BANDWIDTH and is followed by its URI; it
  SHOULD have CODECS, and RESOLUTION for video; the Authoring Specification asks for
  AVERAGE-BANDWIDTH and FRAME-RATE too. Media segment tags have no place in it (4.1).
- Declared against measured: BANDWIDTH is the peak segment bit rate and AVERAGE-BANDWIDTH the
  average one (4.1 defines both over the segments' sizes and durations; the Authoring
  Specification allows 10 %); CODECS names the codecs the bitstream holds (RFC 6381, from the
  SPS and the AAC object type, support/media/codecs.py); RESOLUTION and FRAME-RATE are the
  video's (ffprobe's reading of the first segment).
- Across variants (6.2.4): one target duration, matching discontinuity sequence numbers and
  timestamps for matching content (the same media sequence number), content in one variant and
  not another only at the edges and no longer than a target duration; segments that start
  with a keyframe at the same instants can be switched between (Authoring Specification).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from fractions import Fraction
from urllib.parse import urljoin

import aiohttp

from support.core.verdict import MUST, SHOULD, Check, Rule, failures, warnings
from support.hls.fetch import get, get_range
from support.hls.live import LiveReport, watch
from support.hls.playlist import (
    DECIMAL_INTEGER,
    PARSES,
    Playlist,
    PlaylistError,
    Segment,
    attributes,
    is_tag,
    lines_of,
)
from support.media import codecs, fmp4, ts
from support.media.ffprobe import streams

AUTHORING = "HLS Authoring Specification"
SEGMENT_TAGS = ("#EXTINF", "#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-BYTERANGE")
TOLERANCE = 0.10  # the Authoring Specification's "within 10 %"

HAS_BANDWIDTH = Rule(
    "every EXT-X-STREAM-INF has BANDWIDTH, a decimal-integer", MUST, "RFC 8216 4.3.4.2"
)
HAS_URI = Rule("every EXT-X-STREAM-INF is followed by its variant's URI", MUST, "RFC 8216 4.3.4.2")
NO_SEGMENT_TAGS = Rule("a multivariant playlist carries no media segment tag", MUST, "RFC 8216 4.1")
HAS_VARIANT = Rule("a multivariant playlist lists at least one variant", MUST, "RFC 8216 4.3.4.2")
HAS_CODECS = Rule("every EXT-X-STREAM-INF has CODECS", SHOULD, "RFC 8216 4.3.4.2")
HAS_RESOLUTION = Rule("a variant with video has RESOLUTION", SHOULD, "RFC 8216 4.3.4.2")
HAS_AVERAGE = Rule("every EXT-X-STREAM-INF has AVERAGE-BANDWIDTH", SHOULD, AUTHORING)
HAS_FRAME_RATE = Rule("a variant with video has FRAME-RATE", SHOULD, AUTHORING)
VARIANT_SERVED = Rule(
    "every variant's media playlist is served and parses", MUST, "RFC 8216 4.3.4.2"
)
PEAK_DECLARED = Rule(
    "the measured peak segment bit rate is at most BANDWIDTH (10 % allowed)",
    MUST,
    f"RFC 8216 4.3.4.2, 4.1; {AUTHORING}",
)
PEAK_NOT_INFLATED = Rule(
    "BANDWIDTH is within 10 % of the measured peak segment bit rate", SHOULD, AUTHORING
)
AVERAGE_DECLARED = Rule(
    "the measured average segment bit rate is at most AVERAGE-BANDWIDTH (10 % allowed)",
    MUST,
    f"RFC 8216 4.3.4.2, 4.1; {AUTHORING}",
)
CODECS_MATCH = Rule(
    "CODECS names every codec the segments carry, as RFC 6381 does", MUST, "RFC 8216 4.3.4.2"
)
RESOLUTION_MATCH = Rule("RESOLUTION is the video's size", SHOULD, "RFC 8216 4.3.4.2")
FRAME_RATE_MATCH = Rule("FRAME-RATE is the video's frame rate", MUST, "RFC 8216 4.3.4.2")
SAME_TARGET = Rule("every variant has the same target duration", MUST, "RFC 8216 6.2.4")
SAME_DISCONTINUITIES = Rule(
    "matching content has matching discontinuity sequence numbers", MUST, "RFC 8216 6.2.4"
)
SAME_TIMESTAMPS = Rule("matching content has matching timestamps", MUST, "RFC 8216 6.2.4")
EDGES_ONLY = Rule(
    "content in one variant and not another is at an edge, no longer than the target duration",
    MUST,
    "RFC 8216 6.2.4",
)
SWITCHABLE = Rule(
    "matching segments start with a keyframe in every variant (switchable)", SHOULD, AUTHORING
)

# What the scenarios ask of a ladder, rule by rule (features/hls_validation.feature).
PLAYLIST_RULES = (
    PARSES, HAS_BANDWIDTH, HAS_URI, NO_SEGMENT_TAGS, HAS_VARIANT, HAS_CODECS, HAS_RESOLUTION,
    HAS_AVERAGE, HAS_FRAME_RATE, VARIANT_SERVED, CODECS_MATCH, RESOLUTION_MATCH, FRAME_RATE_MATCH,
)  # fmt: skip
BIT_RATE_RULES = (PEAK_DECLARED, PEAK_NOT_INFLATED, AVERAGE_DECLARED)
ALIGNMENT_RULES = (SAME_TARGET, SAME_DISCONTINUITIES, SAME_TIMESTAMPS, EDGES_ONLY, SWITCHABLE)


@dataclass(frozen=True)
class Variant:
    """One EXT-X-STREAM-INF and its URI, as declared."""

    uri: str
    bandwidth: int | None
    average: int | None
    codecs: tuple[str, ...]
    resolution: tuple[int, int] | None
    frame_rate: float | None


def is_multivariant(text: str) -> bool:
    return any(is_tag(line, "#EXT-X-STREAM-INF") for line in lines_of(text))


def read(text: str) -> tuple[list[Variant], list[Check]]:
    """The variants a multivariant playlist declares, and the rules on its own lines."""
    lines = lines_of(text)
    variants, checks = [], []
    segment_tags = [line for line in lines if line.startswith(SEGMENT_TAGS)]
    checks.append(NO_SEGMENT_TAGS.check(not segment_tags, f"{segment_tags[:3]}"))
    for index, line in enumerate(lines):
        if not is_tag(line, "#EXT-X-STREAM-INF"):
            continue
        found = attributes(line)
        uri = lines[index + 1] if index + 1 < len(lines) else ""
        where = f"line {index + 1}: {line}"
        checks.append(HAS_URI.check(bool(uri) and not uri.startswith("#"), where))
        bandwidth = found.get("BANDWIDTH", "")
        checks.append(HAS_BANDWIDTH.check(bool(DECIMAL_INTEGER.fullmatch(bandwidth)), where))
        checks.append(HAS_CODECS.check("CODECS" in found, where))
        checks.append(HAS_AVERAGE.check("AVERAGE-BANDWIDTH" in found, where))
        resolution = size(found.get("RESOLUTION", ""))
        declared = tuple(c.strip() for c in found.get("CODECS", "").split(",") if c.strip())
        video = not declared or any(
            c.startswith(("avc1", "avc3", "hvc1", "hev1")) for c in declared
        )
        if video:
            checks.append(HAS_RESOLUTION.check(resolution is not None, where))
            checks.append(HAS_FRAME_RATE.check("FRAME-RATE" in found, where))
        average = found.get("AVERAGE-BANDWIDTH", "")
        rate = found.get("FRAME-RATE", "")
        variants.append(Variant(
            uri if not uri.startswith("#") else "",
            int(bandwidth) if DECIMAL_INTEGER.fullmatch(bandwidth) else None,
            int(average) if DECIMAL_INTEGER.fullmatch(average) else None,
            declared,
            resolution,
            float(rate) if rate.replace(".", "", 1).isdigit() else None,
        ))  # fmt: skip
    checks.append(HAS_VARIANT.check(bool(variants), f"{len(variants)} EXT-X-STREAM-INF"))
    return variants, checks


def size(text: str) -> tuple[int, int] | None:
    width, _, height = text.partition("x")
    return (int(width), int(height)) if width.isdigit() and height.isdigit() else None


@dataclass(frozen=True)
class Start:
    """Where a segment starts: its first video frame's time, and whether that is a keyframe."""

    seconds: float
    keyframe: bool


@dataclass
class Measured:
    """One variant as downloaded: its media playlist and what its segments are."""

    url: str
    playlist: Playlist | None = None
    sizes: dict[int, tuple[int, float]] = field(default_factory=dict)  # sequence: bytes, EXTINF
    starts: dict[int, Start] = field(default_factory=dict)
    discontinuities: dict[int, int] = field(default_factory=dict)  # sequence: its number
    codecs: set[str] = field(default_factory=set)
    video: dict[str, object] = field(default_factory=dict)  # ffprobe's first video stream
    problem: str = ""  # why it could not be measured

    def peak(self) -> float | None:
        """RFC 8216 4.1: the largest bit rate of any contiguous set of segments whose total
        duration is between 0.5 and 1.5 times the target duration."""
        target = self.playlist.target_duration if self.playlist else None
        ordered = [self.sizes[n] for n in sorted(self.sizes)]
        rates = []
        for first in range(len(ordered)):
            total, seconds = 0, 0.0
            for length, duration in ordered[first:]:
                total, seconds = total + length, seconds + duration
                if target and seconds > 1.5 * target:
                    break
                if seconds > 0 and (not target or seconds >= 0.5 * target):
                    rates.append(total * 8 / seconds)
        return max(rates, default=None)

    def average(self) -> float | None:
        """RFC 8216 4.1: the segments' bits over their duration."""
        seconds = sum(duration for _, duration in self.sizes.values())
        return sum(length for length, _ in self.sizes.values()) * 8 / seconds if seconds else None


async def measure(session: aiohttp.ClientSession, url: str, limit: int) -> Measured:
    """Download a variant's media playlist and up to `limit` of its segments (a live one's
    newest, a finished one's first), and read what they are."""
    found = Measured(url)
    status, _, body = await get(session, url)
    if status != 200:
        found.problem = f"{url}: {status}"
        return found
    try:
        found.playlist = Playlist.parse(body.decode(errors="replace"))
    except PlaylistError as error:
        found.problem = f"{url}: {error}"
        return found
    segments = list(found.playlist.segments)
    chosen = segments[:limit] if found.playlist.ended else segments[-limit:]
    inits: dict[object, bytes] = {}
    for segment in chosen:
        status, data, _ = await get_range(session, urljoin(url, segment.uri), segment.byterange)
        if status != 200:
            found.problem = f"{segment.uri}: {status}"
            continue
        init = b""
        if segment.map is not None:
            if segment.map not in inits:
                _, inits[segment.map], _ = await get_range(
                    session, urljoin(url, segment.map.uri), segment.map.byterange
                )
            init = inits[segment.map]
        read_segment(found, segment, data, init)
    return found


def read_segment(found: Measured, segment: Segment, data: bytes, init: bytes) -> None:
    found.sizes[segment.sequence] = (len(data), segment.duration)
    found.discontinuities[segment.sequence] = segment.discontinuity_number
    if init and not init.startswith(bytes([ts.SYNC])):
        parsed = fmp4.read_init(init)
        _, fragments = fmp4.read_fragments(data, parsed)
        track = fmp4.video_track(parsed)
        if track is not None and track.track_id in fragments.starts:
            found.starts[segment.sequence] = Start(
                fragments.starts[track.track_id] / track.timescale,
                fragments.first_sample_sync.get(track.track_id, False),
            )
        found.codecs |= codecs.fmp4_codecs(init)
    else:
        parsed_ts = ts.read(data, init)
        if parsed_ts.video_pts:
            found.starts[segment.sequence] = Start(
                min(parsed_ts.video_pts) / ts.PTS_HZ, parsed_ts.starts_with_idr
            )
        found.codecs |= codecs.ts_codecs(init + data)
    if not found.video:
        found.video = next((s for s in streams(init + data) if s.get("codec_type") == "video"), {})


def check_declared(variant: Variant, found: Measured) -> list[Check]:
    """What the variant declares against what its segments measure."""
    where = variant.uri
    checks: list[Check] = []
    peak, average = found.peak(), found.average()
    if variant.bandwidth is not None and peak is not None:
        checks.append(PEAK_DECLARED.check(
            peak <= variant.bandwidth * (1 + TOLERANCE),
            f"{where}: peak {peak / 1000:.0f} kbit/s, BANDWIDTH {variant.bandwidth / 1000:.0f}",
        ))  # fmt: skip
        checks.append(PEAK_NOT_INFLATED.check(
            variant.bandwidth <= peak * (1 + TOLERANCE),
            f"{where}: BANDWIDTH {variant.bandwidth / 1000:.0f} kbit/s, peak {peak / 1000:.0f}",
        ))  # fmt: skip
    if variant.average is not None and average is not None:
        checks.append(AVERAGE_DECLARED.check(
            average <= variant.average * (1 + TOLERANCE),
            f"{where}: average {average / 1000:.0f} kbit/s, "
            f"AVERAGE-BANDWIDTH {variant.average / 1000:.0f}",
        ))  # fmt: skip
    if variant.codecs and found.codecs:
        declared = {c.lower() for c in variant.codecs}
        checks.append(CODECS_MATCH.check(
            declared == {c.lower() for c in found.codecs},
            f"{where}: CODECS {sorted(declared)}, the segments carry {sorted(found.codecs)}",
        ))  # fmt: skip
    width, height = found.video.get("width"), found.video.get("height")
    if variant.resolution is not None and isinstance(width, int) and isinstance(height, int):
        checks.append(RESOLUTION_MATCH.check(
            variant.resolution == (width, height),
            f"{where}: RESOLUTION {variant.resolution}, the video is {width}x{height}",
        ))  # fmt: skip
    rate = found.video.get("r_frame_rate")
    if variant.frame_rate is not None and isinstance(rate, str) and "/" in rate:
        measured = float(Fraction(rate))
        checks.append(FRAME_RATE_MATCH.check(
            abs(measured - variant.frame_rate) <= 0.0005 + 0.005 * measured,
            f"{where}: FRAME-RATE {variant.frame_rate}, the video is {measured:.3f} fps",
        ))  # fmt: skip
    return checks


def check_across(variants: list[Variant], measured: list[Measured]) -> list[Check]:
    """RFC 8216 6.2.4 over the variants' media playlists and the segments downloaded."""
    playable = [(v, m) for v, m in zip(variants, measured, strict=True) if m.playlist]
    if len(playable) < 2:
        return []
    targets = {v.uri: m.playlist.target_duration for v, m in playable if m.playlist}
    checks = [SAME_TARGET.check(len(set(targets.values())) == 1, f"{targets}")]
    common = set.intersection(*(set(m.starts) for _, m in playable))
    frame = min(frame_interval(m) for _, m in playable)  # matching starts are within half of it
    for sequence in sorted(common):
        numbers = {v.uri: m.discontinuities[sequence] for v, m in playable}
        checks.append(SAME_DISCONTINUITIES.check(
            len(set(numbers.values())) == 1, f"segment {sequence}: {numbers}"
        ))  # fmt: skip
        starts = {v.uri: m.starts[sequence] for v, m in playable}
        times = [s.seconds for s in starts.values()]
        at = ", ".join(f"{uri} {start.seconds:.3f} s" for uri, start in starts.items())
        checks.append(SAME_TIMESTAMPS.check(
            max(times) - min(times) <= frame / 2, f"segment {sequence} starts at {at}"
        ))  # fmt: skip
        checks.append(SWITCHABLE.check(
            all(s.keyframe for s in starts.values()),
            f"segment {sequence}: keyframe first in {[u for u, s in starts.items() if s.keyframe]}",
        ))  # fmt: skip
    listed = [
        (v, {s.sequence: s.duration for s in m.playlist.segments})
        for v, m in playable
        if m.playlist
    ]
    every = set.union(*(set(durations) for _, durations in listed))
    everywhere = set.intersection(*(set(durations) for _, durations in listed))
    if everywhere:
        low, high = min(everywhere), max(everywhere)
        for variant, durations in listed:
            extra = {n: d for n, d in durations.items() if n not in everywhere}
            inside = [n for n in extra if low < n < high]
            target = targets[variant.uri] or 0
            checks.append(EDGES_ONLY.check(
                not inside and sum(extra.values()) <= target,
                f"{variant.uri}: segments {sorted(extra)} ({sum(extra.values()):.1f} s) "
                f"that not every variant lists, of {sorted(every)[:1]}..{sorted(every)[-1:]}",
            ))  # fmt: skip
    return checks


def frame_interval(found: Measured) -> float:
    rate = str(found.video.get("r_frame_rate") or "25/1")
    return 1 / float(Fraction(rate)) if Fraction(rate) else 0.04


@dataclass
class MultivariantReport:
    url: str
    variants: list[Variant] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def failures(self, rules: tuple[Rule, ...] | None = None) -> list[Check]:
        return failures(self.of(rules))

    def warnings(self, rules: tuple[Rule, ...] | None = None) -> list[Check]:
        return warnings(self.of(rules))

    def of(self, rules: tuple[Rule, ...] | None) -> list[Check]:
        """The checks of these rules (all of them without)."""
        return [c for c in self.checks if rules is None or c.rule in rules]

    def describe(self) -> str:
        lines = [f"{self.url}: {len(self.variants)} variants"]
        for variant, found in zip(self.variants, self.measured, strict=False):
            peak, average = found.peak(), found.average()
            lines.append(
                f"  {variant.uri}: BANDWIDTH {variant.bandwidth}, AVERAGE-BANDWIDTH "
                f"{variant.average}, CODECS {','.join(variant.codecs) or '-'}, RESOLUTION "
                f"{variant.resolution}, FRAME-RATE {variant.frame_rate}; measured over "
                f"{len(found.sizes)} segments: peak {peak and round(peak)} bit/s, average "
                f"{average and round(average)} bit/s, codecs {sorted(found.codecs)}, video "
                f"{found.video.get('width')}x{found.video.get('height')} at "
                f"{found.video.get('r_frame_rate')}"
                + (f"; {found.problem}" if found.problem else "")
            )
        lines += [f"  {check}" for check in self.checks if not check.passed][:30]
        return "\n".join(lines)


async def judge(session: aiohttp.ClientSession, url: str, *, limit: int = 6) -> MultivariantReport:
    """Fetch a multivariant playlist and every variant, and judge them (see the module)."""
    report = MultivariantReport(url)
    status, _, body = await get(session, url)
    if status != 200:
        report.checks.append(PARSES.check(False, f"{url}: {status}"))
        return report
    text = body.decode(errors="replace")
    report.variants, checks = read(text)
    report.checks += checks
    for variant in report.variants:
        found = await measure(session, urljoin(url, variant.uri), limit)
        report.measured.append(found)
        report.checks.append(VARIANT_SERVED.check(not found.problem, found.problem or found.url))
        report.checks += check_declared(variant, found)
    report.checks += check_across(report.variants, report.measured)
    return report


async def variants_of(session: aiohttp.ClientSession, url: str) -> list[str]:
    """The URLs of the variants a multivariant playlist lists now (none when it is not served)."""
    status, _, body = await get(session, url)
    if status != 200:
        return []
    variants, _ = read(body.decode(errors="replace"))
    return [urljoin(url, variant.uri) for variant in variants]


@dataclass
class LadderWatch:
    """A viewer's look at every rendition: each one watched live, then the ladder judged."""

    judged: MultivariantReport
    renditions: dict[str, LiveReport]


async def watch_ladder(
    session: aiohttp.ClientSession, url: str, *, seconds: float, secret: str | None = None
) -> LadderWatch:
    """Watch every variant at once for `seconds` (support/hls/live.py's rules, reload by
    reload), then judge the multivariant playlist over the newest segments."""
    urls = await variants_of(session, url)
    reports = await asyncio.gather(
        *(watch(session, u, seconds=seconds, secret=secret) for u in urls)
    )
    return LadderWatch(await judge(session, url, limit=4), dict(zip(urls, reports, strict=True)))
