"""Every HLS and MPEG-TS rule passes the good fixture and fails a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.hls.browser import Playback
from support.hls.playlist import Playlist, check_playlist, check_response, failures
from support.hls.reloads import PlaylistHistory, compare
from support.media import ts

FIXTURES = Path(__file__).parent / "fixtures" / "hls"
GOOD = (FIXTURES / "live.m3u8").read_text()
SEGMENT_0 = (FIXTURES / "0.ts").read_bytes()
SEGMENT_1 = (FIXTURES / "1.ts").read_bytes()


def failed_rules(checks: list) -> set[str]:
    return {check.rule for check in failures(checks)}


def test_the_good_playlist_passes_every_rule() -> None:
    assert failed_rules(check_playlist(GOOD, secret="the-key")) == set()
    assert failed_rules(check_response(200, "application/vnd.apple.mpegurl")) == set()


@pytest.mark.parametrize(
    ("broken", "rule"),
    [
        (GOOD.replace("#EXTM3U\n", ""), "starts with #EXTM3U"),
        (
            GOOD.replace("#EXT-X-VERSION:3", "#EXT-X-VERSION:3\n#EXT-X-VERSION:3"),
            "EXT-X-VERSION at most once",
        ),
        (GOOD.replace("#EXT-X-TARGETDURATION:1\n", ""), "EXT-X-TARGETDURATION exactly once"),
        (
            GOOD.replace("#EXT-X-MEDIA-SEQUENCE:0\n", "") + "#EXT-X-MEDIA-SEQUENCE:0\n",
            "EXT-X-MEDIA-SEQUENCE once, before the first segment",
        ),
        (GOOD.replace("0.ts\n", ""), "every EXTINF followed by a URI"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n", "not empty"),
        (
            GOOD.replace("#EXTINF:1.000,\n1.ts", "#EXTINF:1.600,\n1.ts"),
            "every EXTINF, rounded, within EXT-X-TARGETDURATION",
        ),
        (GOOD.replace("1.ts", "1.ts?key=the-key"), "no URL carries the stream key"),
    ],
)
def test_a_broken_playlist_fails_its_rule(broken: str, rule: str) -> None:
    assert rule in failed_rules(check_playlist(broken, secret="the-key"))


def test_a_wrong_answer_fails_the_response_rules() -> None:
    assert failed_rules(check_response(404, "text/html")) == {"served 200", "HLS content type"}


def playlist(sequence: int, segments: list[tuple[str, float]], target: int = 1) -> Playlist:
    lines = ["#EXTM3U", f"#EXT-X-TARGETDURATION:{target}", f"#EXT-X-MEDIA-SEQUENCE:{sequence}"]
    for uri, duration in segments:
        lines += [f"#EXTINF:{duration:.3f},", uri]
    return Playlist.parse("\n".join(lines) + "\n")


BEFORE = playlist(5, [("5.ts", 1.0), ("6.ts", 1.0), ("7.ts", 1.0)])


def test_a_sliding_window_passes_the_reload_rules() -> None:
    after = playlist(6, [("6.ts", 1.0), ("7.ts", 1.0), ("8.ts", 1.0), ("9.ts", 1.0)])
    assert failed_rules(compare(BEFORE, after)) == set()


@pytest.mark.parametrize(
    ("after", "rule"),
    [
        (playlist(4, [("4.ts", 1.0), ("5.ts", 1.0)]), "media sequence never decreases"),
        (
            playlist(10, [("10.ts", 1.0)]),
            "media sequence grows by the segments removed from the front",
        ),
        (
            playlist(5, [("5.ts", 1.0), ("6b.ts", 1.0), ("7.ts", 1.0)]),
            "a sequence number keeps its URI and duration",
        ),
        (
            playlist(5, [("5.ts", 1.0), ("6.ts", 0.5), ("7.ts", 1.0)]),
            "a sequence number keeps its URI and duration",
        ),
    ],
)
def test_a_broken_reload_fails_its_rule(after: Playlist, rule: str) -> None:
    assert rule in failed_rules(compare(BEFORE, after))


def test_a_changed_target_duration_is_a_warning_not_a_failure() -> None:
    after = playlist(5, [("5.ts", 1.0), ("6.ts", 1.0), ("7.ts", 1.0)], target=2)
    checks = compare(BEFORE, after)
    assert [c.rule for c in checks if c.warning] == ["EXT-X-TARGETDURATION does not change"]
    assert failed_rules(checks) == set()


def test_a_playlist_quiet_too_long_is_a_stall() -> None:
    history = PlaylistHistory()
    history.add(0.0, BEFORE)
    history.add(1.0, BEFORE)
    assert history.stall(1.0, resolution=0.5).passed
    assert not history.stall(2.6, resolution=0.5).passed


def test_the_good_segments_pass_every_packet_rule() -> None:
    checks, first = ts.check_segment(SEGMENT_0, 1.0)
    assert failed_rules(checks) == set()
    _, second = ts.check_segment(SEGMENT_1, 1.0)
    assert ts.check_continuity(first, second).passed
    assert len(first.video_pts) == 25
    assert ts.ffprobe_streams(SEGMENT_0).passed


def corrupt(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1 :]


def first_idr_at(data: bytes) -> int:
    return data.index(b"\x00\x00\x01\x65") + 3


@pytest.mark.parametrize(
    ("broken", "extinf", "rule"),
    [
        (SEGMENT_0[:-100], 1.0, "length a multiple of 188"),
        (corrupt(SEGMENT_0, 188 * 3, 0x48), 1.0, "every packet starts with 0x47"),
        (SEGMENT_0[188:376] + SEGMENT_0[:188] + SEGMENT_0[376:], 1.0, "PAT and PMT come first"),
        (SEGMENT_0[: 188 * 10] + SEGMENT_0[188 * 11 :], 1.0, "continuity counters without gaps"),
        (corrupt(SEGMENT_0, first_idr_at(SEGMENT_0), 0x41), 1.0, "starts with an IDR frame"),
        (SEGMENT_0, 2.0, "duration (PTS) matches EXTINF"),
    ],
)
def test_a_broken_segment_fails_its_rule(broken: bytes, extinf: float, rule: str) -> None:
    checks, _ = ts.check_segment(broken, extinf)
    assert rule in failed_rules(checks)


def test_segments_out_of_order_break_the_timeline() -> None:
    _, first = ts.check_segment(SEGMENT_0, 1.0)
    _, second = ts.check_segment(SEGMENT_1, 1.0)
    assert not ts.check_continuity(second, first).passed


def test_ffprobe_rejects_what_is_not_a_segment() -> None:
    assert not ts.ffprobe_streams(b"\x47" + b"\x00" * 187 * 3).passed


def test_decoding_counts_the_frames() -> None:
    video, audio = ts.decoded_frames(SEGMENT_0 + SEGMENT_1)
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
