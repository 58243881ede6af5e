"""RFC 8216 rules for one media playlist, as pure functions over its text.

Each rule names its section and keyword (support.core.verdict). The m3u8 library reads the segments;
the rules themselves look at the lines, because a lenient parser would hide what they are about.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import m3u8

from support.core.verdict import MUST, Check, Rule

# RFC 8216 4: a playlist is known by a path ending .m3u8/.m3u or by one of these two types.
HLS_CONTENT_TYPES = ("application/vnd.apple.mpegurl", "audio/mpegurl")

PARSES = Rule("the playlist parses", MUST, "RFC 8216 4")
SERVED = Rule("the playlist is served (HTTP 200)", MUST, "contract: HLS")
IDENTIFIABLE = Rule("identifiable as a playlist by its path or Content-Type", MUST, "RFC 8216 4")
EXTM3U_FIRST = Rule("starts with #EXTM3U", MUST, "RFC 8216 4.3.1.1")
ONE_VERSION = Rule("EXT-X-VERSION at most once", MUST, "RFC 8216 4.3.1.2")
VERSION_COVERS = Rule("EXT-X-VERSION covers the features the playlist uses", MUST, "RFC 8216 7")
ONE_TARGET = Rule("EXT-X-TARGETDURATION exactly once", MUST, "RFC 8216 4.3.3.1")
SEQUENCE_FIRST = Rule(
    "EXT-X-MEDIA-SEQUENCE at most once, before the first segment", MUST, "RFC 8216 4.3.3.2"
)
EXTINF_THEN_URI = Rule("every EXTINF is followed by its segment's URI", MUST, "RFC 8216 4.3.2.1")
URI_HAS_EXTINF = Rule("every segment URI has its EXTINF before it", MUST, "RFC 8216 4.3.2.1")
NOT_EMPTY = Rule("a live playlist lists at least one segment", MUST, "contract: HLS")
WITHIN_TARGET = Rule("every EXTINF, rounded, within EXT-X-TARGETDURATION", MUST, "RFC 8216 4.3.3.1")
NO_KEY = Rule("no line of the playlist carries the stream key", MUST, "contract: ingest")


class PlaylistError(ValueError):
    """Text that cannot be read as a media playlist; says what the parser choked on."""


@dataclass(frozen=True)
class Segment:
    sequence: int
    uri: str
    duration: float
    map_uri: str | None = None  # the EXT-X-MAP that applies to it (fMP4 / CMAF)
    discontinuity: bool = False


@dataclass(frozen=True)
class Playlist:
    text: str
    media_sequence: int
    target_duration: int | None
    segments: tuple[Segment, ...]
    ended: bool = False  # EXT-X-ENDLIST: nothing more will be added
    independent: bool = False  # EXT-X-INDEPENDENT-SEGMENTS

    @classmethod
    def parse(cls, text: str) -> Playlist:
        try:
            document = m3u8.loads(text)
        except Exception as error:  # m3u8 raises whatever its regexes and int() raise
            raise PlaylistError(f"not a media playlist: {error!r}") from None
        first = document.media_sequence or 0
        segments = tuple(
            Segment(
                first + index,
                segment.uri,
                float(segment.duration),
                segment.init_section.uri if segment.init_section else None,
                bool(segment.discontinuity),
            )
            for index, segment in enumerate(document.segments)
        )
        target = document.target_duration
        return cls(
            text,
            first,
            int(target) if target is not None else None,
            segments,
            bool(document.is_endlist),
            bool(document.is_independent_segments),
        )

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)


def tags(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{name}:") or line == name]


def check_response(url: str, status: int, content_type: str) -> list[Check]:
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    path = urlsplit(url).path.lower()
    return [
        SERVED.check(status == 200, f"HTTP {status}"),
        IDENTIFIABLE.check(
            path.endswith((".m3u8", ".m3u")) or media_type in HLS_CONTENT_TYPES,
            f"path {urlsplit(url).path!r}, Content-Type {content_type!r}",
        ),
    ]


def unpaired(lines: list[str]) -> tuple[list[int], list[int]]:
    """RFC 8216 4.3.2.1: each media segment is an EXTINF and, on a later line, its URI. Returns the
    EXTINFs left without a URI (another EXTINF or the end came first) and the URIs without an
    EXTINF (which the playlist library drops unseen). Tags and comments between the two are
    legal (4.1, 4.3.2: EXT-X-BYTERANGE, EXT-X-PROGRAM-DATE-TIME, a tag we do not know). For media
    playlists: a multivariant playlist's URIs follow EXT-X-STREAM-INF."""
    without_uri, without_extinf = [], []
    pending: int | None = None  # the line of the EXTINF still waiting for its URI
    for i, line in enumerate(lines):
        if line.startswith("#EXTINF"):
            if pending is not None:
                without_uri.append(pending)
            pending = i
        elif not line.startswith("#"):
            if pending is None:
                without_extinf.append(i)
            pending = None
    if pending is not None:
        without_uri.append(pending)
    return without_uri, without_extinf


