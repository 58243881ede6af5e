"""Rules across reloads of a live playlist, polled as a player polls it (RFC 8216 6.2.1, 6.3.4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from support.hls.playlist import Check, Playlist

STALL_FACTOR = 1.5


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
        return Check(
            "a new segment about every target duration",
            quiet - resolution <= STALL_FACTOR * target,
            f"unchanged for {quiet:.2f} s, seen every {resolution:.2f} s (target {target} s)",
        )


def compare(before: Playlist, after: Playlist) -> list[Check]:
    checks = [
        Check(
            "media sequence never decreases",
            after.media_sequence >= before.media_sequence,
            f"{before.media_sequence} -> {after.media_sequence}",
        )
    ]
    old = {s.sequence: s for s in before.segments}
    new = {s.sequence: s for s in after.segments}
    removed = [n for n in old if n < after.media_sequence]
    checks.append(
        Check(
            "media sequence grows by the segments removed from the front",
            after.media_sequence - before.media_sequence == len(removed),
            f"grew by {after.media_sequence - before.media_sequence}, {len(removed)} removed",
        )
    )
    changed = [(n, old[n], new[n]) for n in old.keys() & new.keys() if old[n] != new[n]]
    checks.append(
        Check(
            "a sequence number keeps its URI and duration",
            not changed,
            f"changed: {[(n, (a.uri, a.duration), (b.uri, b.duration)) for n, a, b in changed]}",
        )
    )
    kept = [n for n in sorted(old) if n in new]
    expected_kept = [n for n in sorted(old) if n >= after.media_sequence]
    appended = [n for n in sorted(new) if n not in old]
    checks.append(
        Check(
            "only appends at the end and removals from the front",
            kept == expected_kept and all(n > max(old, default=-1) for n in appended),
            f"kept {kept}, appended {appended}",
        )
    )
    if before.target_duration != after.target_duration:
        checks.append(
            Check(
                "EXT-X-TARGETDURATION does not change",
                False,
                f"{before.target_duration} -> {after.target_duration} (nginx-rtmp recomputes it)",
                warning=True,
            )
        )
    return checks
