"""Benchmark: what a rendition ladder costs per live stream on this machine, and whether the
ladder such a transcoder makes passes the multivariant checker.

    .venv/bin/python bench/ladder.py [--seconds 30]

ffmpeg reads the suite's media fixture in real time (-re, looped: one broadcaster) and makes a
three-rung ladder with 1 s segments, as a platform's transcoder would: the source copied
(320x240, 25 fps), 240x180 at 200 kbit/s and 160x120 at 100 kbit/s, both at 25 fps with their
keyframes where the source has them (one a second), into one multivariant HLS ladder
(MPEG-TS). Prints the CPU it took (user and system seconds over wall seconds: 100 % is one core
of this machine) and the checker's verdict on the live ladder halfway through.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from support.hls.local import served
from support.hls.multivariant import judge
from support.media.fixture import fixture_path

RUNGS = "v:0,a:0 v:1,a:1 v:2,a:2"
SCALE = "[0:v]split=2[m][l];[m]scale=240:180[mid];[l]scale=160:120[low]"


def encoded(rung: int, rate: str) -> list[str]:
    """A transcoded rung: H.264 Baseline for every browser, its bit rate capped over each second
    (so no segment's exceeds what BANDWIDTH declares), and a keyframe wherever the source has
    one (so its segments start where the copied source's do)."""
    return [
        f"-c:v:{rung}", "libx264", f"-profile:v:{rung}", "baseline", f"-preset:v:{rung}",
        "veryfast", f"-b:v:{rung}", rate, f"-maxrate:v:{rung}", rate, f"-bufsize:v:{rung}", rate,
        f"-force_key_frames:v:{rung}", "source",
    ]  # fmt: skip


def ladder_command(directory: Path, seconds: float) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-re", "-stream_loop", "-1", "-i", str(fixture_path()), "-t", str(seconds),
        "-filter_complex", SCALE,
        "-map", "0:v", "-map", "0:a", "-map", "[mid]", "-map", "0:a",
        "-map", "[low]", "-map", "0:a",
        "-c:a", "copy", "-c:v:0", "copy",
        *encoded(1, "200k"), *encoded(2, "100k"),

        "-f", "hls", "-hls_time", "1", "-hls_list_size", "4", "-hls_flags", "delete_segments",
        "-master_pl_name", "master.m3u8", "-var_stream_map", RUNGS,
        str(directory / "out_%v" / "index.m3u8"),
    ]  # fmt: skip


async def judged(directory: Path) -> str:
    async with served(directory) as base, aiohttp.ClientSession() as session:
        report = await judge(session, f"{base}/master.m3u8", limit=3)
    rules = sorted({str(c.rule) for c in report.warnings()})
    return (f"{report.describe()}\n{len(report.failures())} failures, warnings: "
            + ("; ".join(rules) or "none"))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory(prefix="nova-ladder-") as temp:
        directory = Path(temp)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.monotonic()
        process = subprocess.Popen(ladder_command(directory, seconds))
        time.sleep(seconds / 2)  # the ladder live for a while, its window full
        verdict = asyncio.run(judged(directory))
        process.wait(timeout=seconds + 30)
        wall = time.monotonic() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(verdict)
    share = 100 * cpu / wall
    print(f"ladder of 3 rungs for {seconds:.0f} s of one stream: {cpu:.1f} s of CPU in "
          f"{wall:.1f} s, {share:.0f} % of one core; exit {process.returncode}")  # fmt: skip
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
