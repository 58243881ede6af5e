"""Fragmented MPEG-4 (fMP4 / CMAF) segments of HLS, judged by RFC 8216 3.3 and ISO/IEC 14496-12.

An initialization section (EXT-X-MAP) holds 'ftyp' and 'moov' and no samples; each segment holds
one or more 'moof' + 'mdat' pairs (after optional 'styp', 'sidx', 'prft', 'emsg'). Pure functions
over bytes; every rule carries its source and keyword (support.core.verdict).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from support.core.verdict import MUST, Check, Rule
from support.media.segments import DURATION_MATCHES, KEYFRAME_FIRST, TIMELINE

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts"}
NON_SYNC = 0x00010000  # sample_is_non_sync_sample in the sample flags (14496-12 8.8.3.1)
ISO6_OR_LATER = {b"iso6", b"iso7", b"iso8", b"iso9", b"cmfc", b"cmf2"}

INIT_FTYP = Rule(
    "the initialization section starts with 'ftyp' of a brand iso6 or later", MUST, "RFC 8216 3.3"
)
INIT_MOOV = Rule("'moov' follows 'ftyp'", MUST, "RFC 8216 3.3")
INIT_MVEX = Rule("'moov' carries 'mvex' (fragments follow)", MUST, "RFC 8216 3.3")
INIT_NO_SAMPLES = Rule("the initialization section holds no samples", MUST, "RFC 8216 3.3")
MOOF_MDAT = Rule("every 'moof' is followed by its 'mdat'", MUST, "RFC 8216 3.3")
TFDT_PRESENT = Rule("every 'traf' carries a 'tfdt'", MUST, "RFC 8216 3.3")
RELATIVE_ADDRESSING = Rule(
    "movie-fragment relative addressing (no base-data-offset)", MUST, "RFC 8216 3.3"
)
KNOWN_TRACKS = Rule("every 'traf' has a 'trak' in 'moov'", MUST, "RFC 8216 3.3")
WELL_FORMED = Rule("well-formed ISO BMFF boxes", MUST, "ISO/IEC 14496-12 4.2")
SEQUENCE_GROWS = Rule("fragment sequence numbers increase", MUST, "ISO/IEC 14496-12 8.8.5")


def looks_like_iso_bmff(data: bytes) -> bool:
    return data[4:8] in (b"ftyp", b"styp", b"moof", b"sidx", b"moov")


class BoxError(ValueError):
    """Bytes that cannot be ISO BMFF boxes; says which box and where."""


@dataclass(frozen=True)
class Box:
    kind: bytes
    offset: int
    payload: bytes
    children: tuple[Box, ...] = ()

    def find(self, *path: bytes) -> list[Box]:
        found = [self]
        for kind in path:
            found = [child for box in found for child in box.children if child.kind == kind]
        return found


def boxes(data: bytes, base: int = 0) -> Iterator[Box]:
    at = 0
    while at < len(data):
        if len(data) - at < 8:
            raise BoxError(f"{len(data) - at} stray bytes at offset {base + at}")
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1:
            if len(data) - at < 16:
                raise BoxError(f"box {kind!r} at offset {base + at} cut in its large size")
            (size,) = struct.unpack(">Q", data[at + 8 : at + 16])
            header = 16
        elif size == 0:
            size = len(data) - at
        if size < header or at + size > len(data):
            raise BoxError(
                f"box {kind!r} at offset {base + at} claims {size} bytes; {len(data) - at} remain"
            )
        payload = data[at + header : at + size]
        children = tuple(boxes(payload, base + at + header)) if kind in CONTAINERS else ()
        yield Box(kind, base + at, payload, children)
        at += size


def full_box(payload: bytes) -> tuple[int, int, bytes]:
    """Version, flags and the rest of a FullBox."""
    if len(payload) < 4:
        raise BoxError(f"a full box of {len(payload)} bytes")
    return payload[0], int.from_bytes(payload[1:4], "big"), payload[4:]


@dataclass(frozen=True)
class Track:
    track_id: int
    handler: bytes  # b"vide", b"soun"
    timescale: int
    default_duration: int = 0
    default_flags: int = 0


@dataclass
class Init:
    """What a segment needs from its initialization section."""

    checks: list[Check] = field(default_factory=list)
    tracks: dict[int, Track] = field(default_factory=dict)


@dataclass
class Fragmented:
    """What the fragments of one segment say, per track: decode start, duration, first flags."""

    sequence_numbers: list[int] = field(default_factory=list)
    starts: dict[int, int] = field(default_factory=dict)  # track -> first tfdt
    durations: dict[int, int] = field(default_factory=dict)  # track -> sum of sample durations
    first_sample_sync: dict[int, bool] = field(default_factory=dict)
    init: Init = field(default_factory=Init, repr=False)  # the section the fragments refer to

    def follows(self, before: Fragmented) -> list[Check]:
        return check_continuity(before, self, self.init)


def read_init(data: bytes) -> Init:
    init = Init()
    try:
        walk_init(data, init)
    except (BoxError, IndexError, struct.error) as error:
        init.checks.append(WELL_FORMED.check(False, f"initialization section: {error!r}"))
    return init


def walk_init(data: bytes, init: Init) -> None:
    top = list(boxes(data))
    kinds = [box.kind.decode(errors="replace") for box in top]
    ftyp = top[0] if top and top[0].kind == b"ftyp" else None
    brands = (
        {ftyp.payload[:4]} | {ftyp.payload[i : i + 4] for i in range(8, len(ftyp.payload), 4)}
        if ftyp
        else set()
    )
    init.checks.append(
        INIT_FTYP.check(
            ftyp is not None and bool(brands & ISO6_OR_LATER),
            f"boxes {kinds}; brands {sorted(b.decode(errors='replace') for b in brands)}",
        )
    )
    moov = top[1] if len(top) > 1 and top[1].kind == b"moov" else None
    init.checks.append(INIT_MOOV.check(moov is not None, f"boxes {kinds}"))
    if moov is None:
        return
    init.checks.append(
        INIT_MVEX.check(
            bool(moov.find(b"mvex")), "no 'mvex'" if not moov.find(b"mvex") else "'mvex' present"
        )
    )
    defaults = {}
    for trex in moov.find(b"mvex", b"trex"):
        _, _, body = full_box(trex.payload)
        track_id, _, duration, _, flags = struct.unpack(">IIIII", body[:20])
        defaults[track_id] = (duration, flags)
    samples = 0
    for trak in moov.find(b"trak"):
        _, _, tkhd = full_box(trak.find(b"tkhd")[0].payload)
        version = trak.find(b"tkhd")[0].payload[0]
        track_id = struct.unpack(">I", tkhd[16:20] if version == 1 else tkhd[8:12])[0]
        mdhd_version, _, mdhd = full_box(trak.find(b"mdia", b"mdhd")[0].payload)
        timescale = struct.unpack(">I", mdhd[16:20] if mdhd_version == 1 else mdhd[8:12])[0]
        _, _, hdlr = full_box(trak.find(b"mdia", b"hdlr")[0].payload)
        duration, flags = defaults.get(track_id, (0, 0))
        init.tracks[track_id] = Track(track_id, hdlr[4:8], timescale, duration, flags)
        for stsz in trak.find(b"mdia", b"minf", b"stbl", b"stsz"):
            _, _, body = full_box(stsz.payload)
            samples += struct.unpack(">I", body[4:8])[0]
    init.checks.append(INIT_NO_SAMPLES.check(samples == 0, f"{samples} samples in 'stsz'"))


def read_fragments(data: bytes, init: Init) -> tuple[list[Check], Fragmented]:
    """The structure rules of one segment, and its timeline per track."""
    found = Fragmented(init=init)
    try:
        return walk_fragments(data, init, found), found
    except (BoxError, IndexError, struct.error) as error:
        return [WELL_FORMED.check(False, f"segment: {error!r}")], found


def walk_fragments(data: bytes, init: Init, found: Fragmented) -> list[Check]:
    top = list(boxes(data))
    kinds = [box.kind for box in top]
    unpaired = [
        i for i, kind in enumerate(kinds)
        if kind == b"moof" and (i + 1 >= len(kinds) or kinds[i + 1] != b"mdat")
    ]  # fmt: skip
    checks = [
        MOOF_MDAT.check(
            b"moof" in kinds and not unpaired,
            f"boxes {[k.decode(errors='replace') for k in kinds]}",
        )
    ]
    missing_tfdt, absolute, unknown = 0, 0, set()
    for moof in (box for box in top if box.kind == b"moof"):
        for mfhd in moof.find(b"mfhd"):
            found.sequence_numbers.append(struct.unpack(">I", full_box(mfhd.payload)[2][:4])[0])
        for traf in moof.find(b"traf"):
            _, tfhd_flags, tfhd = full_box(traf.find(b"tfhd")[0].payload)
            track_id = struct.unpack(">I", tfhd[:4])[0]
            track = init.tracks.get(track_id)
            if track is None:
                unknown.add(track_id)
                track = Track(track_id, b"", 1)
            absolute += bool(tfhd_flags & 0x01)
            default_duration, default_flags = tfhd_defaults(tfhd_flags, tfhd[4:], track)
            tfdts = traf.find(b"tfdt")
            if not tfdts:
                missing_tfdt += 1
            else:
                version, _, body = full_box(tfdts[0].payload)
                start = struct.unpack(">Q" if version == 1 else ">I", body[: 8 if version else 4])[
                    0
                ]
                found.starts.setdefault(track_id, start)
            for trun in traf.find(b"trun"):
                durations, first_flags = read_trun(trun.payload, default_duration, default_flags)
                found.durations[track_id] = found.durations.get(track_id, 0) + sum(durations)
                if first_flags is not None:
                    found.first_sample_sync.setdefault(track_id, not first_flags & NON_SYNC)
    numbers = found.sequence_numbers
    checks += [
        TFDT_PRESENT.check(missing_tfdt == 0, f"{missing_tfdt} 'traf' without 'tfdt'"),
        RELATIVE_ADDRESSING.check(absolute == 0, f"{absolute} 'tfhd' with base-data-offset"),
        KNOWN_TRACKS.check(not unknown, f"track ids without a 'trak': {sorted(unknown)}"),
        SEQUENCE_GROWS.check(
            all(b > a for a, b in pairwise(numbers)),
            f"mfhd sequence numbers {numbers}",
        ),
    ]
    return checks


def tfhd_defaults(flags: int, rest: bytes, track: Track) -> tuple[int, int]:
    at = 8 if flags & 0x01 else 0
    at += 4 if flags & 0x02 else 0
    duration, sample_flags = track.default_duration, track.default_flags
    if flags & 0x08:
        duration = struct.unpack(">I", rest[at : at + 4])[0]
        at += 4
    at += 4 if flags & 0x10 else 0
    if flags & 0x20:
        sample_flags = struct.unpack(">I", rest[at : at + 4])[0]
    return duration, sample_flags


def read_trun(
    payload: bytes, default_duration: int, default_flags: int
) -> tuple[list[int], int | None]:
    """Sample durations of a track run, and the flags of its first sample."""
    _, flags, body = full_box(payload)
    (count,) = struct.unpack(">I", body[:4])
    at = 4 + (4 if flags & 0x001 else 0)
    first_flags = None
    if flags & 0x004:
        (first_flags,) = struct.unpack(">I", body[at : at + 4])
        at += 4
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    durations = []
    for index in range(count):
        values = dict(
            zip(
                fields,
                struct.unpack(f">{len(fields)}I", body[at : at + 4 * len(fields)]),
                strict=True,
            )
        )
        at += 4 * len(fields)
        durations.append(values.get(0x100, default_duration))
        if index == 0 and first_flags is None:
            first_flags = values.get(0x400, default_flags)
    return durations, first_flags


def video_track(init: Init) -> Track | None:
    return next((t for t in init.tracks.values() if t.handler == b"vide"), None)


def check_segment(
    data: bytes, init: Init, extinf: float, tolerance: float = 0.1
) -> tuple[list[Check], Fragmented]:
    checks, found = read_fragments(data, init)
    video = video_track(init)
    if video is None or video.track_id not in found.starts:
        return checks, found
    duration = found.durations.get(video.track_id, 0) / video.timescale
    checks += [
        KEYFRAME_FIRST.check(
            found.first_sample_sync.get(video.track_id, False),
            "the first video sample is "
            + (
                "a sync sample"
                if found.first_sample_sync.get(video.track_id)
                else "not a sync sample"
            ),
        ),
        DURATION_MATCHES.check(
            abs(duration - extinf) <= tolerance,
            f"video samples last {duration:.3f} s, EXTINF {extinf} s",
        ),
    ]
    return checks, found


def check_continuity(before: Fragmented, after: Fragmented, init: Init) -> list[Check]:
    """Per track, the next segment's tfdt is where the previous one's samples ended."""
    checks = []
    for track_id in sorted(before.starts.keys() & after.starts.keys()):
        track = init.tracks.get(track_id)
        scale = track.timescale if track else 1
        expected = before.starts[track_id] + before.durations.get(track_id, 0)
        gap = (after.starts[track_id] - expected) / scale
        slack = (track.default_duration / scale) if track and track.default_duration else 0.05
        checks.append(
            TIMELINE.check(
                abs(gap) <= max(slack, 0.05),
                f"track {track_id}: tfdt {after.starts[track_id]} where the previous segment "
                f"ended at {expected} ({gap * 1000:+.1f} ms)",
            )
        )
    if before.sequence_numbers and after.sequence_numbers:
        checks.append(
            SEQUENCE_GROWS.check(
                after.sequence_numbers[0] > before.sequence_numbers[-1],
                f"{before.sequence_numbers[-1]} then {after.sequence_numbers[0]}",
            )
        )
    return checks
