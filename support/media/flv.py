"""FLV files: the header and the tags, each tag one RTMP audio, video or data message body."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

AUDIO, VIDEO, SCRIPT = 8, 9, 18
AVC, AAC = 7, 10


class FlvError(ValueError):
    """A file that is not FLV, or a tag that does not add up; says where."""


@dataclass(frozen=True)
class FlvTag:
    kind: int
    timestamp: int
    data: bytes

    @property
    def is_video_frame(self) -> bool:
        """A coded picture: an AVC NALU packet (not a sequence header or end of sequence)."""
        return (
            self.kind == VIDEO
            and len(self.data) > 1
            and self.data[0] & 0x0F == AVC
            and self.data[1] == 1
        )

    @property
    def is_keyframe(self) -> bool:
        return self.is_video_frame and self.data[0] >> 4 == 1

    @property
    def is_sequence_header(self) -> bool:
        if len(self.data) < 2:
            return False
        if self.kind == VIDEO:
            return self.data[0] & 0x0F == AVC and self.data[1] == 0
        return self.kind == AUDIO and self.data[0] >> 4 == AAC and self.data[1] == 0

    @property
    def is_end_of_sequence(self) -> bool:
        return self.kind == VIDEO and len(self.data) > 1 and self.data[1] == 2


def read_tags(data: bytes) -> Iterator[FlvTag]:
    if data[:3] != b"FLV":
        raise FlvError(f"not an FLV file: it starts with {data[:3]!r}, expected b'FLV'")
    if len(data) < 13:
        raise FlvError(f"FLV header cut short: {len(data)} bytes")
    (header_size,) = struct.unpack(">I", data[5:9])
    offset = header_size + 4  # the header, then PreviousTagSize0
    while offset < len(data):
        if offset + 11 > len(data):
            raise FlvError(
                f"tag header at byte {offset} cut short ({len(data) - offset} bytes left)"
            )
        kind = data[offset] & 0x1F
        size = int.from_bytes(data[offset + 1 : offset + 4], "big")
        timestamp = int.from_bytes(data[offset + 4 : offset + 7], "big") | data[offset + 7] << 24
        body_start, body_end = offset + 11, offset + 11 + size
        if body_end + 4 > len(data):
            raise FlvError(f"tag at byte {offset} claims {size} bytes; the file ends first")
        (previous,) = struct.unpack(">I", data[body_end : body_end + 4])
        if previous != size + 11:
            raise FlvError(
                f"tag at byte {offset}: PreviousTagSize {previous}, expected {size + 11}"
            )
        if kind in (AUDIO, VIDEO, SCRIPT):
            yield FlvTag(kind, timestamp, data[body_start:body_end])
        offset = body_end + 4


def write_tags(tags: Iterator[FlvTag] | list[FlvTag]) -> bytes:
    """An FLV file of audio and video (header, then each tag and its PreviousTagSize)."""
    out = bytearray(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")
    for tag in tags:
        stamp = tag.timestamp & 0xFFFFFF, tag.timestamp >> 24 & 0xFF
        out += bytes([tag.kind]) + len(tag.data).to_bytes(3, "big")
        out += stamp[0].to_bytes(3, "big") + bytes([stamp[1]]) + b"\x00\x00\x00" + tag.data
        out += struct.pack(">I", 11 + len(tag.data))
    return bytes(out)
