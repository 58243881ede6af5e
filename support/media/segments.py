"""What every media segment must be, whatever its format (MPEG-TS or fMP4)."""

from __future__ import annotations

from support.core.verdict import MUST, SHOULD, Rule

KEYFRAME_FIRST = Rule(
    "the segment starts with a keyframe (IDR)", MUST,
    "contract: HLS (RFC 8216 4.3.5.1 leaves it to EXT-X-INDEPENDENT-SEGMENTS)",
)  # fmt: skip
DURATION_MATCHES = Rule("the media lasts what EXTINF says", SHOULD, "RFC 8216 4.3.2.1")
TIMELINE = Rule(
    "timestamps run on from segment to segment (or EXT-X-DISCONTINUITY)", MUST,
    "RFC 8216 4.3.2.3",
)  # fmt: skip
