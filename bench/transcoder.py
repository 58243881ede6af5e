"""Benchmark: what the embedded platform's ladder costs per live stream, and its verdict.

    .venv/bin/python bench/transcoder.py [--streams 1 2 4] [--seconds 30]

For each count, that many broadcasters publish the media fixture in real time on the embedded
stack; the ingest starts one transcoder per stream (support/stack/templates/transcode.sh). Over
the middle of the run, it reads the CPU the transcoders took (/proc: user and system time of
every ffmpeg publishing to the ladder application; 100 % is one core of this machine), then
judges each stream's ladder with the multivariant checker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import aiohttp

from support.clients.api import ApiClient
from support.clients.broadcaster import Broadcast
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.hls.multivariant import judge
from support.stack import booted

TICKS = os.sysconf("SC_CLK_TCK")


def transcoders_cpu() -> tuple[int, float]:
    """How many transcoders run, and the CPU seconds they have taken."""
    count, seconds = 0, 0.0
    for proc in Path("/proc").iterdir():
        try:
            if b"/ladder/" not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, NotADirectoryError, PermissionError, ProcessLookupError):
            continue
        count, seconds = count + 1, seconds + (int(fields[11]) + int(fields[12])) / TICKS
    return count, seconds


async def run(target: Target, streams: int, seconds: float) -> str:
    api = ApiClient(target.api_url)
    issuer = TokenIssuer(target.jwt_private_key)
    token = issuer.token_for(Person("Ada"))
    created = [(await api.create_stream(token, {"title": f"ladder {n}"})).body
               for n in range(streams)]  # fmt: skip
    broadcasts = [await Broadcast.start(stream["publish_url"]) for stream in created]
    await asyncio.sleep(seconds / 4)  # every transcoder started and its ladder written
    _, before = transcoders_cpu()
    began = time.monotonic()
    await asyncio.sleep(seconds / 2)
    running, after = transcoders_cpu()
    share = 100 * (after - before) / (time.monotonic() - began)
    async with aiohttp.ClientSession() as session:
        reports = [await judge(session, stream["ladder_url"], limit=4) for stream in created]
    for broadcast in broadcasts:
        await broadcast.end()
    await api.close()
    failures = sum(len(report.failures()) for report in reports)
    warnings = [f"  {c}" for c in reports[0].warnings()]
    return (f"{streams} streams, {running} transcoders: {share:.0f} % of one core, "
            f"{share / streams:.0f} % per stream; ladder failures {failures}; the first "
            "stream's warnings:\n" + ("\n".join(warnings) or "  none"))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with booted() as (_, target):
        for streams in args.streams:
            print(asyncio.run(run(target, streams, args.seconds)), flush=True)
            time.sleep(2)  # the transcoders of the last count gone
    left, _ = transcoders_cpu()
    print(f"transcoders left after the stack stopped: {left}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
