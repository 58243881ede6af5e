"""The fMP4 (ISO BMFF) rules on segments ffmpeg's HLS muxer wrote, whole and broken one way each."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.core.verdict import Check, Rule, failures, warnings
from support.hls.playlist import Playlist
from support.media import fmp4
from support.media.fixture import fixture_path
from support.media.segments import DURATION_MATCHES, KEYFRAME_FIRST, TIMELINE


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fMP4 HLS from ffmpeg: 1 s segments of the fixture (a keyframe every second)."""
    directory = tmp_path_factory.mktemp("fmp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(fixture_path()), "-c", "copy",
         "-f", "hls", "-hls_time", "1", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod",
         str(directory / "index.m3u8")],
        check=True,
    )  # fmt: skip
    return directory


def parts(directory: Path) -> tuple[bytes, list[tuple[bytes, float]]]:
    playlist = Playlist.parse((directory / "index.m3u8").read_text())
    assert playlist.segments[0].map is not None
    init = (directory / playlist.segments[0].map.uri).read_bytes()
    return init, [((directory / s.uri).read_bytes(), s.duration) for s in playlist.segments]


def judge(init_data: bytes, segments: list[tuple[bytes, float]]) -> list[Check]:
    init = fmp4.read_init(init_data)
    checks, before = list(init.checks), None
    for data, extinf in segments:
        found, fragments = fmp4.check_segment(data, init, extinf)
        checks += found
        if before is not None:
            checks += fragments.follows(before)
        before = fragments
    return checks


def failed(checks: list[Check]) -> set[Rule]:
    return {check.rule for check in failures(checks)}


def renamed(data: bytes, box: bytes, to: bytes = b"free") -> bytes:
    return data.replace(box, to, 1)


def test_ffmpegs_fmp4_passes_every_rule(packaged: Path) -> None:
    init, segments = parts(packaged)
    checks = judge(init, segments)
    assert failed(checks) == set()
    assert warnings(checks) == []
    assert {TIMELINE, KEYFRAME_FIRST, fmp4.TFDT_PRESENT} <= {c.rule for c in checks}


@pytest.mark.parametrize(
    ("break_init", "rule"),
    [
        (lambda d: renamed(d, b"iso6", b"isoX"), fmp4.INIT_FTYP),
        (lambda d: renamed(d, b"moov"), fmp4.INIT_MOOV),
        (lambda d: renamed(d, b"mvex"), fmp4.INIT_MVEX),
        (lambda d: d[:-9], fmp4.WELL_FORMED),
    ],
)
def test_a_broken_initialization_section_fails_its_rule(
    packaged: Path, break_init: object, rule: Rule
) -> None:
    init, segments = parts(packaged)
    assert callable(break_init)
    assert rule in failed(judge(break_init(init), segments))


@pytest.mark.parametrize(
    ("break_segment", "rule"),
    [
        (lambda d: renamed(d, b"tfdt"), fmp4.TFDT_PRESENT),
        (lambda d: renamed(d, b"mdat"), fmp4.MOOF_MDAT),
        (lambda d: d[: d.index(b"tfhd") + 5] + b"\x02\x00\x01" + d[d.index(b"tfhd") + 8 :],
         fmp4.RELATIVE_ADDRESSING),
        (lambda d: d[:-9], fmp4.WELL_FORMED),
    ],
)  # fmt: skip
def test_a_broken_segment_fails_its_rule(packaged: Path, break_segment: object, rule: Rule) -> None:
    init, segments = parts(packaged)
    assert callable(break_segment)
    broken = [(break_segment(segments[1][0]), segments[1][1])]
    assert rule in failed(judge(init, [segments[0], *broken]))


def test_segments_out_of_order_break_the_timeline_and_the_fragment_numbers(packaged: Path) -> None:
    init, segments = parts(packaged)
    found = failed(judge(init, [segments[1], segments[0]]))
    assert {TIMELINE, fmp4.SEQUENCE_GROWS} <= found


def test_a_skipped_segment_breaks_the_timeline(packaged: Path) -> None:
    init, segments = parts(packaged)
    assert TIMELINE in failed(judge(init, [segments[0], segments[2]]))


def test_a_wrong_extinf_is_a_warning(packaged: Path) -> None:
    init, segments = parts(packaged)
    checks = judge(init, [(segments[0][0], 2.0)])
    assert failed(checks) == set()
    assert {c.rule for c in warnings(checks)} == {DURATION_MATCHES}


def test_a_segment_cut_between_keyframes_does_not_start_with_one(tmp_path: Path) -> None:
    """ffmpeg's split_by_time cuts at 0.5 s although keyframes come every second."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(fixture_path()), "-c", "copy",
         "-f", "hls", "-hls_time", "0.5", "-hls_flags", "split_by_time",
         "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod", str(tmp_path / "index.m3u8")],
        check=True,
    )  # fmt: skip
    init, segments = parts(tmp_path)
    assert KEYFRAME_FIRST in failed(judge(init, segments))
    assert KEYFRAME_FIRST not in failed(judge(init, segments[:1]))
