"""RFC 8216 rules for one media playlist, as pure functions over its text.

Each rule names its section and keyword (support.core.verdict). The playlist is read here, line
by line, rather than by a library: a lenient parser hides exactly what the rules are about (a
URI without its EXTINF, a byte range without its offset, a tag in the wrong place).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from support.core.verdict import MUST, SHOULD, Check, Rule

# RFC 8216 4: a playlist is known by a path ending .m3u8/.m3u or by one of these two types.
HLS_CONTENT_TYPES = ("application/vnd.apple.mpegurl", "audio/mpegurl")

PARSES = Rule("the playlist parses", MUST, "RFC 8216 4")
SERVED = Rule("the playlist is served (HTTP 200)", MUST, "contract: HLS")
IDENTIFIABLE = Rule("identifiable as a playlist by its path or Content-Type", MUST, "RFC 8216 4")
EXTM3U_FIRST = Rule("starts with #EXTM3U", MUST, "RFC 8216 4.3.1.1")
ENCODING = Rule(
    "UTF-8, without a byte order mark or control characters but CR and LF", MUST, "RFC 8216 4.1"
)
NO_WHITESPACE = Rule(
    "no whitespace but where the grammar allows it (quoted strings, titles, comments)", MUST,
    "RFC 8216 4.1",
)  # fmt: skip
ONE_KIND = Rule("a media playlist carries no multivariant tag", MUST, "RFC 8216 4.1")
ONE_VERSION = Rule("EXT-X-VERSION at most once", MUST, "RFC 8216 4.3.1.2")
VERSION_COVERS = Rule("EXT-X-VERSION covers the features the playlist uses", MUST, "RFC 8216 7")
INTEGERS = Rule(
    "EXT-X-VERSION, -TARGETDURATION, -MEDIA-SEQUENCE, -DISCONTINUITY-SEQUENCE are"
    " decimal-integers", MUST, "RFC 8216 4.2, 4.3.1.2, 4.3.3.1, 4.3.3.2, 4.3.3.3",
)  # fmt: skip
ONE_TARGET = Rule("EXT-X-TARGETDURATION exactly once", MUST, "RFC 8216 4.3.3.1")
SEQUENCE_FIRST = Rule(
    "EXT-X-MEDIA-SEQUENCE at most once, before the first segment", MUST, "RFC 8216 4.3.3.2"
)
DISCONTINUITY_SEQUENCE_FIRST = Rule(
    "EXT-X-DISCONTINUITY-SEQUENCE at most once, before the first segment and any"
    " EXT-X-DISCONTINUITY", MUST, "RFC 8216 4.3.3.3",
)  # fmt: skip
PLAYLIST_TYPE = Rule("EXT-X-PLAYLIST-TYPE at most once, EVENT or VOD", MUST, "RFC 8216 4.3.3.5")
EXTINF_FORMAT = Rule(
    "EXTINF is a decimal duration and a comma (#EXTINF:<duration>,[<title>])", MUST,
    "RFC 8216 4.3.2.1",
)  # fmt: skip
EXTINF_THEN_URI = Rule("every EXTINF is followed by its segment's URI", MUST, "RFC 8216 4.3.2.1")
URI_HAS_EXTINF = Rule("every segment URI has its EXTINF before it", MUST, "RFC 8216 4.3.2.1")
BYTERANGE_FORMAT = Rule("EXT-X-BYTERANGE is <n>[@<o>], decimal-integers", MUST, "RFC 8216 4.3.2.2")
MAP_FORMAT = Rule("EXT-X-MAP has a URI, and BYTERANGE is <n>[@<o>]", MUST, "RFC 8216 4.3.2.5")
KEY_FORMAT = Rule(
    "EXT-X-KEY has METHOD NONE (and nothing else), AES-128 or SAMPLE-AES with a URI", MUST,
    "RFC 8216 4.3.2.4",
)  # fmt: skip
DATE_TIME = Rule("EXT-X-PROGRAM-DATE-TIME is an ISO 8601 date-time", MUST, "RFC 8216 4.3.2.6")
DATE_TIME_PRECISE = Rule(
    "EXT-X-PROGRAM-DATE-TIME has a time zone and milliseconds", SHOULD, "RFC 8216 4.3.2.6"
)
NOT_EMPTY = Rule("a live playlist lists at least one segment", MUST, "contract: HLS")
WITHIN_TARGET = Rule("every EXTINF, rounded, within EXT-X-TARGETDURATION", MUST, "RFC 8216 4.3.3.1")
NO_KEY = Rule("no line of the playlist carries the stream key", MUST, "contract: ingest")

PLAYLIST_TYPES = ("EVENT", "VOD")
RFC_8216_TAGS = frozenset(
    (  # section 4.3
        "#EXTM3U",
        "#EXT-X-VERSION",
        "#EXTINF",
        "#EXT-X-BYTERANGE",
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-KEY",
        "#EXT-X-MAP",
        "#EXT-X-PROGRAM-DATE-TIME",
        "#EXT-X-DATERANGE",
        "#EXT-X-TARGETDURATION",
        "#EXT-X-MEDIA-SEQUENCE",
        "#EXT-X-DISCONTINUITY-SEQUENCE",
        "#EXT-X-ENDLIST",
        "#EXT-X-PLAYLIST-TYPE",
        "#EXT-X-I-FRAMES-ONLY",
        "#EXT-X-MEDIA",
        "#EXT-X-STREAM-INF",
        "#EXT-X-I-FRAME-STREAM-INF",
        "#EXT-X-SESSION-DATA",
        "#EXT-X-SESSION-KEY",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-START",
    )
)  # fmt: skip
MULTIVARIANT_TAGS = (
    "#EXT-X-STREAM-INF", "#EXT-X-I-FRAME-STREAM-INF", "#EXT-X-MEDIA", "#EXT-X-SESSION-DATA",
    "#EXT-X-SESSION-KEY",
)  # fmt: skip
INTEGER_TAGS = (
    "#EXT-X-VERSION", "#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
)  # fmt: skip
DECIMAL_INTEGER = re.compile(r"[0-9]{1,20}")  # RFC 8216 4.2: 0 to 2^64-1
DURATION = re.compile(r"[0-9]+(\.[0-9]*)?")  # decimal-integer or decimal-floating-point
RANGE = re.compile(r"(?P<length>[0-9]{1,20})(@(?P<offset>[0-9]{1,20}))?")
ATTRIBUTE = re.compile(r'(?P<name>[A-Z0-9-]+)=(?P<value>"[^"\r\n]*"|[^",]*)(,|$)')
QUOTED = re.compile(r'"[^"]*"')


class PlaylistError(ValueError):
    """Text that cannot be read as a media playlist; says which line and why."""


@dataclass(frozen=True)
class ByteRange:
    """A sub-range of a resource (RFC 8216 4.3.2.2): `length` bytes from `offset`."""

    length: int
    offset: int

    @property
    def header(self) -> str:
        """The HTTP Range header that asks for exactly this sub-range (RFC 9110 14.1.2)."""
        return f"bytes={self.offset}-{self.offset + self.length - 1}"

    def __str__(self) -> str:
        return f"{self.length}@{self.offset}"


@dataclass(frozen=True)
class Resource:
    """What a client fetches: a URI, and a sub-range of it when one is given."""

    uri: str
    byterange: ByteRange | None = None

    def __str__(self) -> str:
        return self.uri + (f" [{self.byterange}]" if self.byterange else "")


@dataclass(frozen=True)
class Segment:
    sequence: int
    uri: str
    duration: float
    map: Resource | None = None  # the EXT-X-MAP that applies to it (fMP4 / CMAF)
    discontinuity: bool = False
    byterange: ByteRange | None = None
    program_date_time: datetime | None = None
    discontinuity_number: int = 0  # RFC 8216 4.3.3.3: its Discontinuity Sequence Number

    @property
    def resource(self) -> Resource:
        return Resource(self.uri, self.byterange)


@dataclass(frozen=True)
class Playlist:
    text: str
    media_sequence: int
    target_duration: int | None
    segments: tuple[Segment, ...]
    ended: bool = False  # EXT-X-ENDLIST: nothing more will be added
    independent: bool = False  # EXT-X-INDEPENDENT-SEGMENTS
    discontinuity_sequence: int = 0
    playlist_type: str | None = None  # EXT-X-PLAYLIST-TYPE: EVENT, VOD or none (live)

    @classmethod
    def parse(cls, text: str) -> Playlist:
        return read(text)

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)

    @property
    def has_media_sequence_tag(self) -> bool:
        return bool(tags(self.text, "#EXT-X-MEDIA-SEQUENCE"))

    @property
    def has_discontinuity_sequence_tag(self) -> bool:
        return bool(tags(self.text, "#EXT-X-DISCONTINUITY-SEQUENCE"))


def lines_of(text: str) -> list[str]:
    """RFC 8216 4.1: lines end with LF or CR LF; blank lines are ignored."""
    return [line.removesuffix("\r") for line in text.split("\n") if line.strip()]


def is_tag(line: str, name: str) -> bool:
    return line.startswith(f"{name}:") or line == name


def tags(text: str, name: str) -> list[str]:
    return [line for line in lines_of(text) if is_tag(line, name)]


def value(line: str) -> str:
    return line.partition(":")[2]


def attributes(line: str) -> dict[str, str]:
    """RFC 8216 4.2 attribute-list of a tag line, quotes removed from quoted-strings."""
    found = {}
    for match in ATTRIBUTE.finditer(value(line)):
        found[match["name"]] = match["value"].removeprefix('"').removesuffix('"')
    return found


def integer(line: str, where: int) -> int:
    text = value(line)
    if not DECIMAL_INTEGER.fullmatch(text):
        raise PlaylistError(f"line {where + 1}: {line!r}: not a decimal-integer (RFC 8216 4.2)")
    return int(text)


def byte_range(text: str, where: int, uri: str, follows: dict[str, int]) -> ByteRange:
    """RFC 8216 4.3.2.2: without an offset, the sub-range starts at the byte after the previous
    segment's, which MUST be a sub-range of the same resource, or the client fails to parse."""
    match = RANGE.fullmatch(text)
    if match is None:
        raise PlaylistError(f"line {where + 1}: byte range {text!r} is not <n>[@<o>]")
    if match["offset"] is not None:
        offset = int(match["offset"])
    elif uri in follows:
        offset = follows[uri]
    else:
        raise PlaylistError(
            f"line {where + 1}: byte range {text!r} has no offset and the previous segment is"
            f" not a sub-range of {uri!r} (RFC 8216 4.3.2.2)"
        )
    return ByteRange(int(match["length"]), offset)


