"""The ladder's multivariant playlist as viewers get it (contract: ladder).

nginx-rtmp's hls_variant writes `ladder/{id}.m3u8` listing every rendition the configuration
names, with the attributes typed there (a nominal BANDWIDTH, RESOLUTION, FRAME-RATE) and
PROGRAM-ID, which RFC 8216 7 removed. It cannot know the bit rates, nor the source's codecs and
size. So the playlist is served with, for each rendition whose media playlist exists:

- BANDWIDTH, the peak segment bit rate, and AVERAGE-BANDWIDTH, the average one (RFC 8216 4.1,
  4.3.4.2), over every segment the rendition has listed in the stream's life (a record beside
  its playlist, `bitrates`, kept each time the playlist is served). A live stream's peak is
  still to come, so BANDWIDTH is never under the nominal one: a stream's first seconds
  measured 262 kbit/s at 180p, and a segment two seconds later 292;
- CODECS from the first segment's bitstream (RFC 6381: avc1 from the SPS, mp4a from the ADTS
  header), and RESOLUTION and FRAME-RATE where the configuration does not give them, from the
  SPS and the frame timestamps.

A rendition not written yet is left out, so every variant listed is served.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from reference_service import playlists

DIRECTORY = playlists.LADDER
RECORD = "bitrates"
RENDITION = re.compile(r"^[0-9a-f-]{36}_[a-z0-9]{1,16}$")
STREAM_INF = "#EXT-X-STREAM-INF:"
H264, AAC = 0x1B, 0x0F  # MPEG-TS stream types (ISO/IEC 13818-1 2.4.4.9)


@dataclass(frozen=True)
class Bitrates:
    last: int  # the newest media sequence number counted
    peak: float
    bits: int
    seconds: float

    @property
    def average(self) -> float:
        return self.bits / self.seconds if self.seconds else 0.0


def listed(text: str) -> list[tuple[int, float, str]]:
    """(media sequence number, EXTINF duration, URI) of every segment a media playlist lists."""
    first, _ = playlists.discontinuous(text)
    found: list[tuple[int, float, str]] = []
    duration: float | None = None
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith("#EXTINF:"):
            with contextlib.suppress(ValueError):
                duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            found.append((first + len(found), duration, line))
            duration = None
    return found


def bitrates(directory: Path) -> Bitrates | None:
    """The rendition's bit rates over its life: the record, with the segments listed since."""
    try:
        text = (directory / playlists.PLAYLIST).read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None
    known = read_record(directory)
    last, peak, bits, seconds = known or (-1, 0.0, 0, 0.0)
    changed = False
    for sequence, duration, uri in listed(text):
        path = directory / uri
        if sequence <= last or path.parent != directory or duration <= 0:
            continue
        try:
            size = path.stat().st_size * 8
        except FileNotFoundError:
            continue
        last, peak = sequence, max(peak, size / duration)
        bits, seconds, changed = bits + size, seconds + duration, True
    if changed:
        temporary = directory / f".{RECORD}.{os.getpid()}"
        temporary.write_text(f"{last} {peak:.0f} {bits} {seconds:.3f}\n")
        temporary.replace(directory / RECORD)
    if not seconds:
        return None
    return Bitrates(last, peak, bits, seconds)


def read_record(directory: Path) -> tuple[int, float, int, float] | None:
    try:
        last, peak, bits, seconds = (directory / RECORD).read_text().split()
        return int(last), float(peak), int(bits), float(seconds)
    except (FileNotFoundError, ValueError):
        return None


def first_segment(directory: Path) -> bytes:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        entries = listed((directory / playlists.PLAYLIST).read_text())
        for _, _, uri in entries[:1]:
            if (directory / uri).parent == directory:
                return (directory / uri).read_bytes()
    return b""


def served(hls_dir: Path, stream_id: str) -> str | None:
    """The stream's multivariant playlist as served, or None when there is none."""
    try:
        text = (hls_dir / f"{stream_id}.m3u8").read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None
    out, pending = [], None
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith(STREAM_INF):
            pending = line
        elif line and not line.startswith("#") and pending is not None:
            variant = described(hls_dir, pending, line)
            if variant:
                out += variant
            pending = None
        elif line:
            out.append(line)
    return "\n".join(out) + "\n" if any(o.startswith(STREAM_INF) for o in out) else None


def described(hls_dir: Path, stream_inf: str, uri: str) -> list[str]:
    """One variant's EXT-X-STREAM-INF and URI, with what its segments measure; none for a
    rendition that is not written yet."""
    directory = (hls_dir / uri).parent
    if directory.parent != hls_dir or not RENDITION.match(directory.name):
        return []
    rates = bitrates(directory)
    if rates is None:
        return []
    given = dict(attribute.split("=", 1) for attribute in split(stream_inf[len(STREAM_INF) :]))
    nominal = given.pop("BANDWIDTH", "0")
    for measured in ("PROGRAM-ID", "AVERAGE-BANDWIDTH", "CODECS"):
        given.pop(measured, None)
    found = media_facts(first_segment(directory))
    attributes = {
        "BANDWIDTH": str(max(round(rates.peak), int(nominal) if nominal.isdigit() else 0)),
        "AVERAGE-BANDWIDTH": str(round(rates.average)),
        **({"CODECS": f'"{",".join(found.codecs)}"'} if found.codecs else {}),
        **({"RESOLUTION": found.resolution} if found.resolution else {}),
        **({"FRAME-RATE": found.frame_rate} if found.frame_rate else {}),
        **given,
    }
    return [STREAM_INF + ",".join(f"{k}={v}" for k, v in attributes.items()), uri]


