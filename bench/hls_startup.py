"""Benchmark: from going live to the first playable segment, and the browser's startup.

    .venv/bin/python bench/hls_startup.py [--runs 5]

For each run: a new stream, the fixture published in real time, the playlist polled every 20 ms
until it lists a segment (timed from NetStream.Publish.Start); then headless Chromium with
hls.js opens the stream, and the page reports when the video fired `playing` (from page load).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import aiohttp

from support.clients.api import ApiClient
from support.clients.broadcaster import Broadcast
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.hls.browser import play, serve_player
from support.hls.playlist import Playlist
from support.stack import booted


async def first_segment(target: Target) -> tuple[float, Broadcast, str]:
    api = ApiClient(target.api_url)
    token = TokenIssuer(target.jwt_private_key).token_for(Person("Ada"))
    stream = (await api.create_stream(token, {"title": "hls"})).body
    broadcast = await Broadcast.start(stream["publish_url"])
    began = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(stream["hls_url"]) as response:
                if response.status == 200 and Playlist.parse(await response.text()).segments:
                    break
            await asyncio.sleep(0.02)
    await api.close()
    return time.monotonic() - began, broadcast, stream["hls_url"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with booted() as (_, target):
        ready, playing = watch_runs(target, runs)
    print(f"first segment after going live, {runs} runs: " + ", ".join(f"{s:.2f}" for s in ready)
          + f" s; p50 {statistics.median(ready):.2f} s")  # fmt: skip
    print("browser 'playing' after page load: " + ", ".join(f"{s:.2f}" for s in playing)
          + f" s; p50 {statistics.median(playing):.2f} s")  # fmt: skip
    return 0


def watch_runs(target: Target, runs: int) -> tuple[list[float], list[float]]:
    loop = asyncio.new_event_loop()
    page = loop.run_until_complete(serve_player())
    ready: list[float] = []
    playing: list[float] = []
    try:
        for _ in range(runs):
            seconds, broadcast, hls_url = loop.run_until_complete(first_segment(target))
            ready.append(seconds)
            playback = loop.run_until_complete(asyncio.to_thread(play, page.url_for(hls_url), 3))
            playing.append((playback.samples[-1].get("playingAt") or float("nan")) / 1000)
            loop.run_until_complete(broadcast.end())
    finally:
        loop.run_until_complete(page.close())
        loop.close()
    return ready, playing


if __name__ == "__main__":
    sys.exit(main())