@dataclass
class Pending:
    """What the tags read so far say about the next segment, until its URI comes."""

    duration: float | None = None
    byterange: tuple[str, int] | None = None  # the value and its line
    discontinuity: bool = False
    program_date_time: datetime | None = None


def read(text: str) -> Playlist:
    """The media playlist's segments, each with the tags that apply to it. PlaylistError when
    a value the segments need cannot be read."""
    lines = lines_of(text)

    def number(name: str, default: int | None) -> int | None:
        found = [integer(line, i) for i, line in enumerate(lines) if is_tag(line, name)]
        return found[0] if found else default

    number("#EXT-X-VERSION", None)
    media_sequence = number("#EXT-X-MEDIA-SEQUENCE", 0) or 0
    discontinuity_sequence = number("#EXT-X-DISCONTINUITY-SEQUENCE", 0) or 0
    types = [value(line) for line in lines if line.startswith("#EXT-X-PLAYLIST-TYPE:")]
    return Playlist(
        text,
        media_sequence,
        number("#EXT-X-TARGETDURATION", None),
        tuple(segments_of(lines, media_sequence, discontinuity_sequence)),
        "#EXT-X-ENDLIST" in lines,
        "#EXT-X-INDEPENDENT-SEGMENTS" in lines,
        discontinuity_sequence,
        types[0] if types else None,
    )


