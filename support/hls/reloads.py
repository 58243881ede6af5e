"""Rules across reloads of a live playlist, polled as a player polls it (RFC 8216 6.2.2, 6.3.4).

Between two reloads a server may only append segments, remove them from the front with the
tags that apply only to them, raise EXT-X-MEDIA-SEQUENCE by one for each removed and
EXT-X-DISCONTINUITY-SEQUENCE by one for each EXT-X-DISCONTINUITY removed, and add EXT-X-ENDLIST
(6.2.1, 6.2.2); an EVENT playlist only appends, and a VOD one never changes (4.3.3.5).

A reload that finds none of the segments it saw before is not the server's fault: the client was
slow, and the segments it never saw are a warning, not a broken playlist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from support.core.verdict import MUST, SHOULD, Check, Rule
from support.hls.playlist import Playlist, Segment

STALL_FACTOR = 1.5

SEQUENCE_NEVER_DECREASES = Rule("EXT-X-MEDIA-SEQUENCE never decreases", MUST, "RFC 8216 6.2.2")
NUMBERS_KEPT = Rule("a segment keeps its media sequence number (no jump)", MUST, "RFC 8216 6.2.2")
SEGMENT_UNCHANGED = Rule(
    "a kept segment keeps its URI, byte range, duration and tags (EXT-X-PROGRAM-DATE-TIME,"
    " EXT-X-DISCONTINUITY, EXT-X-MAP)", MUST, "RFC 8216 6.2.1",
)  # fmt: skip
REMOVED_FROM_FRONT = Rule(
    "segments are removed in the order they appear (none from the middle)", MUST, "RFC 8216 6.2.2"
)
APPENDED_AT_END = Rule("new segments are appended at the end", MUST, "RFC 8216 6.2.1")
SEQUENCE_TAG_WHEN_REMOVING = Rule(
    "a playlist that removes segments carries EXT-X-MEDIA-SEQUENCE", MUST, "RFC 8216 6.2.2"
)
THREE_TARGETS_LEFT = Rule(
    "a live playlist keeps at least three target durations after a removal", MUST,
    "RFC 8216 6.2.2",
)  # fmt: skip
TARGET_UNCHANGED = Rule(
    "EXT-X-TARGETDURATION does not change", MUST, "RFC 8216 6.2.1 (only the changes it lists)"
)
ENDED_FINAL = Rule("nothing changes after EXT-X-ENDLIST", MUST, "RFC 8216 6.2.1")
VOD_FINAL = Rule("a VOD playlist never changes", MUST, "RFC 8216 4.3.3.5")
EVENT_KEEPS_ALL = Rule(
    "an EVENT playlist removes no segment (segments are only added)", MUST, "RFC 8216 4.3.3.5"
)
TYPE_UNCHANGED = Rule("EXT-X-PLAYLIST-TYPE does not change", MUST, "RFC 8216 6.2.1")
DISCONTINUITY_SEQUENCE_NEVER_DECREASES = Rule(
    "EXT-X-DISCONTINUITY-SEQUENCE never decreases", MUST, "RFC 8216 6.2.1, 6.2.2"
)
DISCONTINUITY_NUMBERS_KEPT = Rule(
    "a kept segment keeps its discontinuity sequence number (EXT-X-DISCONTINUITY-SEQUENCE"
    " rises by one for each EXT-X-DISCONTINUITY removed)", MUST, "RFC 8216 6.2.2",
)  # fmt: skip
DISCONTINUITY_TAG_WHEN_REMOVING = Rule(
    "a playlist with EXT-X-DISCONTINUITY that removes segments carries"
    " EXT-X-DISCONTINUITY-SEQUENCE", MUST, "RFC 8216 6.2.2",
)  # fmt: skip
NOTHING_UNSEEN = Rule(
    "reloads see every segment (the window did not slide past the client)", SHOULD,
    "RFC 8216 6.3.4",
)  # fmt: skip
KEEPS_GROWING = Rule(
    "a live playlist gets a new segment within 1.5 target durations", MUST, "contract: HLS"
)


@dataclass
class PlaylistHistory:
    """Reloads in order; `add` returns what changed between the last two and whether it may."""

    snapshots: list[tuple[float, Playlist]] = field(default_factory=list)
    last_change: float | None = None

    def add(self, at: float, playlist: Playlist) -> list[Check]:
        checks: list[Check] = []
        if self.snapshots:
            checks = compare(self.snapshots[-1][1], playlist)
            if self.snapshots[-1][1].segments != playlist.segments:
                self.last_change = at
        else:
            self.last_change = at
        self.snapshots.append((at, playlist))
        return checks

    def stall(self, now: float, resolution: float = 0.0) -> Check:
        """While live, a new segment about every target duration; 1.5 times that is a stall.

        A change is only seen at the next reload, so the quiet time seen can exceed the real
        one by up to the last reload interval (`resolution`).
        """
        latest = self.snapshots[-1][1]
        target = latest.target_duration or 1
        quiet = now - (self.last_change if self.last_change is not None else now)
        return KEEPS_GROWING.check(
            latest.ended or quiet - resolution <= STALL_FACTOR * target,
            f"unchanged for {quiet:.2f} s, seen every {resolution:.2f} s (target {target} s)"
            + (", ended" if latest.ended else ""),
        )


def compare(before: Playlist, after: Playlist) -> list[Check]:
    """What changed from one reload to the next, and whether RFC 8216 6.2.1 and 6.2.2 let it.
    A segment is known by its resource (URI and byte range): one URI may hold many segments."""
    old = {s.sequence: s for s in before.segments}
    new = {s.sequence: s for s in after.segments}
    numbered_before = {s.resource: s.sequence for s in before.segments}
    renumbered = [
        (str(s.resource), numbered_before[s.resource], s.sequence)
        for s in after.segments
        if s.resource in numbered_before and numbered_before[s.resource] != s.sequence
    ]
    changed = [
        (n, difference)
        for n in sorted(old.keys() & new.keys())
        if (difference := differences(old[n], new[n]))
    ]
    kept = {s.resource for s in after.segments}
    kept_at = [i for i, s in enumerate(before.segments) if s.resource in kept]
    missing = [  # gone, though an older one stayed
        str(s.resource)
        for i, s in enumerate(before.segments)
        if s.resource not in kept and kept_at and i > kept_at[0]
    ]
    last_before = max(old, default=before.media_sequence - 1)
    appended = sorted(n for n in new if n not in old)
    removed = [n for n in old if n < after.media_sequence]
    unseen = range(last_before + 1, min(new, default=last_before + 1))
    renumbered_discontinuities = [
        (n, old[n].discontinuity_number, new[n].discontinuity_number)
        for n in sorted(old.keys() & new.keys())
        if old[n].discontinuity_number != new[n].discontinuity_number
    ]
    checks = [
        SEQUENCE_NEVER_DECREASES.check(
            after.media_sequence >= before.media_sequence,
            f"{before.media_sequence} -> {after.media_sequence}",
        ),
        NUMBERS_KEPT.check(not renumbered, f"(segment, number before, after): {renumbered[:5]}"),
        SEGMENT_UNCHANGED.check(not changed, f"changed: {changed[:5]}"),
        REMOVED_FROM_FRONT.check(not missing, f"gone while older ones stay: {missing}"),
        APPENDED_AT_END.check(
            all(n > last_before for n in appended),
            f"appended {appended}, last before {last_before}",
        ),
        NOTHING_UNSEEN.check(
            not unseen,
            f"segments {unseen.start}..{unseen.stop - 1} came and went between two reloads"
            if unseen
            else "the windows overlap",
        ),
        TARGET_UNCHANGED.check(
            before.target_duration == after.target_duration,
            f"{before.target_duration} -> {after.target_duration}",
        ),
        DISCONTINUITY_SEQUENCE_NEVER_DECREASES.check(
            after.discontinuity_sequence >= before.discontinuity_sequence,
            f"{before.discontinuity_sequence} -> {after.discontinuity_sequence}",
        ),
        DISCONTINUITY_NUMBERS_KEPT.check(
            not renumbered_discontinuities,
            f"(media sequence, discontinuity number before, after): "
            f"{renumbered_discontinuities[:5]}",
        ),
        TYPE_UNCHANGED.check(
            before.playlist_type == after.playlist_type,
            f"{before.playlist_type} -> {after.playlist_type}",
        ),
    ]
    if removed:
        checks.append(
            SEQUENCE_TAG_WHEN_REMOVING.check(
                after.has_media_sequence_tag, f"{len(removed)} removed"
            )
        )
        if any(s.discontinuity for s in before.segments):
            checks.append(
                DISCONTINUITY_TAG_WHEN_REMOVING.check(
                    after.has_discontinuity_sequence_tag,
                    f"{len(removed)} removed from a playlist with EXT-X-DISCONTINUITY",
                )
            )
        if before.playlist_type == "EVENT":
            checks.append(EVENT_KEEPS_ALL.check(False, f"removed {sorted(removed)}"))
        if not after.ended and after.target_duration is not None:
            checks.append(
                THREE_TARGETS_LEFT.check(
                    after.duration >= 3 * after.target_duration,
                    f"{after.duration:.3f} s left, target {after.target_duration} s",
                )
            )
    if before.ended or before.playlist_type == "VOD":
        rule = ENDED_FINAL if before.ended else VOD_FINAL
        checks.append(rule.check(before.text == after.text, "the playlist changed"))
    return checks


def differences(before: Segment, after: Segment) -> str:
    """Which of a kept segment's written values changed, as `name: before -> after` (its
    discontinuity number follows from the playlist's tags: DISCONTINUITY_NUMBERS_KEPT)."""
    return ", ".join(
        f"{name}: {getattr(before, name)} -> {getattr(after, name)}"
        for name in ("uri", "byterange", "duration", "map", "discontinuity", "program_date_time")
        if getattr(before, name) != getattr(after, name)
    )


def unchanged_before_gone(polls: list[tuple[float, int, str]]) -> float:
    """Seconds a playlist was served unchanged before it answered 404, from polls of
    (time, status, text) that end with the 404: how nginx-rtmp, which never writes
    EXT-X-ENDLIST, shows a stream's end. 0 if nothing was served before."""
    served = [(at, text) for at, status, text in polls if status == 200]
    if not served or polls[-1][1] != 404:
        return 0.0
    last_change = served[0][0]
    for (_, before), (at, text) in pairwise(served):
        if text != before:
            last_change = at
    return polls[-1][0] - last_change
