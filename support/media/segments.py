"""What every media segment must be, whatever its format (MPEG-TS or fMP4)."""

from __future__ import annotations

from typing import Any, Protocol

from support.core.verdict import MUST, SHOULD, Check, Rule

KEYFRAME_FIRST = Rule(
    "the segment starts with a keyframe (IDR)", MUST,
    "contract: HLS (RFC 8216 4.3.5.1 leaves it to EXT-X-INDEPENDENT-SEGMENTS)",
)  # fmt: skip
DURATION_MATCHES = Rule("the media lasts what EXTINF says", SHOULD, "RFC 8216 4.3.2.1")
TIMELINE = Rule(
    "timestamps run on from segment to segment (or EXT-X-DISCONTINUITY)", MUST,
    "RFC 8216 4.3.2.3",
)  # fmt: skip


class Timeline(Protocol):
    """What one segment's timestamps say, in its own format (ts.Segment, fmp4.Fragmented)."""

    def follows(self, before: Any) -> list[Check]:
        """TIMELINE (and the format's own rules): this segment runs on from `before`, a segment
        of the same format and initialization."""
        ...
