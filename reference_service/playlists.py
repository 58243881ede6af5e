"""HLS playlists as viewers get them: nginx-rtmp's, with the discontinuity sequence it omits.

nginx-rtmp writes EXT-X-DISCONTINUITY before the first fragment of every publish, but never
EXT-X-DISCONTINUITY-SEQUENCE. When that fragment leaves the window, the fragments after it change
their Discontinuity Sequence Number, which RFC 8216 6.2.2 forbids: the server MUST raise
EXT-X-DISCONTINUITY-SEQUENCE by one for each EXT-X-DISCONTINUITY it removes.

So every media sequence number that ever carried a discontinuity is recorded in a file beside
the playlist (`discontinuities`, one number a line), and the playlist is served with
EXT-X-DISCONTINUITY-SEQUENCE set to how many of them have left the window. The record is kept
each time the playlist is read: when a viewer asks for it, and on every on_update of its
publisher (every 2 s, while a fragment stays in the window for the playlist length, 4 s on the
embedded stack). It lives with the stream's HLS directory and goes when that goes.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

PLAYLIST = "index.m3u8"
RECORD = "discontinuities"
MEDIA_SEQUENCE = "#EXT-X-MEDIA-SEQUENCE:"
# The ladder's renditions, {stream_id}_{name}, and its multivariant playlist (ladder.py), under
# a directory of their own: nginx-rtmp refuses one path for two applications' HLS.
LADDER = "ladder"


def discontinuous(text: str) -> tuple[int, set[int]]:
    """The playlist's media sequence number, and those of its segments after an
    EXT-X-DISCONTINUITY (RFC 8216 4.3.2.3)."""
    first, found, number, pending = 0, set(), None, False
    for line in (line.strip() for line in text.splitlines()):
        if line.startswith(MEDIA_SEQUENCE) and line[len(MEDIA_SEQUENCE) :].isdigit():
            first = int(line[len(MEDIA_SEQUENCE) :])
        elif line == "#EXT-X-DISCONTINUITY":
            pending = True
        elif line and not line.startswith("#"):
            number = first if number is None else number + 1
            if pending:
                found.add(number)
            pending = False
    return first, found


def recorded(directory: Path) -> set[int]:
    try:
        text = (directory / RECORD).read_text()
    except FileNotFoundError:
        return set()
    return {int(line) for line in text.split() if line.isdigit()}


def record(directory: Path, numbers: set[int]) -> None:
    """Written whole and renamed into place: a reader never sees half a record."""
    temporary = directory / f".{RECORD}.{os.getpid()}"
    temporary.write_text("".join(f"{n}\n" for n in sorted(numbers)))
    temporary.replace(directory / RECORD)


def observe(directory: Path) -> str | None:
    """Read the stream's playlist, record its discontinuities, and return it as served, or
    None when there is none (not live yet, or cleaned up)."""
    try:
        text = (directory / PLAYLIST).read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None
    first, seen = discontinuous(text)
    known = recorded(directory)
    if not seen <= known:
        known |= seen
        record(directory, known)
    return with_sequence(text, sum(1 for n in known if n < first))


def renditions(hls_dir: Path, stream_id: uuid.UUID) -> list[Path]:
    """The directories of a stream's renditions (contract: ladder)."""
    return sorted((hls_dir / LADDER).glob(f"{stream_id}_*"))


def keep_media_of(hls_dir: Path, stream_id: uuid.UUID) -> None:
    """Mark an interrupted stream's playlist and the segments it lists as just written, so the
    ingest's cleanup (which removes what was not written for a while) leaves them to its
    viewers until the publisher is back or the stream ends: the source's, every rendition's,
    and the ladder's multivariant playlist."""
    with contextlib.suppress(FileNotFoundError):
        os.utime(hls_dir / LADDER / f"{stream_id}.m3u8")
    for directory in [hls_dir / str(stream_id), *renditions(hls_dir, stream_id)]:
        keep_listed(directory)


def keep_listed(directory: Path) -> None:
    try:
        text = (directory / PLAYLIST).read_text()
    except (FileNotFoundError, NotADirectoryError):
        return
    listed = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    for name in [PLAYLIST, *listed]:
        path = directory / name
        # Only plain names in the stream's own directory: nothing a playlist says reaches out.
        if path.parent == directory:
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)


def with_sequence(text: str, sequence: int) -> str:
    """The playlist with EXT-X-DISCONTINUITY-SEQUENCE after EXT-X-MEDIA-SEQUENCE: before the
    first segment and any EXT-X-DISCONTINUITY, as 4.3.3.3 requires."""
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith(MEDIA_SEQUENCE)), None)
    if at is None:
        return text
    lines.insert(at + 1, f"#EXT-X-DISCONTINUITY-SEQUENCE:{sequence}\n")
    return "".join(lines)