def segments_of(lines: list[str], sequence: int, discontinuity: int) -> Iterator[Segment]:
    """RFC 8216 4.3.2: the tags before a URI apply to that segment; EXT-X-MAP to every
    segment after it."""
    current_map: Resource | None = None
    pending = Pending()
    follows: dict[str, int] = {}  # the byte after the previous segment's sub-range, by URI
    for i, line in enumerate(lines):
        if line.startswith("#EXTINF:"):
            duration = value(line).partition(",")[0]
            if not DURATION.fullmatch(duration):
                raise PlaylistError(f"line {i + 1}: {line!r}: the duration is not a number")
            pending.duration = float(duration)
        elif line.startswith("#EXT-X-BYTERANGE:"):
            pending.byterange = (value(line), i)
        elif line == "#EXT-X-DISCONTINUITY":
            pending.discontinuity = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pending.program_date_time = date_time(value(line))
        elif line.startswith("#EXT-X-MAP:"):
            current_map = initialization(line, i)
        elif not line.startswith("#") and pending.duration is not None:
            discontinuity += pending.discontinuity
            byterange = None
            if pending.byterange is not None:
                byterange = byte_range(*pending.byterange, line, follows)
            follows = {line: byterange.offset + byterange.length} if byterange else {}
            yield Segment(
                sequence,
                line,
                pending.duration,
                current_map,
                pending.discontinuity,
                byterange,
                pending.program_date_time,
                discontinuity,
            )
            sequence += 1
            pending = Pending()


