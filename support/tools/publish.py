"""`python -m support.tools.publish URL [--seconds N] [--fast]`: publish the fixture as an encoder.

Prints what happened and exits with a status that says it: 0 published and ended cleanly, 1 the
media stopped early, 2 refused by the server, 3 unreachable, 4 the server went silent, 5 RTMP
was broken (by the server or by us; the message says which).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from support.clients.broadcaster import Broadcast
from support.rtmp.session import (
    ProtocolViolation,
    Published,
    PublishOutcome,
    PublishTarget,
    Refused,
    Unanswered,
    Unreachable,
)

EXIT_STATUS: dict[type, int] = {Refused: 2, Unreachable: 3, Unanswered: 4, ProtocolViolation: 5}


def describe(outcome: PublishOutcome) -> str:
    match outcome:
        case Published(started_after=after):
            return f"published: NetStream.Publish.Start after {after * 1000:.1f} ms"
        case ProtocolViolation(by=by, reason=reason):
            return f"protocol violation by the {by}: {reason}"
    return f"{type(outcome).__name__.lower()}: {outcome.reason}"


async def publish(url: str, seconds: float, realtime: bool, answer_within: float) -> int:
    broadcast = await Broadcast.start(
        url, seconds=seconds, realtime=realtime, answer_within=answer_within
    )
    outcome = broadcast.outcome
    if not isinstance(outcome, Published):
        print(describe(outcome), file=sys.stderr)
        return EXIT_STATUS[type(outcome)]
    print(describe(outcome))
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
    parser = argparse.ArgumentParser(prog="python -m support.tools.publish", description=__doc__)
    parser.add_argument("url", help="rtmp://host[:port]/app/stream-name[?key=...]")
    parser.add_argument("--seconds", type=float, default=10.0, help="media to send (default 10)")
    parser.add_argument("--fast", action="store_true", help="as fast as possible, not in real time")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for answers")
    args = parser.parse_args(argv)
    try:
        PublishTarget.parse(args.url)
    except ValueError as error:
        parser.error(str(error))
    return asyncio.run(publish(args.url, args.seconds, not args.fast, args.timeout))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
