"""RFC 8216 rule by rule: a valid playlist passes, and a copy broken at one rule fails there.

The valid shapes are the ones other packagers write (byte ranges, EVENT, VOD, discontinuities
with their sequence, dates); tests/test_hls_interop.py judges those packagers' real output.
"""

from __future__ import annotations

import pytest

from support.core.verdict import Check, Rule, failures, warnings
from support.hls import playlist as rules
from support.hls import reloads
from support.hls.playlist import ByteRange, Playlist, check_playlist
from support.hls.reloads import compare

HEADER = "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n"


def failed(checks: list[Check]) -> set[Rule]:
    return {check.rule for check in failures(checks)}


def warned(checks: list[Check]) -> set[Rule]:
    return {check.rule for check in warnings(checks)}


# ffmpeg -hls_flags single_file, TS: one resource, sub-ranges with and without offsets.
BYTE_RANGES = HEADER + (
    "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:1000@0\nall.ts\n"
    "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:1500\nall.ts\n"
    "#EXTINF:1.500000,\n#EXT-X-BYTERANGE:800@2500\nall.ts\n#EXT-X-ENDLIST\n"
)
# Discontinuities with their sequence and dates on every segment.
DATED = HEADER + (
    "#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-12-02T09:00:00.000Z\n#EXTINF:2.0,\n10.ts\n"
    "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-12-02T09:00:30.000+00:00\n"
    "#EXTINF:2.0,\n11.ts\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-12-02T09:00:32.000Z\n#EXTINF:2.0,\n12.ts\n"
)


@pytest.mark.parametrize("text", [BYTE_RANGES, DATED])
def test_valid_shapes_pass_every_rule(text: str) -> None:
    checks = check_playlist(text)
    assert failed(checks) == set(), [str(c) for c in failures(checks)]
    assert warned(checks) == set()


def test_byte_ranges_without_an_offset_follow_the_previous_sub_range() -> None:
    """RFC 8216 4.3.2.2: without @o, the sub-range starts at the next byte after the previous
    segment's sub-range."""
    ranges = [s.byterange for s in Playlist.parse(BYTE_RANGES).segments]
    assert ranges == [ByteRange(1000, 0), ByteRange(1500, 1000), ByteRange(800, 2500)]
    assert ranges[1] is not None
    assert ranges[1].header == "bytes=1000-2499"


def test_discontinuity_numbers_count_from_the_sequence_tag() -> None:
    """RFC 8216 4.3.3.3: the sequence tag's value plus the EXT-X-DISCONTINUITY tags before."""
    segments = Playlist.parse(DATED).segments
    assert [s.discontinuity_number for s in segments] == [3, 4, 4]
    assert segments[1].program_date_time is not None
    assert segments[1].program_date_time.second == 30


