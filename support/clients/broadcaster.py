"""A broadcaster's broadcast: the publisher plus the media it keeps sending in the background."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from support.media.fixture import clip, looped
from support.rtmp.client import RtmpPublisher
from support.rtmp.session import Published, PublishOutcome

# How closely a duration the platform reports must match the broadcaster's own clock. Scenarios
# that check durations let more time than this pass between creating a stream and going live,
# so a duration measured from the stream's creation instead of its start is caught.
DURATION_TOLERANCE = 0.5


@dataclass
class Broadcast:
    publisher: RtmpPublisher
    outcome: PublishOutcome
    answered_at: float = field(default_factory=time.time)  # when the outcome was known
    live_since: float | None = None  # time.time() at NetStream.Publish.Start
    ended_at: float | None = None
    _media: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    async def start(
        cls,
        url: str,
        *,
        seconds: float | None = None,
        realtime: bool = True,
        answer_within: float = 10.0,
        send_timeout: float | None = None,
    ) -> Broadcast:
        """Publish to `url`; once accepted, keep sending the fixture (for ever by default)."""
        publisher = RtmpPublisher(url, timeout=answer_within, send_timeout=send_timeout)
        outcome = await publisher.publish()
        broadcast = cls(publisher, outcome)
        if isinstance(outcome, Published):
            broadcast.live_since = time.time()
            media = clip()
            broadcast._media = asyncio.create_task(
                publisher.send_media(
                    media.metadata,
                    media.headers,
                    looped(media, seconds),
                    realtime=realtime,
                    stamps=True,
                ),
                name="broadcast-media",
            )
        return broadcast

    @property
    def frame_rate(self) -> float:
        """The frame rate the broadcaster's metadata (onMetaData) announced."""
        return float(clip().metadata["framerate"])

    @property
    def live_for(self) -> float:
        """Seconds from NetStream.Publish.Start to the end, by the broadcaster's clock."""
        if self.live_since is None or self.ended_at is None:
            raise AssertionError(f"the broadcast has not both started and ended: {self.outcome}")
        return self.ended_at - self.live_since

    def check_duration(self, reported: float, where: str) -> None:
        """A duration the platform reports (`where`) matches how long the broadcast was live."""
        assert abs(reported - self.live_for) <= DURATION_TOLERANCE, (
            f"{where} says the stream lasted {reported:.2f} s; it was live for "
            f"{self.live_for:.2f} s (tolerance {DURATION_TOLERANCE} s)"
        )

    @property
    def media_error(self) -> BaseException | None:
        """Why the media stopped early, if it did (a closed connection, a protocol error)."""
        if self._media is None or not self._media.done() or self._media.cancelled():
            return None
        return self._media.exception()

    async def wait_for_media(self) -> None:
        """Until a broadcast of limited length has sent all its media (or stopped early)."""
        if self._media is not None:
            await asyncio.wait({self._media})

    async def end(self) -> None:
        """Stop cleanly: FCUnpublish and deleteStream, as an encoder's Stop button does."""
        await self._stop_media()
        await self.publisher.finish()
        self.ended_at = self.ended_at or time.time()

    async def drop(self) -> None:
        """The connection goes without a goodbye (a crash, a network cut)."""
        await self._stop_media()
        await self.publisher.drop()
        self.ended_at = self.ended_at or time.time()

    async def _stop_media(self) -> None:
        if self._media is None:
            return
        if not self._media.done():
            self._media.cancel()
        # Wait for it, and take its exception (a dropped connection): it was seen, or will be
        # through media_error, and must not surface later as "never retrieved".
        await asyncio.gather(self._media, return_exceptions=True)


def publish_url(rtmp_url: str, stream_id: str, key: str | None) -> str:
    """Where an encoder publishes: the RTMP application, the stream id, and the key as its query."""
    base = f"{rtmp_url.rstrip('/')}/{stream_id}"
    return f"{base}?key={key}" if key is not None else base


@dataclass(frozen=True)
class Attempt:
    at: float  # time.time() when the outcome was known
    outcome: PublishOutcome


@dataclass
class Encoder:
    """A broadcaster's encoder with its automatic reconnect, as OBS's settings name it: when the
    connection is lost, retry every `retry_every` seconds, at most `max_retries` times. A
    connection counts as lost when the server closes it, or when what was sent stays
    unacknowledged for `send_timeout` seconds (a network gone silent)."""

    url: str
    retry_every: float = 10.0  # OBS's default retry delay
    max_retries: int = 25  # OBS's default
    send_timeout: float = 2.0
    broadcast: Broadcast | None = None
    lost_at: float | None = None  # time.time() when the connection was last lost
    retries: list[Attempt] = field(default_factory=list)  # since the last loss
    _watch: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> PublishOutcome:
        self.broadcast = await self._publish()
        if isinstance(self.broadcast.outcome, Published):
            self._watch = asyncio.create_task(self._keep_connected(), name="encoder")
        return self.broadcast.outcome

    @property
    def back_at(self) -> float | None:
        """When the encoder got back in after its last loss, if it did."""
        accepted = [a.at for a in self.retries if isinstance(a.outcome, Published)]
        return accepted[-1] if accepted else None

    def describe(self) -> str:
        tries = "; ".join(
            f"+{a.at - (self.lost_at or a.at):.1f} s {a.outcome}" for a in self.retries
        )
        return f"lost at {self.lost_at}, retries: {tries or 'none'}"

    async def _publish(self) -> Broadcast:
        return await Broadcast.start(self.url, send_timeout=self.send_timeout)

    async def _keep_connected(self) -> None:
        while self.broadcast is not None:
            await self.broadcast.wait_for_media()
            if self.broadcast.media_error is None:
                return  # it ended as asked: nothing to reconnect
            self.broadcast.ended_at = time.time()
            self.lost_at, self.retries = self.broadcast.ended_at, []
            await self.broadcast.drop()
            while len(self.retries) < self.max_retries:
                await asyncio.sleep(self.retry_every)  # the encoder's retry delay
                attempt = await self._publish()
                self.retries.append(Attempt(attempt.answered_at, attempt.outcome))
                if isinstance(attempt.outcome, Published):
                    self.broadcast = attempt
                    break
            else:
                return

    async def stop(self, *, cleanly: bool = True) -> None:
        """The operator stops it: no more retries; the broadcast ends (or drops)."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        if self.broadcast is not None:
            await (self.broadcast.end() if cleanly else self.broadcast.drop())
