"""RFC 8216 rules for one media playlist, as pure functions over its text.

Each rule is a named check that reports what it saw. The m3u8 library reads the segments; the
rules themselves look at the lines, because a lenient parser would hide what they are about.
"""

from __future__ import annotations

from dataclasses import dataclass

import m3u8

HLS_CONTENT_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl")


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    saw: str
    warning: bool = False  # a deviation worth reporting that does not fail the stream

    def __str__(self) -> str:
        mark = "ok  " if self.passed else ("warn" if self.warning else "FAIL")
        return f"[{mark}] {self.rule}: {self.saw}"


@dataclass(frozen=True)
class Segment:
    sequence: int
    uri: str
    duration: float


@dataclass(frozen=True)
class Playlist:
    text: str
    media_sequence: int
    target_duration: int | None
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> Playlist:
        document = m3u8.loads(text)
        first = document.media_sequence or 0
        segments = tuple(
            Segment(first + index, segment.uri, float(segment.duration))
            for index, segment in enumerate(document.segments)
        )
        target = document.target_duration
        return cls(text, first, int(target) if target is not None else None, segments)


def tags(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{name}:") or line == name]


def check_response(status: int, content_type: str) -> list[Check]:
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    return [
        Check("served 200", status == 200, f"HTTP {status}"),
        Check(
            "HLS content type", media_type in HLS_CONTENT_TYPES, f"Content-Type {content_type!r}"
        ),
    ]


def check_playlist(text: str, secret: str | None = None) -> list[Check]:
    """Every per-playlist rule; `secret` is a string (the stream key) no line may contain."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    checks = [
        Check(
            "starts with #EXTM3U", bool(lines) and lines[0] == "#EXTM3U", f"first line {lines[:1]}"
        )
    ]
    versions = tags(text, "#EXT-X-VERSION")
    checks.append(Check("EXT-X-VERSION at most once", len(versions) <= 1, f"{len(versions)} times"))
    targets = tags(text, "#EXT-X-TARGETDURATION")
    checks.append(
        Check("EXT-X-TARGETDURATION exactly once", len(targets) == 1, f"{len(targets)} times")
    )
    sequences = tags(text, "#EXT-X-MEDIA-SEQUENCE")
    first_segment = next(
        (i for i, line in enumerate(lines) if line.startswith("#EXTINF")), len(lines)
    )
    sequence_at = [i for i, line in enumerate(lines) if line.startswith("#EXT-X-MEDIA-SEQUENCE")]
    checks.append(
        Check(
            "EXT-X-MEDIA-SEQUENCE once, before the first segment",
            len(sequences) == 1 and sequence_at[0] < first_segment,
            f"{len(sequences)} times, at line(s) {sequence_at}; first segment at {first_segment}",
        )
    )
    unfollowed = [
        i for i, line in enumerate(lines)
        if line.startswith("#EXTINF") and (i + 1 >= len(lines) or lines[i + 1].startswith("#"))
    ]  # fmt: skip
    checks.append(
        Check("every EXTINF followed by a URI", not unfollowed, f"unfollowed at lines {unfollowed}")
    )
    playlist = Playlist.parse(text)
    checks.append(Check("not empty", bool(playlist.segments), f"{len(playlist.segments)} segments"))
    if playlist.target_duration is not None:
        over = [s for s in playlist.segments if round(s.duration) > playlist.target_duration]
        checks.append(
            Check(
                "every EXTINF, rounded, within EXT-X-TARGETDURATION",
                not over,
                f"target {playlist.target_duration} s; over: {[(s.uri, s.duration) for s in over]}",
            )
        )
    if secret:
        leaking = [line for line in lines if secret in line]
        checks.append(
            Check("no URL carries the stream key", not leaking, f"{len(leaking)} lines carry it")
        )
    return checks


def failures(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.passed and not check.warning]
