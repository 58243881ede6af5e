"""MPEG-TS segment checks, down to the packets: sync, PAT/PMT, continuity, keyframe start, PTS.

Pure functions over bytes; each rule carries its source and keyword (support.core.verdict). RFC 8216
3.2 requires a single program and a PAT then its PMT in every segment, or in the EXT-X-MAP that
applies to it (MUST), and recommends them as its first two packets (SHOULD): ffmpeg's HLS
muxer, for one, writes an SDT first. Video is H.264 (stream type 0x1B) or HEVC (0x24), each
with its own NAL header; whether a browser decodes it is ffprobe's rule, not this module's.
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
H264, HEVC, AAC = 0x1B, 0x24, 0x0F
IDR_NAL = 5  # ISO/IEC 14496-10 7.4.1.2
HEVC_IRAP = range(16, 24)  # ISO/IEC 23008-2 7.4.2.2: BLA, IDR, CRA and reserved IRAP types
PTS_HZ = 90_000
HOLE_FACTOR = 1.5  # a step between frames this many frame intervals long means frames are missing

WHOLE_PACKETS = Rule("whole 188-byte packets", MUST, "ISO/IEC 13818-1 2.4.3.2, RFC 8216 3.2")
SYNC_BYTES = Rule("every packet starts with the sync byte 0x47", MUST, "ISO/IEC 13818-1 2.4.3.2")
PAT_AND_PMT = Rule("each segment (or its EXT-X-MAP) carries a PAT and a PMT", MUST, "RFC 8216 3.2")
PMT_AFTER_PAT = Rule(
    "the PMT comes after the PAT that names it (a client starting here can read it)", MUST,
    "RFC 8216 3.2",
)  # fmt: skip
ONE_PROGRAM = Rule("the segment holds a single program", MUST, "RFC 8216 3.2")
NO_HOLE = Rule(
    "timestamps run on without a hole inside the segment (no frames missing)", MUST,
    "RFC 8216 3",
)  # fmt: skip
PAT_PMT_FIRST = Rule("the first two packets are the PAT and the PMT", SHOULD, "RFC 8216 3.2")
CONTINUITY = Rule("continuity counters without gaps", MUST, "ISO/IEC 13818-1 2.4.3.3")


@dataclass
class Segment:
    """What the packets of one segment say."""

    packets: int = 0
    pids_in_order: list[int] = field(default_factory=list)
    pmt_pid: int | None = None
    programs: int = 0
    video_pid: int | None = None
    video_type: int | None = None
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
        """The first access unit is a keyframe: an IDR picture (H.264) or an IRAP one (HEVC)."""
        if self.video_type == HEVC:
            return any(t in HEVC_IRAP for t in nal_types(self.first_video_payload, hevc=True))
        return IDR_NAL in nal_types(self.first_video_payload)

    @property
    def holes(self) -> list[tuple[float, float]]:
        """(from, to) in seconds where, in presentation order, frames are missing."""
        interval = self.frame_interval
        shown = sorted(set(self.video_pts))
        return [
            (a / PTS_HZ, b / PTS_HZ)
            for a, b in itertools.pairwise(shown)
            if interval and (b - a) / PTS_HZ > HOLE_FACTOR * interval
        ]

    def follows(self, before: Segment) -> list[Check]:
        return check_continuity(before, self)


def nal_types(data: bytes, *, hevc: bool = False) -> list[int]:
    """NAL unit types after each start code: H.264's is the low 5 bits of the header's byte,
    HEVC's the 6 bits after the forbidden bit (ISO/IEC 23008-2 7.3.1.2)."""
    types, at = [], data.find(b"\x00\x00\x01")
    while at != -1 and at + 3 < len(data):
        header = data[at + 3]
        types.append((header >> 1) & 0x3F if hevc else header & 0x1F)
        at = data.find(b"\x00\x00\x01", at + 3)
    return types


def pes_payloads(data: bytes, pid: int | None) -> Iterator[bytes]:
    """The elementary stream of each PES of a PID, past the PES header (ISO/IEC 13818-1 2.4.3.6):
    for video an access unit each, as muxers write H.264 and HEVC; for AAC, ADTS frames."""
    current: bytearray | None = None
    for offset in range(0, len(data) - PACKET + 1, PACKET):
        packet = data[offset : offset + PACKET]
        control = (packet[3] >> 4) & 0x03
        if packet[0] != SYNC or (packet[1] & 0x1F) << 8 | packet[2] != pid or control not in (1, 3):
            continue
        payload = packet[4 + (1 + packet[4] if control == 3 else 0) :]
        if packet[1] & 0x40:
            if current is not None:
                yield elementary(bytes(current))
            current = bytearray(payload)
        elif current is not None:
            current += payload
    if current is not None:
        yield elementary(bytes(current))


def elementary(pes: bytes) -> bytes:
    return pes[9 + pes[8] :] if len(pes) > 9 and pes[:3] == b"\x00\x00\x01" else b""


