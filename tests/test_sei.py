"""The publisher's wall-clock stamps (support/media/sei.py): built and read to ISO/IEC 14496-10,
decoded by ffmpeg without a word, and still there after ffmpeg remuxes the stream to MPEG-TS
and after it transcodes it (libx264 with udu_sei, as a ladder's transcoder would)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.media import sei, ts
from support.media.fixture import clip
from support.media.flv import VIDEO, write_tags

SENT_AT = 1796300725.860123


def test_emulation_prevention_escapes_what_a_start_code_could_be() -> None:
    assert sei.escaped(b"\x00\x00\x01") == b"\x00\x00\x03\x01"
    assert sei.escaped(b"\x00\x00\x00\x00") == b"\x00\x00\x03\x00\x00"
    assert sei.escaped(b"\x00\x00\x04") == b"\x00\x00\x04"


@given(st.binary(max_size=200))
def test_escaping_round_trips_and_leaves_no_start_code(rbsp: bytes) -> None:
    escaped = sei.escaped(rbsp)
    assert sei.unescaped(escaped) == rbsp
    assert not any(escaped[i : i + 3] in (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02")
                   for i in range(len(escaped) - 2))  # fmt: skip


def test_a_stamp_reads_back_to_the_microsecond() -> None:
    nal = sei.stamp_nal(SENT_AT)
    assert nal[0] == sei.SEI_NAL
    assert sei.stamps([nal]) == [pytest.approx(SENT_AT, abs=1e-6)]
    assert next(iter(sei.user_data(nal)))[0] == sei.STAMP_UUID


def test_other_user_data_and_other_nal_units_are_not_stamps() -> None:
    other = bytes([6, 5, 20]) + bytes(range(1, 17)) + b"1234" + b"\x80"  # another UUID
    assert sei.stamps([other, b"\x65\x88\x84", b""]) == []
    cut = sei.stamp_nal(SENT_AT)[:10]
    assert sei.stamps([cut]) == []


def test_the_stamp_goes_before_the_frames_first_slice() -> None:
    media = clip()
    keyframe = next(tag for tag in media.frames if tag.is_keyframe)
    before = [unit[0] & 0x1F for unit in sei.avcc_units(keyframe.data[5:])]
    stamped = sei.stamped(keyframe, SENT_AT)
    after = [unit[0] & 0x1F for unit in sei.avcc_units(stamped.data[5:])]
    first_slice = next(i for i, kind in enumerate(before) if kind in sei.VCL)
    assert after == [*before[:first_slice], sei.SEI_NAL, *before[first_slice:]]
    assert stamped.data[:5] == keyframe.data[:5]
    assert stamped.timestamp == keyframe.timestamp
    audio = next(tag for tag in media.frames if tag.kind != VIDEO)
    assert sei.stamped(audio, SENT_AT) is audio


@pytest.fixture(scope="module")
def stamped_flv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    media = clip()
    frames = [sei.stamped(tag, SENT_AT + tag.timestamp / 1000) for tag in media.frames]
    path = tmp_path_factory.mktemp("sei") / "stamped.flv"
    path.write_bytes(write_tags([*media.headers, *frames]))
    return path


def sent() -> list[float]:
    """The instants the fixture's video frames were stamped with, in order."""
    return [SENT_AT + tag.timestamp / 1000 for tag in clip().frames if tag.is_video_frame]


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-v", "warning", *args],
                          capture_output=True, text=True, check=False, timeout=60)  # fmt: skip


def ts_stamps(path: Path) -> list[float]:
    """Every stamp in an MPEG-TS file's video, each PES's elementary stream read whole."""
    data = path.read_bytes()
    segment = ts.read(data)
    found = []
    for pes in ts.pes_payloads(data, segment.video_pid):
        found += sei.stamps(sei.annexb_units(pes))
    return found


def test_ffmpeg_decodes_the_stamped_media_without_a_warning(stamped_flv: Path) -> None:
    result = ffmpeg("-i", str(stamped_flv), "-f", "null", "-")
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_stamps_survive_a_remux_to_mpeg_ts(stamped_flv: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.ts"
    assert ffmpeg("-i", str(stamped_flv), "-c", "copy", "-f", "mpegts", str(out)).returncode == 0
    assert ts_stamps(out) == pytest.approx(sent(), abs=1e-6)


def test_the_stamps_survive_a_transcode_with_udu_sei(stamped_flv: Path, tmp_path: Path) -> None:
    out = tmp_path / "low.ts"
    result = ffmpeg("-i", str(stamped_flv), "-c:v", "libx264", "-udu_sei", "1", "-s", "160x120",
                    "-preset", "ultrafast", "-an", "-f", "mpegts", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ts_stamps(out) == pytest.approx(sent(), abs=1e-6)
