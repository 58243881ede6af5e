"""Benchmark: how far behind the broadcaster's camera a viewer is, on the embedded stack.

    .venv/bin/python bench/latency.py [--seconds 60] [--warmup 6] [--plot reports/latency.png]

A stream is published in real time with every frame stamped (support/media/sei.py); after
--warmup seconds live, three observers watch it: the segment clock (sent to available),
headless Chromium with hls.js (sent to played) and a viewer's page in the room, told of a
second person joining and leaving every 5 s (sent to told). Prints each delay's distribution;
--plot draws them over time, with the target's bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp

from support.clients.api import ApiClient, room_url
from support.clients.broadcaster import Broadcast
from support.clients.viewer import Viewer, room_delays
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.hls.browser import Player, serve_player
from support.hls.latency import Delays, SegmentClock
from support.report.plots import delays_over_time
from support.stack import booted


async def measure(target: Target, seconds: float, warmup: float) -> list[Delays]:
    api = ApiClient(target.api_url)
    issuer = TokenIssuer(target.jwt_private_key)
    ada, ben = issuer.token_for(Person("Ada")), issuer.token_for(Person("Ben"))
    stream = (await api.create_stream(ada, {"title": "latency"})).body
    broadcast = await Broadcast.start(stream["publish_url"])
    await asyncio.sleep(warmup)  # a viewer arriving at a stream that has been live a while
    page = await serve_player()
    async with aiohttp.ClientSession() as session:
        viewer = Viewer("Cleo", room_url(target.api_url, stream["stream_id"]))
        await viewer.connect(session)
        clock = SegmentClock(session, stream["hls_url"])
        player = await asyncio.to_thread(Player, page.url_for(stream["hls_url"]))
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            await api.join(ben, stream["stream_id"])
            await asyncio.sleep(2.5)
            await api.leave(ben, stream["stream_id"])
            await asyncio.sleep(2.5)
        available = await clock.stop()
        played = (await asyncio.to_thread(player.stop)).behind()
        told = room_delays(viewer.heard(stream["stream_id"]))
        await viewer.close()
    await broadcast.end()
    await page.close()
    await api.close()
    return [available, played, told]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=6, help="seconds live before watching")
    parser.add_argument("--plot", type=Path, help="a PNG of the delays over time")
    args = parser.parse_args()
    with booted() as (_, target):
        delays = asyncio.run(measure(target, args.seconds, args.warmup))
    bounds = {"segment_delay_bound": target.segment_delay_bound,
              "playback_delay_bound": target.playback_delay_bound}  # fmt: skip
    for found in delays:
        print(found.describe())
    if args.plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        declared = {name: bound for name, bound in bounds.items() if bound is not None}
        args.plot.write_bytes(delays_over_time(delays, f"{args.seconds:.0f} s live", declared))
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
