"""The multivariant checker (support/hls/multivariant.py) on ffmpeg's own ladders: two variants
made by one ffmpeg (-var_stream_map, -master_pl_name), MPEG-TS and fMP4, judged with no failure;
and broken copies of them, each red at the rule that names its fault."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from support.core.verdict import Rule
from support.hls import multivariant
from support.hls.local import served
from support.hls.multivariant import MultivariantReport, judge
from support.media.codecs import aac_object_type, fmp4_codecs, ts_codecs

LADDER = [
    "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
    "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "6",
    "-filter_complex", "[0:v]split=2[a][b];[b]scale=320:180[low]",
    "-map", "[a]", "-map", "[low]", "-map", "1:a", "-map", "1:a",
    "-c:v", "libx264", "-profile:v", "main", "-pix_fmt", "yuv420p",
    "-b:v:0", "800k", "-b:v:1", "300k", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
    "-c:a", "aac", "-b:a", "64k",
    "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
    "-master_pl_name", "master.m3u8", "-var_stream_map", "v:0,a:0 v:1,a:1",
]  # fmt: skip


JUDGED_ON_EVERY_LADDER = (
    multivariant.PEAK_DECLARED, multivariant.CODECS_MATCH, multivariant.RESOLUTION_MATCH,
    multivariant.SAME_TARGET, multivariant.SAME_TIMESTAMPS, multivariant.SWITCHABLE,
    multivariant.EDGES_ONLY,
)  # fmt: skip


@pytest.fixture(scope="module")
def ladders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {}
    fmp4 = ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init_%v.mp4"]
    for kind, options in (("ts", []), ("fmp4", fmp4)):
        directory = tmp_path_factory.mktemp(kind)
        subprocess.run([*LADDER, *options, str(directory / "out_%v.m3u8")], check=True, timeout=120)
        made[kind] = directory
    return made


async def judged_at(directory: Path) -> MultivariantReport:
    async with served(directory) as base, aiohttp.ClientSession() as session:
        return await judge(session, f"{base}/master.m3u8")


def judge_dir(directory: Path) -> MultivariantReport:
    report = asyncio.run(judged_at(directory))
    print(report.describe())
    return report


def broken(ladder: Path, tmp_path: Path, name: str, change: Callable[[str], str]) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(ladder, copy)
    (copy / name).write_text(change((copy / name).read_text()))
    return copy


def failed_rules(report: MultivariantReport) -> set[Rule]:
    return {check.rule for check in report.failures()}


@pytest.mark.parametrize("kind", ["ts", "fmp4"])
def test_ffmpegs_ladder_has_no_failure(ladders: dict[str, Path], kind: str) -> None:
    report = judge_dir(ladders[kind])
    assert report.failures() == []
    judged = {check.rule for check in report.checks}
    for rule in JUDGED_ON_EVERY_LADDER:
        assert rule in judged, f"{rule} was never judged"
    # What ffmpeg leaves out, and its BANDWIDTH from the encoder's settings (bit rate + 10 %),
    # far above what the test pattern measures: warnings, not failures.
    warned = {check.rule for check in report.warnings()}
    assert {multivariant.HAS_AVERAGE, multivariant.HAS_FRAME_RATE} <= warned
    assert multivariant.PEAK_NOT_INFLATED in warned


def test_a_bandwidth_declared_at_half_fails_the_peak(
    ladders: dict[str, Path], tmp_path: Path
) -> None:
    def halve(text: str) -> str:
        return text.replace("BANDWIDTH=400400", "BANDWIDTH=200200")

    report = judge_dir(broken(ladders["ts"], tmp_path, "master.m3u8", halve))
    assert failed_rules(report) == {multivariant.PEAK_DECLARED}


def test_an_average_bandwidth_below_the_measured_fails(
    ladders: dict[str, Path], tmp_path: Path
) -> None:
    def low_average(text: str) -> str:
        return text.replace("BANDWIDTH=400400,", "BANDWIDTH=400400,AVERAGE-BANDWIDTH=100000,")

    report = judge_dir(broken(ladders["ts"], tmp_path, "master.m3u8", low_average))
    assert failed_rules(report) == {multivariant.AVERAGE_DECLARED}


def test_a_wrong_codecs_string_fails(ladders: dict[str, Path], tmp_path: Path) -> None:
    def high_profile(text: str) -> str:  # Main (4d) declared as High (64)
        return text.replace('CODECS="avc1.4d', 'CODECS="avc1.64')

    report = judge_dir(broken(ladders["ts"], tmp_path, "master.m3u8", high_profile))
    assert failed_rules(report) == {multivariant.CODECS_MATCH}


def test_a_wrong_frame_rate_fails(ladders: dict[str, Path], tmp_path: Path) -> None:
    def fifty(text: str) -> str:
        return text.replace("RESOLUTION=320x180,", "RESOLUTION=320x180,FRAME-RATE=50.000,")

    report = judge_dir(broken(ladders["fmp4"], tmp_path, "master.m3u8", fifty))
    assert failed_rules(report) == {multivariant.FRAME_RATE_MATCH}


def test_a_variant_with_another_target_duration_fails(
    ladders: dict[str, Path], tmp_path: Path
) -> None:
    def longer(text: str) -> str:
        return text.replace("#EXT-X-TARGETDURATION:1", "#EXT-X-TARGETDURATION:2")

    report = judge_dir(broken(ladders["ts"], tmp_path, "out_1.m3u8", longer))
    assert failed_rules(report) == {multivariant.SAME_TARGET}


def test_misaligned_segments_fail_the_timestamps(ladders: dict[str, Path], tmp_path: Path) -> None:
    """The low variant numbered one on: its segment N holds what the other's N+1 holds."""

    def shifted(text: str) -> str:
        return text.replace("#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-MEDIA-SEQUENCE:1")

    report = judge_dir(broken(ladders["fmp4"], tmp_path, "out_1.m3u8", shifted))
    assert failed_rules(report) == {multivariant.SAME_TIMESTAMPS}


