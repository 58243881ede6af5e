"""Whether a live HLS stream carried on across its publisher's interruption (contract:
reconnect): as RFC 8216 requires of any live playlist (every rule the watcher checks, but the
contract's own "a new segment every 1.5 target durations", which an interrupted stream cannot
keep), the media sequence continued without a gap, and the media after the interruption is
marked as a discontinuity (4.3.2.3: its timestamps start again)."""

from __future__ import annotations

from support.hls.live import LiveReport
from support.hls.reloads import KEEPS_GROWING

AFTER = 2  # segments after the interruption: the video did carry on


def across_interruption(report: LiveReport) -> list[str]:
    problems = [str(c) for c in report.failures() if c.rule is not KEEPS_GROWING]
    numbers = sorted(report.segments)
    if not numbers:
        return [*problems, f"no segment was downloaded from {report.url}"]
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if missing:
        problems.append(f"the media sequence skipped segments {missing}")
    resumed = [n for n in numbers[1:] if report.segments[n].segment.discontinuity]
    if not resumed:
        problems.append(
            f"no segment after the first was marked EXT-X-DISCONTINUITY (segments {numbers[0]} "
            f"to {numbers[-1]}): the new publisher's media is not marked as such"
        )
    elif numbers[-1] - resumed[-1] + 1 < AFTER:
        problems.append(
            f"only {numbers[-1] - resumed[-1] + 1} segment(s) after the interruption (segment "
            f"{resumed[-1]}); the video should carry on"
        )
    return problems