def initialization(line: str, where: int) -> Resource:
    """RFC 8216 4.3.2.5: EXT-X-MAP's URI and its byte range (from the start when it has no
    offset: no segment precedes it in the resource)."""
    found = attributes(line)
    if "URI" not in found:
        raise PlaylistError(f"line {where + 1}: EXT-X-MAP without a URI (RFC 8216 4.3.2.5)")
    uri, at = found["URI"], found.get("BYTERANGE")
    return Resource(uri, byte_range(at, where, uri, {uri: 0}) if at else None)


def date_time(text: str) -> datetime:
    """RFC 8216 4.3.2.6: an ISO/IEC 8601:2004 date and time ("2026-12-02T09:00:00.000Z")."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PlaylistError(f"EXT-X-PROGRAM-DATE-TIME {text!r} is not a date-time") from None


def check_encoding(body: bytes) -> Check:
    """RFC 8216 4.1: the playlist's bytes, before any decoding hides what they were."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return ENCODING.check(False, f"not UTF-8: {error}")
    controls = sorted({f"U+{ord(c):04X}" for c in text if ord(c) < 0x20 and c not in "\r\n"})
    bom = text.startswith("\ufeff")
    return ENCODING.check(
        not bom and not controls,
        ("a byte order mark; " if bom else "") + f"control characters {controls[:5]}",
    )


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
    EXTINF. Tags and comments between the two are legal (4.1, 4.3.2: EXT-X-BYTERANGE,
    EXT-X-PROGRAM-DATE-TIME, a tag we do not know). For media playlists: a multivariant
    playlist's URIs follow EXT-X-STREAM-INF."""
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


def stray_whitespace(line: str) -> bool:
    """RFC 8216 4.1: whitespace only inside quoted-strings and an EXTINF's title. Judged on URI
    lines and the RFC's own tags: a comment is free text, and a tag the RFC does not define has
    a grammar it does not give (4.1: such tags are ignored)."""
    if line.startswith("#") and line.partition(":")[0] not in RFC_8216_TAGS:
        return False
    if line.startswith("#EXTINF:"):
        line = line.partition(",")[0]
    return any(c.isspace() for c in QUOTED.sub('""', line))


def check_playlist(text: str, secret: str | None = None) -> list[Check]:
    """Every per-playlist rule; `secret` is a string (the stream key) no line may contain."""
    lines = lines_of(text)
    checks = check_syntax(lines)
    try:
        playlist = read(text)
    except PlaylistError as error:
        return [*checks, PARSES.check(False, str(error))]
    checks.append(check_version(text))
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


