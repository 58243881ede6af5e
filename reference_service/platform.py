"""What happens when a stream goes live, ends, gains or loses a viewer: every store, in order."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from reference_service.domain import (
    LIVE,
    ApiError,
    NewStream,
    Stream,
    is_own_publisher,
    now,
    publish_refusal,
    rfc3339,
)
from reference_service.events import EventLog, event
from reference_service.hub import Hub
from reference_service.metrics import Metrics
from reference_service.store import Streams
from reference_service.viewers import Audience, Viewers

LOCK_STRIPES = 256


@dataclass(frozen=True)
class PublishDecision:
    accepted: bool
    reason: str


class Platform:
    def __init__(
        self, streams: Streams, viewers: Viewers, events: EventLog, hub: Hub, metrics: Metrics
    ) -> None:
        self.streams = streams
        self.viewers = viewers
        self.events = events
        self.hub = hub
        self.metrics = metrics
        # Per stream, one change at a time: the Redis count, the Kafka event and the WebSocket
        # event of one change are issued before the next change starts, so all agree on order.
        # Striped by stream id, so requests for any number of ids hold a bounded set of locks.
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    def _lock(self, stream_id: uuid.UUID) -> asyncio.Lock:
        return self._locks[stream_id.int % LOCK_STRIPES]

    async def create(self, creator_id: uuid.UUID, new: NewStream) -> Stream:
        return await self.streams.create(creator_id, new)

    async def stream(self, stream_id: uuid.UUID) -> Stream:
        stream = await self.streams.get(stream_id)
        if stream is None:
            raise ApiError(404, "not_found", f"no stream {stream_id}")
        return stream

    async def audience(self, stream: Stream) -> Audience:
        if stream.status == LIVE:
            return await self.viewers.audience(stream.id)
        return Audience(False, 0, stream.peak_viewers)

    async def publish(
        self, stream_id: uuid.UUID, key: str | None, publisher_id: str | None
    ) -> PublishDecision:
        async with self._lock(stream_id):
            refusal = publish_refusal(await self.streams.get(stream_id), key)
            if refusal:
                return PublishDecision(False, refusal)
            stream = await self.streams.go_live(stream_id, publisher_id)
            if stream is None:
                return PublishDecision(False, "the stream is no longer waiting to go live")
            since = time.perf_counter()
            await self.viewers.open(stream_id)
            self.events.publish(
                event(
                    "stream.started",
                    stream_id,
                    creator_id=str(stream.creator_id),
                    title=stream.title,
                )
            )
            self._tell_room(stream_id, "stream_started", stream.started_at, since)
            self.metrics.streams_started.inc()
            return PublishDecision(True, "live")

    async def publish_done(self, stream_id: uuid.UUID, publisher_id: str | None) -> bool:
        """End the stream if its own publisher left; False if there was nothing to end."""
        async with self._lock(stream_id):
            stream = await self.streams.get(stream_id)
            if (
                stream is None
                or stream.status != LIVE
                or not is_own_publisher(stream, publisher_id)
            ):
                return False
            since = time.perf_counter()
            peak = (await self.viewers.audience(stream_id)).peak
            ended = await self.streams.end(stream_id, peak)
            if ended is None:
                return False
            await self.viewers.close(stream_id)
            duration = ended.duration_seconds or 0.0
            self.events.publish(
                event(
                    "stream.ended",
                    stream_id,
                    creator_id=str(ended.creator_id),
                    title=ended.title,
                    duration_seconds=round(duration, 3),
                    peak_viewers=peak,
                )
            )
            self._tell_room(stream_id, "stream_ended", ended.ended_at, since)
            self.metrics.streams_ended.inc()
            self.metrics.stream_duration.observe(duration)
        return True

    async def join(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
        async with self._lock(stream_id):
            stream = await self.stream(stream_id)
            if stream.status != LIVE:
                raise ApiError(409, "not_live", f"stream {stream_id} is {stream.status}, not live")
            since = time.perf_counter()
            audience = await self.viewers.join(stream_id, user_id)
            if audience.changed:
                self.metrics.viewer_joins.inc()
                self._announce("viewer.joined", stream_id, user_id, audience, since)
            return audience

    async def leave(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
        async with self._lock(stream_id):
            stream = await self.stream(stream_id)
            if stream.status != LIVE:
                return await self.audience(stream)
            since = time.perf_counter()
            audience = await self.viewers.leave(stream_id, user_id)
            if audience.changed:
                self.metrics.viewer_leaves.inc()
                self._announce("viewer.left", stream_id, user_id, audience, since)
            return audience

    def _tell_room(
        self, stream_id: uuid.UUID, name: str, moment: datetime | None, since: float
    ) -> None:
        timestamp = rfc3339(moment or now())
        self.hub.broadcast(
            stream_id, name, {"stream_id": str(stream_id), "timestamp": timestamp}, since
        )

    def _announce(
        self, kind: str, stream_id: uuid.UUID, user_id: uuid.UUID, audience: Audience, since: float
    ) -> None:
        self.events.publish(
            event(kind, stream_id, user_id=str(user_id), viewer_count=audience.viewers)
        )
        self.hub.broadcast(
            stream_id,
            "viewer_count_changed",
            {
                "stream_id": str(stream_id),
                "viewer_count": audience.viewers,
                "peak_viewers": audience.peak,
                "timestamp": rfc3339(now()),
            },
            since,
        )