def test_content_missing_for_longer_than_a_target_fails(
    ladders: dict[str, Path], tmp_path: Path
) -> None:
    """The low variant starts two segments later (its numbers kept): 2 s that only the other
    variant holds, over the 1 s target duration."""

    def later(text: str) -> str:
        text = text.replace("#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-MEDIA-SEQUENCE:2")
        return text.replace("#EXTINF:1.000000,\nout_10.ts\n#EXTINF:1.000000,\nout_11.ts\n", "")

    report = judge_dir(broken(ladders["ts"], tmp_path, "out_1.m3u8", later))
    assert failed_rules(report) == {multivariant.EDGES_ONLY}


def test_a_playlist_without_bandwidth_or_uri_fails_its_own_rules() -> None:
    variants, checks = multivariant.read(
        "#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=320x180\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"
    )
    failed = {check.rule for check in checks if check.failed}
    assert failed == {multivariant.HAS_BANDWIDTH, multivariant.HAS_URI}
    assert [v.uri for v in variants] == ["low.m3u8", ""]


def test_the_codecs_of_ffmpegs_segments_are_those_it_declares(ladders: dict[str, Path]) -> None:
    declared = {
        kind: [set(v.codecs) for v in multivariant.read((path / "master.m3u8").read_text())[0]]
        for kind, path in ladders.items()
    }
    assert ts_codecs((ladders["ts"] / "out_10.ts").read_bytes()) == declared["ts"][1]
    assert fmp4_codecs((ladders["fmp4"] / "init_0.mp4").read_bytes()) == declared["fmp4"][0]
    assert aac_object_type(b"\x03\x19\x00\x01\x00\x04\x11\x41") is None  # not MPEG-4 audio


def test_a_resolution_that_is_not_the_videos_is_a_warning(
    ladders: dict[str, Path], tmp_path: Path
) -> None:
    def large(text: str) -> str:
        return text.replace("RESOLUTION=320x180", "RESOLUTION=1280x720")

    report = judge_dir(broken(ladders["ts"], tmp_path, "master.m3u8", large))
    assert report.failures() == []
    assert multivariant.RESOLUTION_MATCH in {check.rule for check in report.warnings()}


def test_a_variant_that_is_not_served_fails(ladders: dict[str, Path], tmp_path: Path) -> None:
    def elsewhere(text: str) -> str:
        return text.replace("out_1.m3u8", "gone.m3u8")

    report = judge_dir(broken(ladders["ts"], tmp_path, "master.m3u8", elsewhere))
    assert failed_rules(report) == {multivariant.VARIANT_SERVED}


def test_another_discontinuity_sequence_fails(ladders: dict[str, Path], tmp_path: Path) -> None:
    def renumbered(text: str) -> str:
        return text.replace(
            "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-DISCONTINUITY-SEQUENCE:3"
        )

    report = judge_dir(broken(ladders["ts"], tmp_path, "out_1.m3u8", renumbered))
    assert failed_rules(report) == {multivariant.SAME_DISCONTINUITIES}


def test_the_playlists_own_rules() -> None:
    def broken_rules(text: str) -> set[Rule]:
        return {check.rule for check in multivariant.read(text)[1] if not check.passed}

    assert broken_rules("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na.ts\n") == {
        multivariant.NO_SEGMENT_TAGS, multivariant.HAS_VARIANT,
    }  # fmt: skip
    assert broken_rules("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nlow.m3u8\n") == {
        multivariant.HAS_CODECS, multivariant.HAS_AVERAGE, multivariant.HAS_RESOLUTION,
        multivariant.HAS_FRAME_RATE,
    }  # fmt: skip
    audio = 'BANDWIDTH=64000,AVERAGE-BANDWIDTH=60000,CODECS="mp4a.40.2"'
    audio_only = f"#EXTM3U\n#EXT-X-STREAM-INF:{audio}\na.m3u8\n"
    assert broken_rules(audio_only) == set()
