"""`python -m support.rtmp URL [--seconds N] [--fast]`: publish the media fixture like an encoder.

Exits 0 after a clean end, 2 if the server refused the publish, 1 if the media stopped early.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from support.broadcaster import Broadcast
from support.rtmp.client import Published, PublishTarget


async def publish(url: str, seconds: float, realtime: bool) -> int:
    broadcast = await Broadcast.start(url, seconds=seconds, realtime=realtime)
    if not isinstance(broadcast.outcome, Published):
        print(f"refused: {broadcast.outcome.reason}", file=sys.stderr)
        return 2
    print(
        f"publishing: NetStream.Publish.Start after {broadcast.outcome.started_after * 1000:.1f} ms"
    )
    await broadcast.wait_for_media()
    error = broadcast.media_error
    await broadcast.end()
    frames = broadcast.publisher.video_frames_sent
    print(f"sent {frames} video frames, {broadcast.publisher.media_sent_ms / 1000:.2f} s of media")
    if error is not None:
        print(f"the media stopped early: {error!r}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.rtmp", description=__doc__)
    parser.add_argument("url", help="rtmp://host[:port]/app/stream-name[?key=...]")
    parser.add_argument("--seconds", type=float, default=10.0, help="media to send (default 10)")
    parser.add_argument("--fast", action="store_true", help="as fast as possible, not in real time")
    args = parser.parse_args(argv)
    try:
        PublishTarget.parse(args.url)
    except ValueError as error:
        parser.error(str(error))
    return asyncio.run(publish(args.url, args.seconds, not args.fast))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