def split(attributes: str) -> list[str]:
    """An attribute list's NAME=VALUE items (RFC 8216 4.2), commas inside quotes kept."""
    return list(re.findall(r'[A-Z0-9-]+=(?:"[^"]*"|[^,]*)', attributes))


# --- what a segment's bitstream is: just enough MPEG-TS and H.264 to name it ---------------


@dataclass(frozen=True)
class MediaFacts:
    codecs: tuple[str, ...] = ()
    resolution: str | None = None
    frame_rate: str | None = None


def media_facts(segment: bytes) -> MediaFacts:
    """The codecs, size and frame rate of an MPEG-TS segment's first H.264 and AAC streams."""
    video, audio, times = bytearray(), bytearray(), []
    pids: dict[int, int] = {}  # elementary PID -> stream type, from the PMT
    pmt = None
    for at in range(0, len(segment) - 187, 188):
        packet = segment[at : at + 188]
        if packet[0] != 0x47:
            break
        pid, start = ((packet[1] & 0x1F) << 8) | packet[2], bool(packet[1] & 0x40)
        body = payload(packet)
        if pid == 0 and start and len(body) > 12:
            pmt = ((body[11] & 0x1F) << 8) | body[12]  # the first program's PMT
        elif pid == pmt and start:
            pids = streams_of(body)
        elif pids.get(pid) in (H264, AAC):
            if start and len(body) > 13 and body[7] & 0x80:
                if pids[pid] == H264:
                    times.append(pts(body[9:14]))
                body = body[9 + body[8] :]
            (video if pids[pid] == H264 else audio).extend(body)
    codecs, resolution = [], None
    sps = next((nal for nal in nal_units(bytes(video)) if nal and nal[0] & 0x1F == 7), b"")
    if len(sps) >= 4:
        codecs.append(f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}")
        resolution = size_of(sps)
    if len(audio) >= 3 and audio[0] == 0xFF and audio[1] & 0xF0 == 0xF0:
        codecs.append(f"mp4a.40.{(audio[2] >> 6) + 1}")
    rate = None
    if len(times) > 2:
        span = (max(times) - min(times)) / 90000
        rate = f"{(len(times) - 1) / span:.3f}" if span > 0 else None
    return MediaFacts(tuple(codecs), resolution, rate)


def payload(packet: bytes) -> bytes:
    control = (packet[3] >> 4) & 0x3
    if not control & 0x1:
        return b""
    return packet[5 + packet[4] :] if control & 0x2 else packet[4:]


def streams_of(section: bytes) -> dict[int, int]:
    section = section[1 + section[0] :]  # past the pointer field
    end = 3 + (((section[1] & 0x0F) << 8) | section[2]) - 4
    at = 12 + (((section[10] & 0x0F) << 8) | section[11])
    found = {}
    while at + 5 <= end:
        kind, pid = section[at], ((section[at + 1] & 0x1F) << 8) | section[at + 2]
        found[pid] = kind
        at += 5 + (((section[at + 3] & 0x0F) << 8) | section[at + 4])
    return found


def pts(field: bytes) -> int:
    return (
        ((field[0] >> 1) & 0x7) << 30
        | field[1] << 22
        | (field[2] >> 1) << 15
        | field[3] << 7
        | field[4] >> 1
    )


def nal_units(annexb: bytes) -> list[bytes]:
    parts = re.split(b"\x00\x00\x01", annexb)
    return [part.rstrip(b"\x00") for part in parts[1:]]


class Bits:
    """An H.264 RBSP read bit by bit, emulation prevention removed (ISO/IEC 14496-10 7.4.1)."""

    def __init__(self, nal: bytes) -> None:
        self.data = nal.replace(b"\x00\x00\x03", b"\x00\x00")
        self.at = 0

    def bit(self) -> int:
        byte = self.data[self.at // 8] if self.at // 8 < len(self.data) else 0
        self.at += 1
        return (byte >> (7 - (self.at - 1) % 8)) & 1

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit() and zeros < 32:
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value % 2 else -(value // 2)


def size_of(sps: bytes) -> str | None:
    """WIDTHxHEIGHT from a sequence parameter set (7.3.2.1.1), or None for one with scaling
    matrices, which this reader does not walk."""
    bits = Bits(sps)
    bits.bits(8)  # the NAL header
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma = 1
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma = bits.ue()
        if chroma == 3:
            bits.bit()
        bits.ue(), bits.ue(), bits.bit()  # bit depths, qpprime_y_zero_transform_bypass
        if bits.bit():
            return None
    bits.ue()  # log2_max_frame_num_minus4
    order = bits.ue()
    if order == 0:
        bits.ue()
    elif order == 1:
        bits.bit(), bits.se(), bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue(), bits.bit()  # max_num_ref_frames, gaps_in_frame_num_value_allowed
    width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()
    bits.bit()  # direct_8x8_inference
    width, height = width_mbs * 16, height_units * 16 * (2 - frame_mbs_only)
    if bits.bit():  # frame cropping
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        unit_x = 2 if chroma in (1, 2) else 1
        unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
        width -= (left + right) * unit_x
        height -= (top + bottom) * unit_y
    return f"{width}x{height}"
