"""Benchmark: WebSocket fan-out, service and suite together on this machine.

    .venv/bin/python bench/fanout.py [--viewers 100 1000 5000 10000] [--events 5]

For each room size: a live stream, that many viewers with its page open (one aiohttp session in
this process, like the suite), then `--events` viewer joins and the end of the stream, each one
an event to every viewer. Delivery latency runs from the event's own timestamp to its arrival;
complete means every viewer heard every event exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp

from support.clients.api import ApiClient, room_url
from support.clients.broadcaster import Broadcast
from support.clients.metrics import parse
from support.clients.viewer import close_pages, delivery_seconds, open_pages
from support.core.stats import percentiles
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.stack import booted


async def room_of(target: Target, viewers: int, events: int) -> str:
    issuer = TokenIssuer(target.jwt_private_key)
    ada = issuer.token_for(Person("Ada"))
    api = ApiClient(target.api_url)
    pages = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    stream = (await api.create_stream(ada, {"title": "fan-out"})).body
    broadcast = await Broadcast.start(stream["publish_url"])
    began = time.perf_counter()
    crowd, refusals = await open_pages(
        pages, room_url(target.api_url, stream["stream_id"]), [f"v{n}" for n in range(viewers)]
    )
    opened = time.perf_counter() - began
    for number in range(events):
        await api.join(issuer.token_for(Person(f"joiner {number}")), stream["stream_id"])
    await broadcast.end()
    expected = events + 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(len(v.transcript) < expected for v in crowd):  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # polling thousands of transcripts
    complete = sum(
        [f.event for f in v.transcript] == ["viewer_count_changed"] * events + ["stream_ended"]
        for v in crowd
    )
    delays = [d for v in crowd for f in v.transcript if (d := delivery_seconds(f)) is not None]
    async with pages.get(target.metrics_url) as response:
        metrics = await response.text()
    service = service_fanout(metrics)
    await close_pages(crowd)
    await pages.close()
    await api.close()
    table = "  ".join(f"{k} {v * 1000:.1f} ms" for k, v in percentiles(delays).items())
    return (
        f"{viewers:>6} viewers: opened in {opened:.2f} s ({len(refusals)} refused), "
        f"complete {complete}/{viewers}, {len(delays)} deliveries: {table}; "
        f"service writes all frames of an event in {service * 1000:.1f} ms on average"
    )


def service_fanout(metrics: str) -> float:
    """Mean of the service's own fan-out histogram: event to its last frame written."""
    scrape = parse(metrics)
    count = scrape.value("nova_streaming_fanout_latency_seconds_count")
    return scrape.value("nova_streaming_fanout_latency_seconds_sum") / count if count else 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, nargs="+", default=[100, 1000, 5000, 10000])
    parser.add_argument("--events", type=int, default=5)
    args = parser.parse_args()
    for viewers in args.viewers:
        with booted() as (_, target):
            print(asyncio.run(room_of(target, viewers, args.events)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
