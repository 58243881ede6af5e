"""How far behind the broadcaster's camera a viewer is, from the stamps the suite's publisher
puts in every frame (support/media/sei.py). Three delays, each from the instant a frame was sent:

- to available: when a segment's first frame became downloadable, i.e. when the playlist first
  listed that segment (`SegmentClock`, which reloads the playlist every 0.1 s: a measurement,
  not a player);
- to played: how far the picture on the browser's screen is behind (support/hls/player.html,
  read by support/hls/browser.py);
- to told: when a viewer's page received a room event, from the instant the event describes.

The publisher, the clock, the browser and the viewers run on the suite's machine and read its
one clock, so no two clocks are compared.

The bound a viewer playing in the browser may be behind is the target's setting: the embedded
stack's is derived from its fragment length and the player's live sync distance
(support/stack, the contract's "Latency"); an external target declares its own.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import aiohttp

from support.core.stats import percentiles
from support.hls.fetch import get, get_range
from support.hls.multivariant import is_multivariant
from support.hls.playlist import Playlist, PlaylistError, Resource, Segment
from support.media import sei, ts

POLL = 0.1  # seconds between the clock's reloads: the resolution of "available"


@dataclass(frozen=True)
class Delay:
    at: float  # time.time() when it was seen
    seconds: float  # how long after the frame was sent


@dataclass
class Delays:
    """One kind of delay over a scenario, with what could not be measured."""

    name: str
    seen: list[Delay] = field(default_factory=list)
    unmeasured: list[str] = field(default_factory=list)  # why some could not be measured

    def since(self, instant: float) -> Delays:
        return Delays(self.name, [d for d in self.seen if d.at >= instant], self.unmeasured)

    def beyond(self, bound: float) -> list[str]:
        """What breaks the bound: nothing measured, or each delay over it (the first few)."""
        if not self.seen:
            return [self.describe()]
        late = [d for d in self.seen if d.seconds > bound]
        return [
            f"{self.name}: {len(late)} of {len(self.seen)} over {bound:g} s, the worst "
            f"{max(d.seconds for d in late):.2f} s; {self.describe()}"
        ] if late else []  # fmt: skip

    def describe(self) -> str:
        if not self.seen:
            why = "; ".join(dict.fromkeys(self.unmeasured)) or "nothing was seen"
            return f"{self.name}: not measured ({why})"
        figures = percentiles([d.seconds for d in self.seen], (50, 90, 99))
        text = ", ".join(f"{k} {v:.3f} s" for k, v in figures.items())
        return f"{self.name}: {text} over {len(self.seen)}"


def first_stamp(data: bytes) -> float | None:
    """The stamp of an MPEG-TS segment's first video frame, if it has one."""
    first = ts.read(data).first_video_payload
    return next(iter(sei.stamps(sei.annexb_units(first))), None)


class SegmentClock:
    """Reloads a media playlist every POLL seconds in the background; for each segment that
    appears while it runs, how long after its first frame was sent it was listed."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.delays = Delays("sent to available (segment listed)")
        self._known: set[Resource] | None = None  # None until the first playlist
        self._task = asyncio.create_task(self._run(), name="segment-clock")

    async def _run(self) -> None:
        while True:
            status, _, body = await get(self.session, self.url)
            listed_at = time.time()
            text = body.decode(errors="replace")
            if status != 200:
                pass  # not live yet, or gone: nothing is listed
            elif is_multivariant(text):
                self.delays.unmeasured.append("a multivariant playlist: the clock times a variant")
            else:
                await self._listed(text, listed_at)
            await asyncio.sleep(POLL)  # the clock's resolution, not a wait for a condition

    async def _listed(self, text: str, listed_at: float) -> None:
        try:
            playlist = Playlist.parse(text)
        except PlaylistError as error:
            self.delays.unmeasured.append(f"the playlist does not parse: {error}")
            return
        known = self._known or set()
        new = [segment for segment in playlist.segments if segment.resource not in known]
        if self._known is not None:  # those listed before the clock began: when is unknown
            for segment in new:
                await self._measure(segment, listed_at)
        self._known = known | {segment.resource for segment in new}

    async def _measure(self, segment: Segment, listed_at: float) -> None:
        url = urljoin(self.url, segment.uri)
        status, data, _ = await get_range(self.session, url, segment.byterange)
        if status != 200:
            self.delays.unmeasured.append(f"{segment.uri}: answered {status}")
        elif segment.map is not None or data[:1] != bytes([ts.SYNC]):
            self.delays.unmeasured.append(f"{segment.uri}: stamps are read from MPEG-TS only")
        elif (stamp := first_stamp(data)) is None:
            self.delays.unmeasured.append(f"{segment.uri}: no stamp in its first frame")
        else:
            self.delays.seen.append(Delay(listed_at, listed_at - stamp))

    async def stop(self) -> Delays:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.delays


async def timed_segments(session: aiohttp.ClientSession, url: str, seconds: float) -> Delays:
    """The segments listed over the next `seconds`, each with its delay behind the camera."""
    clock = SegmentClock(session, url)
    await asyncio.sleep(seconds)  # the span measured, not a wait for a condition
    return await clock.stop()