@pytest.mark.parametrize(
    ("broken", "rule"),
    [
        (DATED.replace("TARGETDURATION:2", "TARGETDURATION: 2"), rules.NO_WHITESPACE),
        (DATED.replace("10.ts", "10.ts "), rules.NO_WHITESPACE),
        (DATED.replace("10.ts", " 10.ts"), rules.NO_WHITESPACE),
        (DATED + "#EXT-X-STREAM-INF:BANDWIDTH=1000\nlow.m3u8\n", rules.ONE_KIND),
        (DATED.replace("MEDIA-SEQUENCE:10", "MEDIA-SEQUENCE:-10"), rules.INTEGERS),
        (DATED.replace("MEDIA-SEQUENCE:10", "MEDIA-SEQUENCE:10.0"), rules.INTEGERS),
        (DATED.replace("MEDIA-SEQUENCE:10", "MEDIA-SEQUENCE:0x0A"), rules.INTEGERS),
        (DATED.replace("TARGETDURATION:2", "TARGETDURATION:2.0"), rules.INTEGERS),
        (DATED.replace("DISCONTINUITY-SEQUENCE:3", "DISCONTINUITY-SEQUENCE:"), rules.INTEGERS),
        (
            DATED.replace("#EXT-X-DISCONTINUITY-SEQUENCE:3\n", "")
            + "#EXT-X-DISCONTINUITY-SEQUENCE:3\n",
            rules.DISCONTINUITY_SEQUENCE_FIRST,
        ),
        (
            DATED.replace("#EXT-X-DISCONTINUITY-SEQUENCE:3\n", "#EXT-X-DISCONTINUITY\n").replace(
                "#EXTINF:2.0,\n10.ts", "#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXTINF:2.0,\n10.ts"
            ),
            rules.DISCONTINUITY_SEQUENCE_FIRST,
        ),
        (
            DATED.replace(
                "#EXT-X-DISCONTINUITY-SEQUENCE:3\n", "#EXT-X-DISCONTINUITY-SEQUENCE:3\n" * 2
            ),
            rules.DISCONTINUITY_SEQUENCE_FIRST,
        ),
        (DATED.replace("#EXTM3U\n", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:LIVE\n"), rules.PLAYLIST_TYPE),
        (DATED.replace("#EXTM3U\n", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:\n"), rules.PLAYLIST_TYPE),
        (BYTE_RANGES.replace("PLAYLIST-TYPE:VOD", "PLAYLIST-TYPE:vod"), rules.PLAYLIST_TYPE),
        (
            BYTE_RANGES.replace("#EXT-X-ENDLIST", "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-ENDLIST"),
            rules.PLAYLIST_TYPE,
        ),
        (DATED.replace("#EXTINF:2.0,\n10.ts", "#EXTINF:2.0\n10.ts"), rules.EXTINF_FORMAT),
        (DATED.replace("#EXTINF:2.0,\n10.ts", "#EXTINF:two,\n10.ts"), rules.EXTINF_FORMAT),
        (DATED.replace("#EXTINF:2.0,\n10.ts", "#EXTINF:,\n10.ts"), rules.EXTINF_FORMAT),
        (BYTE_RANGES.replace("BYTERANGE:1500", "BYTERANGE:1500@"), rules.BYTERANGE_FORMAT),
        (BYTE_RANGES.replace("BYTERANGE:1500", "BYTERANGE:-1500"), rules.BYTERANGE_FORMAT),
        (BYTE_RANGES.replace("VERSION:4", "VERSION:3"), rules.VERSION_COVERS),
        # Without an offset, the first sub-range follows nothing: a client MUST fail to parse.
        (BYTE_RANGES.replace("BYTERANGE:1000@0", "BYTERANGE:1000"), rules.PARSES),
        # ...and so does one whose previous segment is another resource.
        (BYTE_RANGES.replace("1000@0\nall.ts", "1000@0\nother.ts"), rules.PARSES),
        (
            DATED.replace("#EXTINF:2.0,\n10.ts", '#EXT-X-MAP:BYTERANGE="1@0"\n#EXTINF:2.0,\n10.ts'),
            rules.MAP_FORMAT,
        ),
        (
            DATED.replace(
                "#EXTINF:2.0,\n10.ts", '#EXT-X-MAP:URI="i.mp4",BYTERANGE="x"\n#EXTINF:2.0,\n10.ts'
            ),
            rules.MAP_FORMAT,
        ),
        (
            DATED.replace("#EXTINF:2.0,\n10.ts", "#EXT-X-KEY:METHOD=AES-128\n#EXTINF:2.0,\n10.ts"),
            rules.KEY_FORMAT,
        ),
        (
            DATED.replace(
                "#EXTINF:2.0,\n10.ts", '#EXT-X-KEY:METHOD=NONE,URI="k"\n#EXTINF:2.0,\n10.ts'
            ),
            rules.KEY_FORMAT,
        ),
        (
            DATED.replace("#EXTINF:2.0,\n10.ts", '#EXT-X-KEY:URI="k"\n#EXTINF:2.0,\n10.ts'),
            rules.KEY_FORMAT,
        ),
        (DATED.replace("2026-12-02T09:00:00.000Z", "yesterday"), rules.DATE_TIME),
        (DATED.replace("2026-12-02T09:00:00.000Z", "2026-12-02"), rules.DATE_TIME),
    ],
)
def test_a_playlist_broken_at_one_rule_fails_there(broken: str, rule: Rule) -> None:
    assert failures(check_playlist(DATED)) == []
    assert rule in failed(check_playlist(broken))


@pytest.mark.parametrize(
    "body",
    [
        b"\xef\xbb\xbf" + DATED.encode(),  # a byte order mark
        DATED.replace("10.ts", "10\t.ts").encode(),  # a tab: a control character
        DATED.replace("10.ts", "10\x00.ts").encode(),
        DATED.encode("utf-16"),
        DATED.replace("10.ts", "caf\xe9.ts").encode("latin-1"),
    ],
)
def test_a_playlist_that_is_not_clean_utf_8_fails(body: bytes) -> None:
    assert rules.check_encoding(DATED.encode()).passed
    assert rules.check_encoding(DATED.replace("10.ts", "café.ts").encode()).passed
    assert not rules.check_encoding(body).passed


def test_a_date_without_zone_or_milliseconds_is_a_warning() -> None:
    """RFC 8216 4.3.2.6: it SHOULD indicate a time zone and fractional seconds."""
    for vague in ("2026-12-02T09:00:00Z", "2026-12-02T09:00:00.000"):
        checks = check_playlist(DATED.replace("2026-12-02T09:00:00.000Z", vague))
        assert failed(checks) == set()
        assert warned(checks) == {rules.DATE_TIME_PRECISE}


@pytest.mark.parametrize(
    ("version", "line", "needs"),
    [
        (1, '#EXT-X-KEY:METHOD=AES-128,URI="k",IV=0x0123456789ABCDEF0123456789ABCDEF', 2),
        (3, "#EXT-X-I-FRAMES-ONLY", 4),
        (4, '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="k"', 5),
        (4, '#EXT-X-KEY:METHOD=AES-128,URI="k",KEYFORMAT="identity"', 5),
        (4, '#EXT-X-KEY:METHOD=AES-128,URI="k",KEYFORMATVERSIONS="1"', 5),
        (5, '#EXT-X-MAP:URI="init.mp4"', 6),
    ],
)
def test_each_feature_needs_its_protocol_version(version: int, line: str, needs: int) -> None:
    """RFC 8216 7: a playlist declares the lowest version that has every feature it uses."""
    text = f"#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:2\n{line}\n#EXTINF:2,\n0.ts\n"
    assert rules.VERSION_COVERS in failed(check_playlist(text))
    assert failed(check_playlist(text.replace(f"VERSION:{version}", f"VERSION:{needs}"))) == set()


def media(
    sequence: int,
    segments: list[str],
    discontinuity_sequence: int | None = None,
    kind: str | None = None,
) -> Playlist:
    """A playlist from compact segments: "name", "!name" (after EXT-X-DISCONTINUITY),
    "name~ss" (with EXT-X-PROGRAM-DATE-TIME at second ss), "name[length@offset]" (a byte range)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-TARGETDURATION:1"]
    lines += [f"#EXT-X-MEDIA-SEQUENCE:{sequence}"]
    if discontinuity_sequence is not None:
        lines += [f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}"]
    if kind:
        lines += [f"#EXT-X-PLAYLIST-TYPE:{kind}"]
    for written in segments:
        if written.startswith("!"):
            lines.append("#EXT-X-DISCONTINUITY")
        resource, _, date = written.removeprefix("!").partition("~")
        if date:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:2026-12-02T09:00:{date}.000Z")
        uri, _, byterange = resource.partition("[")
        if byterange:
            lines.append(f"#EXT-X-BYTERANGE:{byterange.rstrip(']')}")
        lines += ["#EXTINF:1.0,", uri]
    return Playlist.parse("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # A discontinuity slides out, and the sequence rises by one (RFC 8216 6.2.2).
        (media(5, ["5", "!6", "7", "8"], 0), media(7, ["7", "8", "9", "10"], 1)),
        (media(5, ["!5", "6", "7", "8"], 0), media(6, ["6", "7", "8", "9"], 1)),
        # One resource, many segments (ffmpeg's single_file): known by URI and byte range.
        (
            media(0, ["a[10@0]", "a[10@10]", "a[10@20]"]),
            media(1, ["a[10@10]", "a[10@20]", "a[10@30]", "a[10@40]"]),
        ),
        # An EVENT playlist grows; dates stay with their segments.
        (
            media(0, ["0~00", "1~01", "2~02"], kind="EVENT"),
            media(0, ["0~00", "1~01", "2~02", "3~03"], kind="EVENT"),
        ),
    ],
)
def test_a_valid_reload_passes(before: Playlist, after: Playlist) -> None:
    checks = compare(before, after)
    assert failed(checks) == set(), [str(c) for c in failures(checks)]


@pytest.mark.parametrize(
    ("before", "after", "rule"),
    [
        (
            media(5, ["5", "6", "7"], 2),
            media(6, ["6", "7", "8"], 1),
            reloads.DISCONTINUITY_SEQUENCE_NEVER_DECREASES,
        ),
        # nginx-rtmp's shape: the first segment's discontinuity slides out, the sequence stays.
        (
            media(5, ["!5", "6", "7", "8"]),
            media(6, ["6", "7", "8", "9"]),
            reloads.DISCONTINUITY_NUMBERS_KEPT,
        ),
        (
            media(5, ["!5", "6", "7", "8"]),
            media(6, ["6", "7", "8", "9"]),
            reloads.DISCONTINUITY_TAG_WHEN_REMOVING,
        ),
        (
            media(5, ["!5", "6", "7", "8"], 0),
            media(6, ["6", "7", "8", "9"], 2),
            reloads.DISCONTINUITY_NUMBERS_KEPT,
        ),
        # A kept segment loses its discontinuity tag.
        (
            media(5, ["5", "!6", "7"], 0),
            media(5, ["5", "6", "7", "8"], 0),
            reloads.SEGMENT_UNCHANGED,
        ),
        (
            media(5, ["5", "!6", "7"], 0),
            media(5, ["5", "6", "7", "8"], 0),
            reloads.DISCONTINUITY_NUMBERS_KEPT,
        ),
        # A kept segment's date changes.
        (
            media(5, ["5~05", "6~06", "7~07"]),
            media(6, ["6~16", "7~17", "8~18"]),
            reloads.SEGMENT_UNCHANGED,
        ),
        (media(5, ["5~05", "6~06", "7~07"]), media(6, ["6", "7", "8"]), reloads.SEGMENT_UNCHANGED),
        # One resource: a sub-range renumbered or changed.
        (
            media(0, ["a[10@0]", "a[10@10]", "a[10@20]"]),
            media(0, ["a[10@10]", "a[10@20]", "a[10@30]"]),
            reloads.NUMBERS_KEPT,
        ),
        (
            media(0, ["a[10@0]", "a[10@10]", "a[10@20]"]),
            media(0, ["a[10@0]", "a[12@10]", "a[10@22]"]),
            reloads.SEGMENT_UNCHANGED,
        ),
        # EVENT removes from its front; VOD changes; the type changes.
        (
            media(0, ["0", "1", "2", "3"], kind="EVENT"),
            media(1, ["1", "2", "3", "4"], kind="EVENT"),
            reloads.EVENT_KEEPS_ALL,
        ),
        (
            media(0, ["0", "1", "2"], kind="VOD"),
            media(0, ["0", "1", "2", "3"], kind="VOD"),
            reloads.VOD_FINAL,
        ),
        (
            media(0, ["0", "1", "2"]),
            media(0, ["0", "1", "2", "3"], kind="EVENT"),
            reloads.TYPE_UNCHANGED,
        ),
    ],
)
def test_a_broken_reload_fails_at_its_rule(before: Playlist, after: Playlist, rule: Rule) -> None:
    assert rule in failed(compare(before, after))
