"""Wall-clock stamps in H.264: the instant a publisher sent each frame, carried in the frame.

A stamp is an SEI message of type user_data_unregistered (ISO/IEC 14496-10 D.1.7 and D.2.7): the
project's own UUID, then the instant in microseconds since the Unix epoch as ASCII digits. It is
its own NAL unit (type 6), placed before the frame's first slice as 7.4.1.2.3 requires, with
emulation prevention bytes (7.4.1). Decoders skip user data they do not know; nginx-rtmp copies
it into MPEG-TS with the frame, ffmpeg keeps it through a transcode (libx264's `udu_sei`), and
hls.js hands it to the page (FRAG_PARSING_USERDATA, with the frame's time on the media element).

Why in the bitstream, not in the timestamps: the RTMP timestamp of a frame starts again at 0
with every publish (a reconnect), a transcoder may shift it, and a viewer cannot know the
instant the publisher's clock started; a stamp in the frame says the instant itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from support.media.flv import FlvTag

STAMP_UUID = uuid.UUID("43e05662-5f9d-4b33-b224-43f0ac39b3be")
SEI_NAL = 6
USER_DATA_UNREGISTERED = 5
VCL = range(1, 6)  # coded slices, the IDR's included (7.4.1.2.3: SEI comes before them)
FLV_AVC_HEADER = 5  # frame type and codec, AVCPacketType, composition time


def escaped(rbsp: bytes) -> bytes:
    """Emulation prevention (7.4.1): a 0x03 after two zero bytes that a 0x00-0x03 follows."""
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def unescaped(payload: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in payload:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def coded_number(value: int) -> bytes:
    """payloadType and payloadSize: 0xFF for each 255, then the rest (7.3.2.3.1)."""
    return b"\xff" * (value // 255) + bytes([value % 255])


def stamp_nal(sent_at: float) -> bytes:
    """The SEI NAL unit (its header byte first, no start code or length) stamping `sent_at`."""
    payload = STAMP_UUID.bytes + str(round(sent_at * 1_000_000)).encode()
    message = coded_number(USER_DATA_UNREGISTERED) + coded_number(len(payload)) + payload
    return bytes([SEI_NAL]) + escaped(message + b"\x80")  # rbsp_trailing_bits


def user_data(nal: bytes) -> Iterator[tuple[uuid.UUID, bytes]]:
    """Each user_data_unregistered message of an SEI NAL unit: its UUID and its bytes."""
    if not nal or nal[0] & 0x1F != SEI_NAL:
        return
    rbsp, at = unescaped(nal[1:]), 0
    while at < len(rbsp) and rbsp[at:] != b"\x80":
        kind = size = 0
        while at < len(rbsp) and rbsp[at] == 0xFF:
            kind, at = kind + 255, at + 1
        if at >= len(rbsp):
            return
        kind, at = kind + rbsp[at], at + 1
        while at < len(rbsp) and rbsp[at] == 0xFF:
            size, at = size + 255, at + 1
        if at >= len(rbsp):
            return
        size, at = size + rbsp[at], at + 1
        body, at = rbsp[at : at + size], at + size
        if len(body) < size:
            return  # cut short: no more messages to trust
        if kind == USER_DATA_UNREGISTERED and size >= 16:
            yield uuid.UUID(bytes=body[:16]), body[16:]


def stamps(nals: Iterator[bytes] | list[bytes]) -> list[float]:
    """The instants the project's stamps in these NAL units say, in seconds since the epoch."""
    found = []
    for nal in nals:
        for key, data in user_data(nal):
            if key == STAMP_UUID and data.isdigit():
                found.append(int(data) / 1_000_000)
    return found


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (MPEG-TS video), without their start codes."""
    units, at = [], data.find(b"\x00\x00\x01")
    while at != -1:
        start = at + 3
        at = data.find(b"\x00\x00\x01", start)
        unit = data[start:] if at == -1 else data[start:at]
        units.append(unit.rstrip(b"\x00") if at != -1 else unit)  # a 4-byte start code's zero
    return [unit for unit in units if unit]


def avcc_units(data: bytes, length_size: int = 4) -> list[bytes]:
    """The NAL units of an AVC sample (FLV, MP4): each after its big-endian length."""
    units, at = [], 0
    while at + length_size <= len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        at += length_size
        units.append(data[at : at + size])
        at += size
    return units


def stamped(tag: FlvTag, sent_at: float, length_size: int = 4) -> FlvTag:
    """An FLV video frame with the stamp before its first slice; any other tag as it was."""
    if not tag.is_video_frame:
        return tag
    units = avcc_units(tag.data[FLV_AVC_HEADER:], length_size)
    first_slice = next((i for i, unit in enumerate(units) if unit and unit[0] & 0x1F in VCL), 0)
    units.insert(first_slice, stamp_nal(sent_at))
    body = b"".join(len(unit).to_bytes(length_size, "big") + unit for unit in units)
    return FlvTag(tag.kind, tag.timestamp, tag.data[:FLV_AVC_HEADER] + body)


def nal_length_size(sequence_header: FlvTag) -> int:
    """lengthSizeMinusOne + 1, from the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3)."""
    record = sequence_header.data[FLV_AVC_HEADER:]
    return (record[4] & 0x03) + 1 if len(record) > 4 else 4
