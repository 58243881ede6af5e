"""ffprobe's view of media: which streams it finds, whether a browser could decode them, and
how many frames actually decode. The one place the suite runs ffprobe."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from support.core.verdict import MUST, Check, Rule

DECODABLE = Rule("the segment decodes (ffprobe)", MUST, "RFC 8216 3")
PLAYABLE_VIDEO = Rule(
    "video a browser decodes: H.264 Baseline, Main or High, 8-bit 4:2:0", MUST, "contract: HLS"
)
PLAYABLE_AUDIO = Rule("audio a browser decodes: AAC-LC", MUST, "contract: HLS")
BROWSER_H264_PROFILES = ("Baseline", "Constrained Baseline", "Main", "High")
BROWSER_PIXEL_FORMATS = ("yuv420p", "yuvj420p")


def streams(data: bytes, *, count_frames: bool = False) -> list[dict[str, Any]]:
    """ffprobe's streams of these bytes (one or more segments); counting frames decodes them."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", *(["-count_frames"] if count_frames else []),
         "-show_entries",
         "stream=codec_type,codec_name,profile,pix_fmt,nb_read_frames,width,height,r_frame_rate",
         "-of", "json", "-i", "pipe:0"],
        input=data, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(
            f"ffprobe could not read the segments: {result.stderr.decode()[-300:]}"
        )
    found: list[dict[str, Any]] = json.loads(result.stdout).get("streams", [])
    return found


def check_playable(data: bytes) -> list[Check]:
    """ffprobe's view of a segment (fMP4: with its initialization section in front)."""
    try:
        found = streams(data)
    except AssertionError as error:
        return [DECODABLE.check(False, str(error))]
    video = [s for s in found if s.get("codec_type") == "video"]
    audio = [s for s in found if s.get("codec_type") == "audio"]
    return [
        DECODABLE.check(
            bool(video), f"streams {[(s.get('codec_type'), s.get('codec_name')) for s in found]}"
        ),
        PLAYABLE_VIDEO.check(
            bool(video)
            and all(
                s.get("codec_name") == "h264"
                and s.get("profile") in BROWSER_H264_PROFILES
                and s.get("pix_fmt") in BROWSER_PIXEL_FORMATS
                for s in video
            ),
            f"{[(s.get('codec_name'), s.get('profile'), s.get('pix_fmt')) for s in video]}",
        ),
        PLAYABLE_AUDIO.check(
            all(s.get("codec_name") == "aac" and s.get("profile") == "LC" for s in audio),
            f"{[(s.get('codec_name'), s.get('profile')) for s in audio]}",
        ),
    ]


def decoded_frames(data: bytes) -> tuple[int, int]:
    """Video and audio frames ffmpeg actually decodes from these bytes (one or more segments)."""
    counts = {
        s["codec_type"]: int(s.get("nb_read_frames", 0)) for s in streams(data, count_frames=True)
    }
    return counts.get("video", 0), counts.get("audio", 0)
