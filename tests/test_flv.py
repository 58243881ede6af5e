"""FLV reading and the looped fixture."""

from __future__ import annotations

import itertools
import struct

import pytest

from support.media.fixture import FRAME_RATE, clip, looped
from support.media.flv import AUDIO, VIDEO, FlvError, FlvTag, read_tags


def tag(kind: int, timestamp: int, body: bytes) -> bytes:
    header = (
        bytes([kind]) + len(body).to_bytes(3, "big") + (timestamp & 0xFFFFFF).to_bytes(3, "big")
    )
    header += bytes([timestamp >> 24]) + b"\x00\x00\x00"
    return header + body + struct.pack(">I", len(body) + 11)


FILE = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"
FILE += (
    tag(VIDEO, 0, b"\x17\x00avcC")
    + tag(AUDIO, 0x01000005, b"\xaf\x01aac")
    + tag(VIDEO, 40, b"\x27\x01pic")
)


def test_tags_are_read_with_extended_timestamps() -> None:
    tags = list(read_tags(FILE))
    assert tags == [
        FlvTag(VIDEO, 0, b"\x17\x00avcC"),
        FlvTag(AUDIO, 0x01000005, b"\xaf\x01aac"),
        FlvTag(VIDEO, 40, b"\x27\x01pic"),
    ]
    assert tags[0].is_sequence_header
    assert not tags[0].is_video_frame
    assert tags[2].is_video_frame
    assert not tags[2].is_keyframe


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (b"MP4" + FILE[3:], "not an FLV file"),
        (FILE[:-3], "tag at byte 54 claims 5 bytes; the file ends first"),
        (FILE[:-15], r"tag header at byte 54 cut short \(5 bytes left\)"),
        (FILE[:-4] + b"\x00\x00\x00\x63", "tag at byte 54: PreviousTagSize 99, expected 16"),
    ],
)
def test_broken_files_say_where(data: bytes, complaint: str) -> None:
    with pytest.raises(FlvError, match=complaint):
        list(read_tags(data))


def test_the_fixture_is_baseline_h264_and_aac_with_a_keyframe_every_second() -> None:
    fixture = clip()
    assert fixture.metadata["width"] == 320
    assert fixture.metadata["videocodecid"] == 7
    assert [t.kind for t in fixture.headers] == [VIDEO, AUDIO]
    keyframes = [t.timestamp for t in fixture.frames if t.is_keyframe]
    assert len(keyframes) == 3
    assert {b - a for a, b in itertools.pairwise(keyframes)} == {1000}
    assert fixture.video_frames == 3 * FRAME_RATE


def test_looping_keeps_each_track_increasing_and_the_frame_rate() -> None:
    tags = list(looped(clip(), seconds=10))
    assert sum(t.is_video_frame for t in tags) == 10 * FRAME_RATE
    for kind in (AUDIO, VIDEO):
        stamps = [t.timestamp for t in tags if t.kind == kind]
        assert all(a < b for a, b in itertools.pairwise(stamps)), kind
    video = [t.timestamp for t in tags if t.kind == VIDEO]
    assert {b - a for a, b in itertools.pairwise(video)} == {1000 // FRAME_RATE}
