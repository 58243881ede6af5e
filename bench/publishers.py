"""Benchmark: many broadcasters at once from one suite process.

    .venv/bin/python bench/publishers.py [--publishers 50] [--seconds 20]

Each publisher is the suite's own, sending the fixture in real time to a stream of its own on
the embedded stack. The verdict: every stream is live in the API and serves a playlist that
passes every MUST of RFC 8216 with at least --seconds / 2 segments; the cost: this process's
CPU seconds (user + system) per minute of media per publisher, and in all.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time

from support.clients.api import ApiClient
from support.clients.broadcaster import Broadcast
from support.core.target import Target
from support.core.verdict import failures
from support.harness.identity import Person, TokenIssuer
from support.hls.fetch import fetch
from support.hls.playlist import Playlist, check_playlist
from support.rtmp.session import Published
from support.stack import booted


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def stream_problems(api: ApiClient, token: str, stream: dict[str, str], least: int) -> str:
    """What is wrong with one stream while it is live ('' if nothing)."""
    status = (await api.get_stream(token, stream["stream_id"])).body.get("status")
    if status != "live":
        return f"{stream['stream_id']} is {status}"
    code, text = await fetch(api.session, stream["hls_url"])
    if code != 200:
        return f"{stream['hls_url']} answers {code}"
    broken = failures(check_playlist(text))
    segments = len(Playlist.parse(text).segments)
    if broken or segments < least:
        return f"{stream['hls_url']}: {segments} segments, {[str(c) for c in broken]}"
    return ""


async def crowd_of_publishers(target: Target, publishers: int, seconds: float) -> int:
    token = TokenIssuer(target.jwt_private_key).token_for(Person("Ada"))
    api = ApiClient(target.api_url)
    streams = [(await api.create_stream(token, {"title": f"p{n}"})).body for n in range(publishers)]
    cpu, began = cpu_seconds(), time.monotonic()
    broadcasts = await asyncio.gather(*(Broadcast.start(s["publish_url"]) for s in streams))
    live = sum(isinstance(b.outcome, Published) for b in broadcasts)
    await asyncio.sleep(seconds)
    least = min(int(seconds / 2), 4)  # the window is 4 s of 1 s segments
    problems = [p for s in streams if (p := await stream_problems(api, token, s, least))]
    spent, wall = cpu_seconds() - cpu, time.monotonic() - began
    await asyncio.gather(*(b.end() for b in broadcasts))
    await api.close()
    media_minutes = live * wall / 60
    print(
        f"{publishers} publishers: {live} live, {publishers - len(problems)} with valid HLS; "
        f"{spent:.1f} CPU s in {wall:.1f} s ({spent / wall:.0%} of one core), "
        f"{spent / media_minutes:.2f} CPU s per minute of media per publisher"
    )
    for problem in problems[:10]:
        print("  " + problem)
    return 0 if live == publishers and not problems else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--publishers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with booted() as (_, target):
        return asyncio.run(crowd_of_publishers(target, args.publishers, args.seconds))


if __name__ == "__main__":
    sys.exit(main())
