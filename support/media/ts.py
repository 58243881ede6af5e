"""MPEG-TS segment checks, down to the packets: sync, PAT/PMT, continuity, IDR start, PTS.

Pure functions over bytes; each rule carries its source and keyword (support.core.verdict). RFC 8216
3.2 requires a PAT and a PMT in every segment (MUST) and recommends them as its first two
packets (SHOULD): ffmpeg's HLS muxer, for one, writes an SDT first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from support.core.verdict import MUST, SHOULD, Check, Rule
from support.media.segments import DURATION_MATCHES, KEYFRAME_FIRST, TIMELINE

PACKET = 188
SYNC = 0x47
PAT_PID = 0
H264, AAC = 0x1B, 0x0F
IDR_NAL = 5
PTS_HZ = 90_000

WHOLE_PACKETS = Rule("whole 188-byte packets", MUST, "ISO/IEC 13818-1 2.4.3.2, RFC 8216 3.2")
SYNC_BYTES = Rule("every packet starts with the sync byte 0x47", MUST, "ISO/IEC 13818-1 2.4.3.2")
PAT_AND_PMT = Rule("each segment carries a PAT and a PMT", MUST, "RFC 8216 3.2")
PAT_PMT_FIRST = Rule("the first two packets are the PAT and the PMT", SHOULD, "RFC 8216 3.2")
CONTINUITY = Rule("continuity counters without gaps", MUST, "ISO/IEC 13818-1 2.4.3.3")


@dataclass
class Segment:
    """What the packets of one segment say."""

    packets: int = 0
    pids_in_order: list[int] = field(default_factory=list)
    pmt_pid: int | None = None
    video_pid: int | None = None
    audio_pid: int | None = None
    continuity_gaps: list[str] = field(default_factory=list)
    video_pts: list[int] = field(default_factory=list)
    first_video_payload: bytes = b""

    @property
    def frame_interval(self) -> float | None:
        """The smallest step between frames in presentation order: with B-frames the packets
        come in decode order, whose PTS steps skip frames (ISO/IEC 13818-1 2.4.3.7)."""
        shown = sorted(set(self.video_pts))
        deltas = [b - a for a, b in itertools.pairwise(shown)]
        return min(deltas) / PTS_HZ if deltas else None

    @property
    def duration(self) -> float | None:
        """From the first to the last video frame, plus one frame."""
        if not self.video_pts or self.frame_interval is None:
            return None
        return (max(self.video_pts) - min(self.video_pts)) / PTS_HZ + self.frame_interval

    @property
    def starts_with_idr(self) -> bool:
        return IDR_NAL in nal_types(self.first_video_payload)

    def follows(self, before: Segment) -> list[Check]:
        return check_continuity(before, self)


def nal_types(data: bytes) -> list[int]:
    types, at = [], data.find(b"\x00\x00\x01")
    while at != -1 and at + 3 < len(data):
        types.append(data[at + 3] & 0x1F)
        at = data.find(b"\x00\x00\x01", at + 3)
    return types


def pes_pts(payload: bytes) -> int | None:
    if len(payload) < 14 or payload[:3] != b"\x00\x00\x01" or not payload[7] & 0x80:
        return None
    p = payload[9:14]
    return ((p[0] >> 1) & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1


def read(data: bytes) -> Segment:
    """Walk every packet; malformed packets end the walk (the size/sync checks report them)."""
    segment = Segment()
    segment.pmt_pid, segment.video_pid, segment.audio_pid = program(data)
    counters: dict[int, int] = {}
    collecting_first_video = False
    for offset in range(0, len(data) - PACKET + 1, PACKET):
        packet = data[offset : offset + PACKET]
        if packet[0] != SYNC:
            break
        segment.packets += 1
        start = bool(packet[1] & 0x40)
        pid = (packet[1] & 0x1F) << 8 | packet[2]
        control, counter = (packet[3] >> 4) & 0x03, packet[3] & 0x0F
        segment.pids_in_order.append(pid)
        body = 4
        if control in (2, 3):
            body += 1 + packet[4]
        payload = packet[body:] if control in (1, 3) else b""
        if control in (1, 3):
            previous = counters.get(pid)
            if previous is not None and counter not in ((previous + 1) % 16, previous):
                segment.continuity_gaps.append(
                    f"PID {pid}: {previous} -> {counter} at byte {offset}"
                )
            counters[pid] = counter
        if pid == segment.video_pid:
            if start:
                pts = pes_pts(payload)
                if pts is not None:
                    segment.video_pts.append(pts)
                collecting_first_video = not segment.first_video_payload
                if collecting_first_video and len(payload) > 9:
                    payload = payload[
                        9 + payload[8] :
                    ]  # the elementary stream, past the PES header
            if collecting_first_video:
                segment.first_video_payload += payload
    return segment


def program(data: bytes) -> tuple[int | None, int | None, int | None]:
    """The PMT PID from the first PAT, then the video and audio PIDs from that PMT."""
    sections = list(section_starts(data))
    pmt_pid = next((pat_pmt_pid(body) for pid, body in sections if pid == PAT_PID), None)
    pmt = next((body for pid, body in sections if pid == pmt_pid), None)
    return (pmt_pid, *pmt_streams(pmt)) if pmt is not None else (pmt_pid, None, None)


def section_starts(data: bytes) -> Iterator[tuple[int, bytes]]:
    """PID and payload of every packet that starts a payload unit."""
    for offset in range(0, len(data) - PACKET + 1, PACKET):
        packet = data[offset : offset + PACKET]
        if packet[0] == SYNC and packet[1] & 0x40:
            body = 4 + (1 + packet[4] if (packet[3] >> 4) & 0x02 else 0)
            yield (packet[1] & 0x1F) << 8 | packet[2], packet[body:]


def pat_pmt_pid(payload: bytes) -> int | None:
    table = payload[1 + payload[0] :] if payload else b""
    if len(table) < 12:
        return None
    return (table[10] & 0x1F) << 8 | table[11]  # the first program's map PID


def pmt_streams(payload: bytes) -> tuple[int | None, int | None]:
    table = payload[1 + payload[0] :] if payload else b""
    if len(table) < 12:
        return None, None
    section_end = 3 + ((table[1] & 0x0F) << 8 | table[2]) - 4  # without the CRC
    at = 12 + ((table[10] & 0x0F) << 8 | table[11])
    video = audio = None
    while at + 5 <= min(section_end, len(table)):
        kind, pid = table[at], (table[at + 1] & 0x1F) << 8 | table[at + 2]
        if kind == H264:
            video = pid
        elif kind == AAC:
            audio = pid
        at += 5 + ((table[at + 3] & 0x0F) << 8 | table[at + 4])
    return video, audio


def check_segment(
    data: bytes, extinf: float, tolerance: float = 0.1
) -> tuple[list[Check], Segment]:
    segment = read(data)
    first_two = segment.pids_in_order[:2]
    duration = segment.duration
    checks = [
        WHOLE_PACKETS.check(len(data) % PACKET == 0 and len(data) > 0, f"{len(data)} bytes"),
        SYNC_BYTES.check(
            segment.packets == len(data) // PACKET,
            f"{segment.packets} of {len(data) // PACKET} packets in sync",
        ),
        PAT_AND_PMT.check(
            segment.pmt_pid is not None and segment.pmt_pid in segment.pids_in_order,
            f"PMT PID {segment.pmt_pid} (from the PAT); PIDs {sorted(set(segment.pids_in_order))}",
        ),
        PAT_PMT_FIRST.check(
            first_two[:1] == [PAT_PID] and first_two[1:] == [segment.pmt_pid],
            f"first PIDs {first_two}, PMT PID {segment.pmt_pid}",
        ),
        CONTINUITY.check(not segment.continuity_gaps, f"{segment.continuity_gaps[:3]}"),
        KEYFRAME_FIRST.check(
            segment.starts_with_idr,
            f"first video NAL types {nal_types(segment.first_video_payload)[:6]}",
        ),
        DURATION_MATCHES.check(
            duration is not None and abs(duration - extinf) <= tolerance,
            f"PTS span {duration if duration is None else round(duration, 3)} s, EXTINF {extinf} s",
        ),
    ]
    return checks, segment


def check_continuity(before: Segment, after: Segment) -> list[Check]:
    """The next segment's first frame follows the previous one's last, one frame later."""
    interval = before.frame_interval or after.frame_interval
    if not before.video_pts or not after.video_pts or interval is None:
        return [TIMELINE.check(False, "a segment has no video timestamps")]
    gap = (min(after.video_pts) - max(before.video_pts)) / PTS_HZ
    return [
        TIMELINE.check(
            0 < gap <= 2 * interval + 1e-3,
            f"{gap * 1000:.1f} ms from one segment's last frame to the next one's first",
        )
    ]