def check_syntax(lines: list[str]) -> list[Check]:
    """The rules a line-by-line reading decides, whether or not the playlist parses."""

    def at(name: str) -> list[int]:
        return [i for i, line in enumerate(lines) if is_tag(line, name)]

    first_segment = next((i for i in at("#EXTINF")), len(lines))
    first_discontinuity = next((i for i in at("#EXT-X-DISCONTINUITY")), len(lines))
    unfollowed, lonely = unpaired(lines)
    spaced = [i for i, line in enumerate(lines) if stray_whitespace(line)]
    mixed = [i for name in MULTIVARIANT_TAGS for i in at(name)]
    not_integers = [
        lines[i] for name in INTEGER_TAGS for i in at(name)
        if not DECIMAL_INTEGER.fullmatch(value(lines[i]))
    ]  # fmt: skip
    types = [value(lines[i]) for i in at("#EXT-X-PLAYLIST-TYPE")]
    extinfs = [lines[i] for i in at("#EXTINF")]
    bad_extinfs = [
        line for line in extinfs
        if "," not in line or not DURATION.fullmatch(value(line).partition(",")[0])
    ]  # fmt: skip
    ranges = [lines[i] for i in at("#EXT-X-BYTERANGE")]
    maps = [attributes(lines[i]) for i in at("#EXT-X-MAP")]
    bad_maps = [
        found for found in maps
        if "URI" not in found or ("BYTERANGE" in found and not RANGE.fullmatch(found["BYTERANGE"]))
    ]  # fmt: skip
    bad_keys = [lines[i] for i in at("#EXT-X-KEY") if not key_well_formed(attributes(lines[i]))]
    dates = [value(lines[i]) for i in at("#EXT-X-PROGRAM-DATE-TIME")]
    undated = [d for d in dates if not is_date_time(d)]
    imprecise = [d for d in dates if d not in undated and not precise(d)]
    sequences = at("#EXT-X-MEDIA-SEQUENCE")
    discontinuity_sequences = at("#EXT-X-DISCONTINUITY-SEQUENCE")
    return [
        EXTM3U_FIRST.check(bool(lines) and lines[0] == "#EXTM3U", f"first line {lines[:1]}"),
        NO_WHITESPACE.check(not spaced, f"at lines {[i + 1 for i in spaced][:5]}"),
        ONE_KIND.check(not mixed, f"multivariant tags at lines {[i + 1 for i in mixed][:5]}"),
        ONE_VERSION.check(len(at("#EXT-X-VERSION")) <= 1, f"{len(at('#EXT-X-VERSION'))} times"),
        INTEGERS.check(not not_integers, f"not decimal-integers: {not_integers[:3]}"),
        ONE_TARGET.check(
            len(at("#EXT-X-TARGETDURATION")) == 1, f"{len(at('#EXT-X-TARGETDURATION'))} times"
        ),
        SEQUENCE_FIRST.check(
            len(sequences) <= 1 and all(i < first_segment for i in sequences),
            f"at line(s) {[i + 1 for i in sequences]}; first segment at {first_segment + 1}",
        ),
        DISCONTINUITY_SEQUENCE_FIRST.check(
            len(discontinuity_sequences) <= 1
            and all(i < min(first_segment, first_discontinuity) for i in discontinuity_sequences),
            f"at line(s) {[i + 1 for i in discontinuity_sequences]}; first segment at"
            f" {first_segment + 1}, first EXT-X-DISCONTINUITY at {first_discontinuity + 1}",
        ),
        PLAYLIST_TYPE.check(
            len(types) <= 1 and all(t in PLAYLIST_TYPES for t in types), f"types {types}"
        ),
        EXTINF_FORMAT.check(not bad_extinfs, f"{bad_extinfs[:3]}"),
        EXTINF_THEN_URI.check(not unfollowed, f"unfollowed at lines {[i + 1 for i in unfollowed]}"),
        URI_HAS_EXTINF.check(not lonely, f"at lines {[i + 1 for i in lonely]}"),
        BYTERANGE_FORMAT.check(all(RANGE.fullmatch(value(r)) for r in ranges), f"{ranges[:3]}"),
        MAP_FORMAT.check(not bad_maps, f"{bad_maps[:3]}"),
        KEY_FORMAT.check(not bad_keys, f"{bad_keys[:3]}"),
        DATE_TIME.check(not undated, f"{undated[:3]}"),
        DATE_TIME_PRECISE.check(not imprecise, f"{imprecise[:3]}"),
    ]


def key_well_formed(found: dict[str, str]) -> bool:
    """RFC 8216 4.3.2.4: METHOD is REQUIRED; NONE takes no other attribute; others a URI."""
    method = found.get("METHOD")
    if method == "NONE":
        return set(found) == {"METHOD"}
    return method in ("AES-128", "SAMPLE-AES") and "URI" in found


def is_date_time(text: str) -> bool:
    try:
        date_time(text)
    except PlaylistError:
        return False
    return "T" in text


def precise(text: str) -> bool:
    moment = date_time(text)
    return moment.tzinfo is not None and "." in text.partition("T")[2]


def check_version(text: str) -> Check:
    """RFC 8216 7: what each protocol version adds, by the tags and attributes that use it."""
    declared = [value(line) for line in tags(text, "#EXT-X-VERSION")]
    version = int(declared[0]) if declared else 1
    keys = [attributes(line) for line in tags(text, "#EXT-X-KEY")]
    i_frames = bool(tags(text, "#EXT-X-I-FRAMES-ONLY"))
    needs: dict[str, int] = {}
    if any("IV" in key for key in keys):
        needs["the IV attribute of EXT-X-KEY"] = 2
    if any("." in value(line).partition(",")[0] for line in tags(text, "#EXTINF")):
        needs["floating-point EXTINF"] = 3
    if tags(text, "#EXT-X-BYTERANGE"):
        needs["EXT-X-BYTERANGE"] = 4
    if i_frames:
        needs["EXT-X-I-FRAMES-ONLY"] = 4
    if any(key.get("METHOD") == "SAMPLE-AES" for key in keys):
        needs["METHOD SAMPLE-AES"] = 5
    if any("KEYFORMAT" in key or "KEYFORMATVERSIONS" in key for key in keys):
        needs["KEYFORMAT or KEYFORMATVERSIONS"] = 5
    if tags(text, "#EXT-X-MAP"):
        needs["EXT-X-MAP"] = 5 if i_frames else 6
    short = {feature: at_least for feature, at_least in needs.items() if version < at_least}
    return VERSION_COVERS.check(
        not short,
        f"version {version}; "
        + (", ".join(f"{f} needs {v}" for f, v in short.items()) or "nothing needs more"),
    )
