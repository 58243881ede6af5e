"""What a segment's bitstream says its codecs are, as RFC 6381 names them for a playlist's CODECS
attribute: `avc1.PPCCLL` from the H.264 sequence parameter set (profile_idc, the constraint
flags byte and level_idc, ISO/IEC 14496-10 7.3.2.1.1; ISO/IEC 14496-15 for avcC) and
`mp4a.40.N` with N the AAC audio object type (ISO/IEC 14496-3 1.6.2.1: 2 is AAC-LC), read from
ADTS headers in MPEG-TS or from the 'esds' box of an fMP4 initialization section."""

from __future__ import annotations

from support.media import sei, ts

SPS_NAL = 7


def avc(profile: int, constraints: int, level: int) -> str:
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"


def ts_codecs(data: bytes) -> set[str]:
    """The codecs of an MPEG-TS segment's video (its first SPS) and audio (its first ADTS)."""
    segment = ts.read(data)
    found = set()
    for payload in ts.pes_payloads(data, segment.video_pid):
        sps = next((u for u in sei.annexb_units(payload) if u[0] & 0x1F == SPS_NAL), None)
        if sps is not None and len(sps) >= 4:
            found.add(avc(sps[1], sps[2], sps[3]))
            break
    for payload in ts.pes_payloads(data, segment.audio_pid):
        if len(payload) >= 3 and payload[0] == 0xFF and payload[1] & 0xF0 == 0xF0:
            found.add(f"mp4a.40.{(payload[2] >> 6) + 1}")  # ADTS profile is the object type - 1
            break
    return found


def fmp4_codecs(init: bytes) -> set[str]:
    """The codecs of an fMP4 initialization section: its 'avcC' and its 'esds', found by their
    box types (each sample entry holds one)."""
    found = set()
    at = init.find(b"avcC")
    if at != -1 and len(init) >= at + 8:
        record = init[at + 4 :]  # configurationVersion, then profile, compatibility, level
        found.add(avc(record[1], record[2], record[3]))
    at = init.find(b"esds")
    if at != -1:
        object_type = aac_object_type(init[at + 8 :])  # past the type and the full box header
        if object_type is not None:
            found.add(f"mp4a.40.{object_type}")
    return found


def aac_object_type(descriptors: bytes) -> int | None:
    """The audio object type in an ES_Descriptor (ISO/IEC 14496-1 7.2.6.5): the first 5 bits of
    its DecoderSpecificInfo (tag 5), when its DecoderConfigDescriptor (tag 4) says MPEG-4 audio."""
    at, audio = 0, False
    while at + 2 <= len(descriptors):
        tag, at = descriptors[at], at + 1
        size = 0
        for _ in range(4):  # the size: 7 bits a byte, while the high bit is set
            byte, at = descriptors[at], at + 1
            size = size << 7 | byte & 0x7F
            if not byte & 0x80 or at >= len(descriptors):
                break
        if tag == 3:  # ES_Descriptor: ES_ID, flags, then its descriptors
            flags = descriptors[at + 2] if at + 2 < len(descriptors) else 0
            at += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
        elif tag == 4:  # objectTypeIndication 0x40 is MPEG-4 audio; 13 bytes before its children
            audio = at < len(descriptors) and descriptors[at] == 0x40
            at += 13
        elif tag == 5:
            return descriptors[at] >> 3 if audio and at < len(descriptors) else None
        else:
            at += size
    return None
