"""Every HLS and MPEG-TS rule passes the good fixture and fails a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.core.verdict import Check, Rule, failures, warnings
from support.hls import playlist as rules
from support.hls import reloads
from support.hls.browser import Playback
from support.hls.playlist import Playlist, check_playlist, check_response
from support.hls.reloads import PlaylistHistory, compare
from support.media import ffprobe, ts
from support.media.segments import DURATION_MATCHES, KEYFRAME_FIRST

FIXTURES = Path(__file__).parent / "fixtures" / "hls"
GOOD = (FIXTURES / "live.m3u8").read_text()
SEGMENT_0 = (FIXTURES / "0.ts").read_bytes()
SEGMENT_1 = (FIXTURES / "1.ts").read_bytes()


def failed_rules(checks: list[Check]) -> set[Rule]:
    return {check.rule for check in failures(checks)}


def warned_rules(checks: list[Check]) -> set[Rule]:
    return {check.rule for check in warnings(checks)}


def test_the_good_playlist_passes_every_rule() -> None:
    assert failed_rules(check_playlist(GOOD, secret="the-key")) == set()
    assert failed_rules(check_response("/a/b.m3u8", 200, "application/vnd.apple.mpegurl")) == set()


@pytest.mark.parametrize(
    ("broken", "rule"),
    [
        (GOOD.replace("#EXTM3U\n", ""), rules.EXTM3U_FIRST),
        (GOOD.replace("#EXT-X-VERSION:3", "#EXT-X-VERSION:3\n#EXT-X-VERSION:3"), rules.ONE_VERSION),
        (GOOD.replace("#EXT-X-VERSION:3\n", ""), rules.VERSION_COVERS),
        (GOOD.replace("#EXT-X-VERSION:3", "#EXT-X-VERSION:three"), rules.PARSES),
        (GOOD.replace("#EXT-X-TARGETDURATION:1\n", ""), rules.ONE_TARGET),
        (
            GOOD.replace("#EXT-X-MEDIA-SEQUENCE:0\n", "") + "#EXT-X-MEDIA-SEQUENCE:0\n",
            rules.SEQUENCE_FIRST,
        ),
        (GOOD.replace("0.ts\n", ""), rules.EXTINF_THEN_URI),
        (
            GOOD.replace("0.ts\n", "#EXT-X-PROGRAM-DATE-TIME:2026-12-02T09:00:00Z\n"),
            rules.EXTINF_THEN_URI,
        ),
        (GOOD.replace("1.ts\n", "# a comment\n"), rules.EXTINF_THEN_URI),
        (GOOD + "2.ts\n", rules.URI_HAS_EXTINF),
        (GOOD.replace("#EXTINF:1.000,\n1.ts", "1.ts"), rules.URI_HAS_EXTINF),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n", rules.NOT_EMPTY),
        (GOOD.replace("#EXTINF:1.000,\n1.ts", "#EXTINF:1.600,\n1.ts"), rules.WITHIN_TARGET),
        (GOOD.replace("1.ts", "1.ts?key=the-key"), rules.NO_KEY),
    ],
)
def test_a_broken_playlist_fails_its_rule(broken: str, rule: Rule) -> None:
    assert rule in failed_rules(check_playlist(broken, secret="the-key"))


@pytest.mark.parametrize(
    "between",
    [
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-02T09:00:00.000Z",
        "#EXT-X-BITRATE:1200",
        "# a comment",
        "#EXT-X-NOVA-UNKNOWN-TAG:1",
    ],
)
def test_a_tag_or_comment_between_extinf_and_its_uri_is_legal(between: str) -> None:
    """RFC 8216 4.1: unknown tags are ignored, lines starting # that are not tags are comments;
    4.3.2: tags of the next segment may stand between its EXTINF and its URI."""
    playlist = GOOD.replace("#EXTINF:1.000,\n1.ts", f"#EXTINF:1.000,\n{between}\n1.ts")
    assert failed_rules(check_playlist(playlist)) == set()


def test_ext_x_map_needs_version_6() -> None:
    fmp4 = GOOD.replace("#EXT-X-DISCONTINUITY\n", '#EXT-X-MAP:URI="init.mp4"\n')
    assert rules.VERSION_COVERS in failed_rules(check_playlist(fmp4))
    assert failed_rules(check_playlist(fmp4.replace("VERSION:3", "VERSION:6"))) == set()


def test_a_wrong_answer_fails_the_response_rules() -> None:
    assert failed_rules(check_response("/hls/x/index", 404, "text/html")) == {
        rules.SERVED,
        rules.IDENTIFIABLE,
    }


def test_a_playlist_path_or_either_registered_type_identifies_a_playlist() -> None:
    assert failed_rules(check_response("/x/index.m3u8", 200, "text/plain")) == set()
    assert failed_rules(check_response("/x/live", 200, "audio/mpegurl")) == set()


def playlist(sequence: int, segments: list[tuple[str, float]], target: int = 1) -> Playlist:
    lines = ["#EXTM3U", f"#EXT-X-TARGETDURATION:{target}", f"#EXT-X-MEDIA-SEQUENCE:{sequence}"]
    for uri, duration in segments:
        lines += [f"#EXTINF:{duration:.3f},", uri]
    return Playlist.parse("\n".join(lines) + "\n")


BEFORE = playlist(5, [("5.ts", 1.0), ("6.ts", 1.0), ("7.ts", 1.0)])


def test_a_sliding_window_passes_the_reload_rules() -> None:
    after = playlist(6, [("6.ts", 1.0), ("7.ts", 1.0), ("8.ts", 1.0), ("9.ts", 1.0)])
    checks = compare(BEFORE, after)
    assert failed_rules(checks) == set()
    assert warned_rules(checks) == set()


@pytest.mark.parametrize(
    ("after", "rule"),
    [
        (playlist(4, [("4.ts", 1.0), ("5.ts", 1.0)]), reloads.SEQUENCE_NEVER_DECREASES),
        (playlist(9, [("7.ts", 1.0), ("8.ts", 1.0)]), reloads.NUMBERS_KEPT),
        (playlist(5, [("5.ts", 1.0), ("7.ts", 1.0), ("8.ts", 1.0)]), reloads.REMOVED_FROM_FRONT),
        (playlist(5, [("5.ts", 1.0), ("6b.ts", 1.0), ("7.ts", 1.0)]), reloads.SEGMENT_UNCHANGED),
        (playlist(5, [("5.ts", 1.0), ("6.ts", 0.5), ("7.ts", 1.0)]), reloads.SEGMENT_UNCHANGED),
        (playlist(5, [("5.ts", 1.0), ("6.ts", 1.0), ("7.ts", 1.0)], 2), reloads.TARGET_UNCHANGED),
        (playlist(7, [("7.ts", 1.0), ("8.ts", 1.0)]), reloads.THREE_TARGETS_LEFT),
    ],
)
def test_a_broken_reload_fails_the_rule_that_names_it(after: Playlist, rule: Rule) -> None:
    assert rule in failed_rules(compare(BEFORE, after))


def test_a_segment_removed_from_the_middle_is_named_as_such() -> None:
    after = playlist(5, [("5.ts", 1.0), ("7.ts", 1.0), ("8.ts", 1.0)])
    assert reloads.REMOVED_FROM_FRONT in failed_rules(compare(BEFORE, after))
    jumped = playlist(9, [("7.ts", 1.0), ("8.ts", 1.0)])
    assert reloads.REMOVED_FROM_FRONT not in failed_rules(compare(BEFORE, jumped))


def test_a_window_that_slid_past_a_slow_client_is_a_warning_not_a_failure() -> None:
    after = playlist(12, [("12.ts", 1.0), ("13.ts", 1.0), ("14.ts", 1.0)])
    checks = compare(BEFORE, after)
    assert failed_rules(checks) == set()
    assert warned_rules(checks) == {reloads.NOTHING_UNSEEN}
    assert "segments 8..11 came and went" in warnings(checks)[0].saw


def test_nothing_may_change_after_endlist() -> None:
    ended = Playlist.parse(BEFORE.text + "#EXT-X-ENDLIST\n")
    grown = Playlist.parse(BEFORE.text + "#EXTINF:1.000,\n8.ts\n#EXT-X-ENDLIST\n")
    assert failed_rules(compare(ended, ended)) == set()
    assert reloads.ENDED_FINAL in failed_rules(compare(ended, grown))


def test_a_playlist_quiet_too_long_is_a_stall() -> None:
    history = PlaylistHistory()
    history.add(0.0, BEFORE)
    history.add(1.0, BEFORE)
    assert history.stall(1.0, resolution=0.5).passed
    assert not history.stall(2.6, resolution=0.5).passed
    history.add(3.0, Playlist.parse(BEFORE.text + "#EXT-X-ENDLIST\n"))
    assert history.stall(9.0, resolution=0.5).passed, "an ended playlist does not stall"


def test_the_good_segments_pass_every_packet_rule() -> None:
    checks, first = ts.check_segment(SEGMENT_0, 1.0)
    assert failed_rules(checks) == set()
    _, second = ts.check_segment(SEGMENT_1, 1.0)
    assert all(check.passed for check in second.follows(first))
    assert len(first.video_pts) == 25
    assert failed_rules(ffprobe.check_playable(SEGMENT_0)) == set()


# ISO/IEC 13818-1 2.4.3.2: PID 0x1FFF, payload only, stuffing bytes.
NULL_PACKET = bytes([ts.SYNC, 0x1F, 0xFF, 0x10]) + b"\xff" * 184


def two_programs(data: bytes) -> bytes:
    """The first packet's PAT with a second program entry (program 2 on PID 0x0101) in place of
    its CRC: the CRC is not checked, the program loop is."""
    table_at = 5 + data[4]  # past the header and the pointer field
    length = (data[table_at + 1] & 0x0F) << 8 | data[table_at + 2]
    end = table_at + 3 + length - 4  # where the CRC starts
    pat = bytearray(data[:188])
    pat[end : end + 4] = bytes([0x00, 0x02, 0xE1, 0x01])
    pat[end + 4 : end + 8] = b"\x00\x00\x00\x00"
    length += 4
    pat[table_at + 1] = (pat[table_at + 1] & 0xF0) | (length >> 8)
    pat[table_at + 2] = length & 0xFF
    return bytes(pat) + data[188:]


def without_frames(data: bytes, first: int, last: int) -> bytes:
    """The segment with the video PES packets of frames first..last (in stream order) turned
    into null packets: a hole in the timestamps, continuity counters aside."""
    video_pid = ts.read(data).video_pid
    packets = [data[at : at + 188] for at in range(0, len(data), 188)]
    frame, kept = -1, []
    for packet in packets:
        pid = (packet[1] & 0x1F) << 8 | packet[2]
        if pid == video_pid and packet[1] & 0x40:
            frame += 1
        kept.append(NULL_PACKET if pid == video_pid and first <= frame <= last else packet)
    return b"".join(kept)


def corrupt(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1 :]


def first_idr_at(data: bytes) -> int:
    return data.index(b"\x00\x00\x01\x65") + 3


@pytest.mark.parametrize(
    ("broken", "extinf", "rule"),
    [
        (SEGMENT_0[:-100], 1.0, ts.WHOLE_PACKETS),
        (corrupt(SEGMENT_0, 188 * 3, 0x48), 1.0, ts.SYNC_BYTES),
        (SEGMENT_0[376:], 1.0, ts.PAT_AND_PMT),
        # The PMT before the PAT that names it: a client starting here cannot read it.
        (SEGMENT_0[188:376] + SEGMENT_0[:188] + SEGMENT_0[376:], 1.0, ts.PMT_AFTER_PAT),
        (two_programs(SEGMENT_0), 1.0, ts.ONE_PROGRAM),
        (without_frames(SEGMENT_0, 10, 13), 1.0, ts.NO_HOLE),
        (SEGMENT_0[: 188 * 10] + SEGMENT_0[188 * 11 :], 1.0, ts.CONTINUITY),
        (corrupt(SEGMENT_0, first_idr_at(SEGMENT_0), 0x41), 1.0, KEYFRAME_FIRST),
    ],
)
def test_a_broken_segment_fails_its_rule(broken: bytes, extinf: float, rule: Rule) -> None:
    checks, _ = ts.check_segment(broken, extinf)
    assert rule in failed_rules(checks)


@pytest.mark.parametrize(
    ("deviant", "extinf", "rule"),
    [
        (NULL_PACKET + SEGMENT_0, 1.0, ts.PAT_PMT_FIRST),
        (SEGMENT_0, 2.0, DURATION_MATCHES),
    ],
)
def test_a_broken_should_is_a_warning_not_a_failure(
    deviant: bytes, extinf: float, rule: Rule
) -> None:
    checks, _ = ts.check_segment(deviant, extinf)
    assert failed_rules(checks) == set()
    assert warned_rules(checks) == {rule}


def test_segments_out_of_order_break_the_timeline() -> None:
    _, first = ts.check_segment(SEGMENT_0, 1.0)
    _, second = ts.check_segment(SEGMENT_1, 1.0)
    assert not any(check.passed for check in first.follows(second))


def test_ffprobe_rejects_what_is_not_a_segment() -> None:
    assert ffprobe.DECODABLE in failed_rules(ffprobe.check_playable(b"\x47" + b"\x00" * 187 * 3))


def test_decoding_counts_the_frames() -> None:
    video, audio = ffprobe.decoded_frames(SEGMENT_0 + SEGMENT_1)
    assert video == 50
    assert audio > 0


def sample(wall: float, current: float, frames: int, **extra: object) -> dict[str, object]:
    return {
        "wall": wall,
        "currentTime": current,
        "frames": frames,
        "readyState": 4,
        "paused": False,
        **extra,
    }


def test_playback_that_advances_with_wall_time_passes() -> None:
    playback = Playback([sample(0, 4.0, 10), sample(5, 9.0, 135)])
    assert playback.problems() == []


@pytest.mark.parametrize(
    ("samples", "problem"),
    [
        ([sample(0, 4.0, 10), sample(5, 5.0, 135)], "currentTime advanced 1.00 s in 5.00 s"),
        ([sample(0, 4.0, 10), sample(5, 9.0, 10)], "decoded frames stayed at 10"),
        ([sample(0, 4.0, 10), sample(5, 9.0, 135, paused=True)], "the video is paused"),
        (
            [sample(0, 4.0, 10), sample(5, 9.0, 135, errors=[{"fatal": True, "details": "x"}])],
            "fatal errors",
        ),
        ([{"wall": 0, "readyState": 0}], "the video never played"),
    ],
)
def test_playback_that_does_not_advance_fails(
    samples: list[dict[str, object]], problem: str
) -> None:
    assert any(problem in found for found in Playback(samples).problems())


def across(*points: tuple[float, float, int], **last: object) -> Playback:
    """A playback sampled at (time, currentTime, frames); `last` goes into the last sample."""
    samples = [sample(wall, current, frames, loadedAt=1.0) for wall, current, frames in points]
    samples[-1].update(last)
    return Playback(samples)


# Playing from 0 to 4, dropped at 4, stalled at 4.5 until the broadcaster is back at 10, then on.
STALLED = [(0, 0.5, 10), (2, 2.5, 60), (4, 4.5, 110), (6, 4.5, 110), (8, 4.5, 110)]
PLAYS_ON = [(10, 4.5, 110), (12, 6.5, 160), (13, 7.5, 185), (15, 9.5, 235)]


def test_a_player_that_stalls_in_the_gap_and_plays_on_passes() -> None:
    playback = across(*STALLED, *PLAYS_ON)
    assert playback.after_stall(10) == 12
    assert playback.played_on_for(10) == 3
    assert playback.problems_across(dropped_at=4, resumed_at=10, plays_on=3) == []


@pytest.mark.parametrize(
    ("playback", "problem"),
    [
        (
            across(
                *STALLED, (10, 4.5, 110), (14, 4.5, 110), errors=[{"details": "levelLoadError"}]
            ),
            "currentTime never moved on (hls.js reported: levelLoadError)",
        ),
        (across(*STALLED, (10, 4.5, 110), (12, 5.0, 110), (16, 5.5, 110)), "frames stayed at 110"),
        (
            across(*STALLED, (10, 4.5, 110), (12, 5.0, 120), (16, 6.0, 150)),
            "played 1.00 s of video",
        ),
        (across((0, 0.5, 10), (3, 0.5, 10), *PLAYS_ON), "before the drop: currentTime advanced"),
        (
            Playback([*across(*STALLED).samples, *across(*PLAYS_ON, loadedAt=2.0).samples]),
            "the page was loaded 2 times",
        ),
    ],
)
def test_a_player_that_does_not_play_on_across_the_gap_fails(
    playback: Playback, problem: str
) -> None:
    found = playback.problems_across(dropped_at=4, resumed_at=10, plays_on=3)
    assert any(problem in f for f in found), found
