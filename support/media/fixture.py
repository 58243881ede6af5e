"""The media a broadcaster publishes: a short H.264 + AAC clip made with ffmpeg, looped.

H.264 Constrained Baseline, yuv420p (browsers play it), 320x240 at 25 fps with a keyframe every
second (1 s HLS fragments cut cleanly), AAC LC mono 44.1 kHz; 3 s, about 90 KB. Made once per
machine and cached; looping keeps each track's timestamps increasing, so a stream lasts as long
as a scenario needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from support.media import amf0
from support.media.flv import SCRIPT, FlvTag, read_tags

FRAME_RATE = 25
SECONDS = 3
FFMPEG_ARGS = [
    "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
    "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FRAME_RATE}:duration={SECONDS}",
    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={SECONDS}",
    "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-preset", "veryfast",
    "-g", str(FRAME_RATE), "-keyint_min", str(FRAME_RATE), "-sc_threshold", "0", "-b:v", "300k",
    "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-shortest", "-f", "flv",
]  # fmt: skip
CACHE = Path(os.environ.get("NOVA_STACK_ROOT", "/tmp/nova-acceptance")) / "media"  # noqa: S108


class FixtureError(RuntimeError):
    """The media fixture could not be made."""


def fixture_path() -> Path:
    path = CACHE / f"testsrc-{SECONDS}s-{FRAME_RATE}fps-v1.flv"
    if path.exists():
        return path
    if shutil.which("ffmpeg") is None:
        raise FixtureError("ffmpeg is needed to make the media fixture; install the ffmpeg package")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    result = subprocess.run(
        ["ffmpeg", *FFMPEG_ARGS, str(partial)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise FixtureError(
            f"ffmpeg could not make the fixture (code {result.returncode}): {result.stderr}"
        )
    partial.rename(path)
    return path


@dataclass(frozen=True)
class Clip:
    """The fixture split the way a publisher sends it."""

    metadata: dict[str, Any]
    headers: tuple[FlvTag, ...]
    frames: tuple[FlvTag, ...]

    @property
    def period_ms(self) -> int:
        """How far each loop shifts timestamps: the video's length, 40 ms a frame."""
        return self.video_frames * 1000 // FRAME_RATE

    @property
    def video_frames(self) -> int:
        return sum(tag.is_video_frame for tag in self.frames)


@cache
def clip() -> Clip:
    metadata: dict[str, Any] = {}
    headers, frames = [], []
    for tag in read_tags(fixture_path().read_bytes()):
        if tag.kind == SCRIPT:
            values = amf0.decode(tag.data)
            if values and values[0] == "onMetaData" and isinstance(values[1], amf0.EcmaArray):
                metadata = values[1].items
        elif tag.is_sequence_header:
            headers.append(tag)
        elif not tag.is_end_of_sequence:
            frames.append(tag)
    return Clip(metadata, tuple(headers), tuple(frames))


def looped(source: Clip, seconds: float | None = None) -> Iterator[FlvTag]:
    """The clip's frames again and again, for `seconds` of media (None: for ever)."""
    limit = None if seconds is None else int(seconds * 1000)
    period = source.period_ms  # counted once: it walks every frame of the clip
    loop = 0
    while True:
        shift = loop * period
        for tag in source.frames:
            if tag.timestamp >= period:
                continue  # audio past the video's end would overlap the next loop
            timestamp = tag.timestamp + shift
            if limit is not None and timestamp >= limit:
                return
            yield FlvTag(tag.kind, timestamp, tag.data)
        loop += 1