def pes_pts(payload: bytes) -> int | None:
    if len(payload) < 14 or payload[:3] != b"\x00\x00\x01" or not payload[7] & 0x80:
        return None
    p = payload[9:14]
    return ((p[0] >> 1) & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1


def read(data: bytes, initialization: bytes = b"") -> Segment:
    """Walk every packet; malformed packets end the walk (the size/sync checks report them).
    The program tables come from `initialization` (an EXT-X-MAP's) when there is one."""
    segment = Segment()
    (
        segment.pmt_pid,
        segment.programs,
        segment.video_pid,
        segment.video_type,
        segment.audio_pid,
    ) = program(initialization or data)
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


def program(
    data: bytes,
) -> tuple[int | None, int, int | None, int | None, int | None]:
    """The PMT PID and program count from the first PAT, then the video PID and stream type
    and the audio PID from that PMT."""
    sections = list(section_starts(data))
    pat = next((body for pid, body in sections if pid == PAT_PID), b"")
    pmt_pid, programs = pat_programs(pat)
    pmt = next((body for pid, body in sections if pid == pmt_pid), None)
    if pmt is None:
        return pmt_pid, programs, None, None, None
    return pmt_pid, programs, *pmt_streams(pmt)


def section_starts(data: bytes) -> Iterator[tuple[int, bytes]]:
    """PID and payload of every packet that starts a payload unit."""
    for offset in range(0, len(data) - PACKET + 1, PACKET):
        packet = data[offset : offset + PACKET]
        if packet[0] == SYNC and packet[1] & 0x40:
            body = 4 + (1 + packet[4] if (packet[3] >> 4) & 0x02 else 0)
            yield (packet[1] & 0x1F) << 8 | packet[2], packet[body:]


def pat_programs(payload: bytes) -> tuple[int | None, int]:
    """The first program's map PID and the number of programs (program 0 is the network
    information table, not a program: ISO/IEC 13818-1 2.4.4.3)."""
    table = payload[1 + payload[0] :] if payload else b""
    if len(table) < 12:
        return None, 0
    section_end = min(3 + ((table[1] & 0x0F) << 8 | table[2]) - 4, len(table))
    maps = [
        (table[at] << 8 | table[at + 1], (table[at + 2] & 0x1F) << 8 | table[at + 3])
        for at in range(8, section_end - 3, 4)
    ]
    programs = [pid for number, pid in maps if number != 0]
    return (programs[0] if programs else None), len(programs)


def pmt_streams(payload: bytes) -> tuple[int | None, int | None, int | None]:
    """The video PID and its stream type, and the audio PID."""
    table = payload[1 + payload[0] :] if payload else b""
    if len(table) < 12:
        return None, None, None
    section_end = 3 + ((table[1] & 0x0F) << 8 | table[2]) - 4  # without the CRC
    at = 12 + ((table[10] & 0x0F) << 8 | table[11])
    video = video_type = audio = None
    while at + 5 <= min(section_end, len(table)):
        kind, pid = table[at], (table[at + 1] & 0x1F) << 8 | table[at + 2]
        if kind in (H264, HEVC) and video is None:
            video, video_type = pid, kind
        elif kind == AAC:
            audio = pid
        at += 5 + ((table[at + 3] & 0x0F) << 8 | table[at + 4])
    return video, video_type, audio


def check_segment(
    data: bytes, extinf: float, tolerance: float = 0.1, initialization: bytes = b""
) -> tuple[list[Check], Segment]:
    """Every rule on one segment; `initialization` is the EXT-X-MAP's PAT and PMT, if any."""
    segment = read(data, initialization)
    tables = read(initialization) if initialization else segment
    pids = tables.pids_in_order
    first_pat = pids.index(PAT_PID) if PAT_PID in pids else len(pids)
    duration = segment.duration
    holes = segment.holes
    checks = [
        WHOLE_PACKETS.check(len(data) % PACKET == 0 and len(data) > 0, f"{len(data)} bytes"),
        SYNC_BYTES.check(
            segment.packets == len(data) // PACKET,
            f"{segment.packets} of {len(data) // PACKET} packets in sync",
        ),
        PAT_AND_PMT.check(
            segment.pmt_pid is not None and segment.pmt_pid in pids,
            f"PMT PID {segment.pmt_pid} (from the PAT); PIDs {sorted(set(pids))}"
            + (" in the EXT-X-MAP" if initialization else ""),
        ),
        PMT_AFTER_PAT.check(
            segment.pmt_pid is not None and segment.pmt_pid in pids[first_pat + 1 :],
            f"first PAT at packet {first_pat}; PMT PID {segment.pmt_pid} at packets"
            f" {[i for i, pid in enumerate(pids) if pid == segment.pmt_pid][:3]}",
        ),
        ONE_PROGRAM.check(segment.programs <= 1, f"{segment.programs} programs in the PAT"),
        NO_HOLE.check(
            not holes,
            f"frames missing between {[(round(a, 3), round(b, 3)) for a, b in holes[:3]]} s"
            if holes
            else f"{len(set(segment.video_pts))} frames",
        ),
        CONTINUITY.check(not segment.continuity_gaps, f"{segment.continuity_gaps[:3]}"),
        KEYFRAME_FIRST.check(
            segment.starts_with_idr,
            f"first video NAL types "
            f"{nal_types(segment.first_video_payload, hevc=segment.video_type == HEVC)[:6]}"
            + (" (HEVC)" if segment.video_type == HEVC else ""),
        ),
        DURATION_MATCHES.check(
            duration is not None and abs(duration - extinf) <= tolerance,
            f"PTS span {duration if duration is None else round(duration, 3)} s, EXTINF {extinf} s",
        ),
    ]
    if not initialization:
        first_two = pids[:2]
        checks.append(
            PAT_PMT_FIRST.check(
                first_two[:1] == [PAT_PID] and first_two[1:] == [segment.pmt_pid],
                f"first PIDs {first_two}, PMT PID {segment.pmt_pid}",
            )
        )
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
