"""Benchmark: the RTMP publisher against the embedded stack's nginx-rtmp.

    .venv/bin/python bench/publisher.py [--publishes 20] [--seconds 30]

1. Latency: from the TCP connect to NetStream.Publish.Start, and to the stream being live in
   the API (nginx-rtmp -> on_publish webhook -> reference service -> PostgreSQL), over N publishes.
2. CPU: seconds of CPU per minute of published media, this publisher
   (`python -m support.tools.publish`) and `ffmpeg -re -i fixture.flv -c copy -f flv`, the same
   fixture and length, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

from support.clients.api import ApiClient
from support.core.stats import percentiles
from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.media.fixture import fixture_path
from support.rtmp.client import RtmpPublisher
from support.rtmp.session import Published
from support.stack import booted


async def latency(target: Target, publishes: int) -> tuple[list[float], list[float]]:
    api = ApiClient(target.api_url)
    token = TokenIssuer(target.jwt_private_key).token_for(Person("Ada"))
    to_start, to_live = [], []
    for _ in range(publishes):
        stream = (await api.create_stream(token, {"title": "bench"})).body
        publisher = RtmpPublisher(stream["publish_url"])
        began = time.perf_counter()
        outcome = await publisher.publish()
        assert isinstance(outcome, Published), outcome
        while (await api.get_stream(token, stream["stream_id"])).body["status"] != "live":
            pass
        to_live.append(time.perf_counter() - began)
        to_start.append(outcome.started_after)
        await publisher.finish()
    await api.close()
    return to_start, to_live


def cpu_seconds(command: list[str]) -> float:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            f"{command[0]} failed: {process.stderr.read().decode() if process.stderr else ''}"[
                :2000
            ]
        )
    return usage.ru_utime + usage.ru_stime


async def new_publish_url(target: Target) -> str:
    api = ApiClient(target.api_url)
    token = TokenIssuer(target.jwt_private_key).token_for(Person("Ada"))
    url = str((await api.create_stream(token, {"title": "cpu"})).body["publish_url"])
    await api.close()
    return url


def milliseconds(values: list[float]) -> str:
    return ", ".join(
        f"{name} {value * 1000:.1f} ms" for name, value in percentiles(values, (50, 95)).items()
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with booted() as (_, target):
        to_start, to_live = asyncio.run(latency(target, args.publishes))
        print(f"connect -> Publish.Start over {args.publishes}: {milliseconds(to_start)}")
        print(f"connect -> live in the API over {args.publishes}: {milliseconds(to_live)}")
        fixture = str(fixture_path())
        ours = cpu_seconds(
            [
                sys.executable,
                "-m",
                "support.tools.publish",
                asyncio.run(new_publish_url(target)),
                "--seconds",
                str(args.seconds),
            ]
        )
        theirs = cpu_seconds(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
             "-stream_loop", "-1", "-i", fixture, "-t", str(args.seconds),
             "-c", "copy", "-f", "flv", asyncio.run(new_publish_url(target))]
        )  # fmt: skip
        per_minute = 60 / args.seconds
        print(
            f"CPU per minute of media ({args.seconds:.0f} s each): "
            f"this publisher {ours * per_minute:.2f} s, ffmpeg -c copy {theirs * per_minute:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