def check_playlist(text: str, secret: str | None = None) -> list[Check]:
    """Every per-playlist rule; `secret` is a string (the stream key) no line may contain."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    versions = tags(text, "#EXT-X-VERSION")
    targets = tags(text, "#EXT-X-TARGETDURATION")
    sequence_at = [i for i, line in enumerate(lines) if line.startswith("#EXT-X-MEDIA-SEQUENCE")]
    first_segment = next(
        (i for i, line in enumerate(lines) if line.startswith("#EXTINF")), len(lines)
    )
    unfollowed, lonely = unpaired(lines)
    try:
        playlist = Playlist.parse(text)
    except PlaylistError as error:
        return [PARSES.check(False, str(error))]
    checks = [
        EXTM3U_FIRST.check(bool(lines) and lines[0] == "#EXTM3U", f"first line {lines[:1]}"),
        ONE_VERSION.check(len(versions) <= 1, f"{len(versions)} times"),
        check_version(text),
        ONE_TARGET.check(len(targets) == 1, f"{len(targets)} times"),
        SEQUENCE_FIRST.check(
            len(sequence_at) <= 1 and all(at < first_segment for at in sequence_at),
            f"at line(s) {sequence_at}; first segment at {first_segment}",
        ),
        EXTINF_THEN_URI.check(not unfollowed, f"unfollowed at lines {unfollowed}"),
        URI_HAS_EXTINF.check(not lonely, f"at lines {lonely}"),
    ]
    if not playlist.ended:
        checks.append(
            NOT_EMPTY.check(bool(playlist.segments), f"{len(playlist.segments)} segments")
        )
    if playlist.target_duration is not None:
        over = [s for s in playlist.segments if round(s.duration) > playlist.target_duration]
        checks.append(
            WITHIN_TARGET.check(
                not over,
                f"target {playlist.target_duration} s; over: {[(s.uri, s.duration) for s in over]}",
            )
        )
    if secret:
        leaking = [line for line in lines if secret in line]
        checks.append(NO_KEY.check(not leaking, f"{len(leaking)} lines carry it"))
    return checks


def check_version(text: str) -> Check:
    """RFC 8216 7: floating-point EXTINF needs version 3; EXT-X-MAP needs 6 (5 if I-frames only)."""
    declared = [line.partition(":")[2].strip() for line in tags(text, "#EXT-X-VERSION")]
    if declared and not declared[0].isdigit():
        return VERSION_COVERS.check(False, f"EXT-X-VERSION {declared[0]!r} is not an integer")
    version = int(declared[0]) if declared else 1
    needs: dict[str, int] = {}
    if any("." in line.partition(":")[2].partition(",")[0] for line in tags(text, "#EXTINF")):
        needs["floating-point EXTINF"] = 3
    if tags(text, "#EXT-X-MAP"):
        needs["EXT-X-MAP"] = 5 if tags(text, "#EXT-X-I-FRAMES-ONLY") else 6
    short = {feature: at_least for feature, at_least in needs.items() if version < at_least}
    return VERSION_COVERS.check(
        not short,
        f"version {version}; "
        + (", ".join(f"{f} needs {v}" for f, v in short.items()) or "nothing needs more"),
    )
