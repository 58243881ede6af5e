"""What happens when a stream goes live, ends, gains or loses a viewer: every store, in order.

Each change is one PostgreSQL transaction holding the stream's row lock: the change itself, the
events that tell of it (the outbox), and Redis's projection of it. If any part fails, nothing of
it stays in PostgreSQL and the client is told the platform is unavailable (503); Redis, which
cannot roll back with it, is rebuilt from PostgreSQL (Platform._change). After the commit, the
WebSocket room hears it and the outbox relay is woken to publish the events.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg

from reference_service.domain import (
    ENDED,
    INTERRUPTED,
    LIVE,
    ON_AIR,
    ApiError,
    NewStream,
    Stream,
    is_own_publisher,
    now,
    publish_refusal,
    rfc3339,
)
from reference_service.events import event
from reference_service.hub import Hub
from reference_service.metrics import Metrics
from reference_service.outbox import Relay
from reference_service.store import Changes, Streams
from reference_service.viewers import Audience, Viewers

log = logging.getLogger(__name__)

KNOWN_STREAMS = 100_000  # ids remembered to exist, at most
LOCK_STRIPES = 256
# contract: ingest. nginx-rtmp reports each publisher every 2 s (on_update); a live stream it has
# not mentioned for this long has lost its publisher, also when the service missed on_publish_done.
UNSEEN_FOR = 6.0
REAP_EVERY = 1.0
TICK = 0.25  # seconds between the ticks that tell the service it stalled
STALLED = 2.0  # seconds a tick may come late before the service counts as stalled
# contract: HLS. The ingest removes a playlist not written for its playlist length (4 s on the
# embedded stack), checking every twice that: an interrupted stream's is kept fresh more often.
KEEP_EVERY = 1.0


Announcement = Callable[[], None]  # what the room, the relay and the metrics hear after a commit


@dataclass(frozen=True)
class PublishDecision:
    accepted: bool
    reason: str


class Platform:
    def __init__(
        self, streams: Streams, viewers: Viewers, relay: Relay, hub: Hub, metrics: Metrics
    ) -> None:
        self.streams = streams
        self.viewers = viewers
        self.relay = relay
        self.hub = hub
        self.metrics = metrics
        # Per stream, one change at a time within this process, so the room hears changes in the
        # order they were committed (PostgreSQL's row lock orders them across processes).
        # Striped by stream id, so requests for any number of ids hold a bounded set of locks.
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]
        # Streams are never deleted: once seen, a stream exists, and a crowd opening its room
        # does not ask PostgreSQL again (a storm of upgrades exhausted the pool: 503s).
        self._known: set[uuid.UUID] = set()
        # When the database last failed the reaper or a report of the ingest (time.monotonic):
        # the reports it could not record must not count against the streams (keep_reaping).
        self._store_failed_at: float | None = None
        self._tick = time.monotonic()

    def _lock(self, stream_id: uuid.UUID) -> asyncio.Lock:
        return self._locks[stream_id.int % LOCK_STRIPES]

    @asynccontextmanager
    async def _change(self, stream_id: uuid.UUID) -> AsyncIterator[Changes]:
        """One change to a stream: its lock and a transaction. Redis is written inside it (so a
        change Redis cannot take is refused) and cannot roll back with PostgreSQL: when the
        transaction fails, Redis is marked for a rebuild from PostgreSQL (keep_rebuilt)."""
        async with self._lock(stream_id):
            try:
                async with self.streams.changing() as change:
                    yield change
            except (psycopg.Error, asyncio.CancelledError):  # cancelled: out of time (api.py)
                self.viewers.stale = True
                raise

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """No change runs meanwhile (every stripe, in order): for rebuilding Redis."""
        async with AsyncExitStack() as stack:
            for lock in self._locks:
                await stack.enter_async_context(lock)
            yield

    async def create(self, creator_id: uuid.UUID, new: NewStream) -> Stream:
        return await self.streams.create(creator_id, new)

    async def stream(self, stream_id: uuid.UUID) -> Stream:
        stream = await self.streams.get(stream_id)
        if stream is None:
            raise ApiError(404, "not_found", f"no stream {stream_id}")
        return stream

    async def exists(self, stream_id: uuid.UUID) -> None:
        """404 unless the stream exists; asks PostgreSQL once per stream and process."""
        if stream_id not in self._known:
            await self.stream(stream_id)
            if len(self._known) >= KNOWN_STREAMS:
                self._known.clear()
            self._known.add(stream_id)

    async def audience(self, stream: Stream) -> Audience:
        if stream.status in ON_AIR:
            return await self.viewers.audience(stream.id)
        return Audience(False, 0, stream.peak_viewers)

    async def publish(
        self, stream_id: uuid.UUID, key: str | None, publisher_id: str | None
    ) -> PublishDecision:
        """A waiting stream goes live, an interrupted one resumes; told once committed."""
        async with self._change(stream_id) as change:
            current = await change.stream(stream_id)
            refusal = publish_refusal(current, key)
            if refusal:
                return PublishDecision(False, refusal)
            resuming = current is not None and current.status == INTERRUPTED
            announce = await (self._resume if resuming else self._go_live)(
                change, stream_id, publisher_id
            )
            if announce is None:
                return PublishDecision(
                    False,
                    "the stream's reconnect window has passed"
                    if resuming
                    else "the stream is no longer waiting to go live",
                )
        announce()
        return PublishDecision(True, "live")

    async def _go_live(
        self, change: Changes, stream_id: uuid.UUID, publisher_id: str | None
    ) -> Announcement | None:
        stream = await change.go_live(stream_id, publisher_id)
        if stream is None:
            return None
        since = time.perf_counter()
        await change.tell(
            event("stream.started", stream_id, creator_id=str(stream.creator_id),
                  title=stream.title)
        )  # fmt: skip
        await self.viewers.open(stream_id)

        def announce() -> None:
            self.relay.wake.set()
            self._tell_room(stream_id, "stream_started", stream.started_at, since)
            self.metrics.streams_started.inc()

        return announce

    async def _resume(
        self, change: Changes, stream_id: uuid.UUID, publisher_id: str | None
    ) -> Announcement | None:
        """interrupted -> live: its publisher is back within the window."""
        stream = await change.resume(stream_id, publisher_id)
        if stream is None:
            return None
        since = time.perf_counter()
        await change.tell(
            event("stream.resumed", stream_id, creator_id=str(stream.creator_id),
                  title=stream.title, interrupted_seconds=round(stream.interrupted_seconds, 3))
        )  # fmt: skip
        await self.viewers.interrupted(stream_id, interrupted=False)

        def announce() -> None:
            self.relay.wake.set()
            self._tell_room(stream_id, "stream_resumed", None, since)
            self.metrics.streams_resumed.inc()

        return announce

    async def publish_done(self, stream_id: uuid.UUID, publisher_id: str | None) -> str | None:
        """The stream's own publisher left: the stream is interrupted if it has a reconnect
        window, ended if not; its new status, or None if there was nothing to change."""
        async with self._change(stream_id) as change:
            stream = await change.stream(stream_id)
            if (
                stream is None
                or stream.status != LIVE
                or not is_own_publisher(stream, publisher_id)
            ):
                return None
            announce = await self._gone(stream, change)
        if announce is None:
            return None
        announce()
        return INTERRUPTED if stream.reconnect_window_seconds else ENDED

    async def _gone(
        self, stream: Stream, change: Changes, *, missed: bool = False
    ) -> Announcement | None:
        """A live stream's publisher went away: interrupted if it has a reconnect window,
        ended if not."""
        since = time.perf_counter()
        if stream.reconnect_window_seconds == 0:
            ended = await self._end(stream, change, missed=missed)
            return None if ended is None else lambda: self._announce_end(ended, since)
        interrupted = await change.interrupt(stream.id, missed=missed)
        if interrupted is None:
            return None
        await change.tell(
            event("stream.interrupted", stream.id, creator_id=str(stream.creator_id),
                  title=stream.title, reconnect_window_seconds=stream.reconnect_window_seconds)
        )  # fmt: skip
        await self.viewers.interrupted(stream.id, interrupted=True)

        def announce() -> None:
            self.relay.wake.set()
            self._tell_room(stream.id, "stream_interrupted", interrupted.interrupted_at, since)
            self.metrics.streams_interrupted.inc()

        return announce

    async def end_now(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Stream:
        """Its creator ends a stream on air at once (the ingest drops the publisher at its next
        report): 403 for anyone else, 409 unless it is live or interrupted."""
        async with self._change(stream_id) as change:
            stream = await owned(change, stream_id, user_id, "end")
            since = time.perf_counter()
            ended = await self._end(stream, change) if stream.status in ON_AIR else None
            if ended is None:
                raise ApiError(
                    409, "not_live", f"stream {stream_id} is {stream.status}, not on air"
                )
        self._announce_end(ended, since)
        return ended

    async def change(self, stream_id: uuid.UUID, user_id: uuid.UUID, window: int) -> Stream:
        """Its creator gives a stream that has not ended a new reconnect window: 403 for anyone
        else, 409 once it has ended. An interrupted stream's new window runs from when it was
        interrupted: one that has run out ends it at the reaper's next round."""
        async with self._change(stream_id) as change:
            await owned(change, stream_id, user_id, "change")
            changed = await change.set_window(stream_id, window)
            if changed is None:
                raise ApiError(409, "ended", f"stream {stream_id} has ended and cannot change")
        return changed

    async def _end(self, stream: Stream, change: Changes, *, missed: bool = False) -> Stream | None:
        """live or interrupted -> ended inside the change's transaction, with its event and
        projection."""
        ended = await change.end(stream.id, missed=missed)
        if ended is None:
            return None
        await change.tell(
            event(
                "stream.ended",
                stream.id,
                creator_id=str(ended.creator_id),
                title=ended.title,
                duration_seconds=round(ended.duration_seconds or 0.0, 3),
                peak_viewers=ended.peak_viewers,
            )
        )
        await self.viewers.close(stream.id)
        return ended

    def _announce_end(self, ended: Stream, since: float) -> None:
        """After the commit: the room, the relay and the metrics hear of the end."""
        self.relay.wake.set()
        self._tell_room(ended.id, "stream_ended", ended.ended_at, since)
        self.metrics.streams_ended.inc()
        self.metrics.stream_duration.observe(ended.duration_seconds or 0.0)

    async def seen(self, stream_id: uuid.UUID, publisher_id: str | None) -> str:
        """The ingest still carries the stream's publisher (on_update): live, waiting (its
        publish is being decided), or gone (the ingest should drop it)."""
        try:
            return await self.streams.seen(stream_id, publisher_id)
        except Exception:
            self._store_failed_at = time.monotonic()
            raise

    def _in_grace(self) -> bool:
        """Within UNSEEN_FOR of the platform being deaf to the ingest: the database failed, or
        the service itself stalled (its event loop ran late: the process was stopped)."""
        now = time.monotonic()
        if now - self._tick > TICK + STALLED:
            log.warning("the service stalled for %.1f s; streams get %.0f s to be reported again",
                        now - self._tick, UNSEEN_FOR)  # fmt: skip
            self._store_failed_at = now
        self._tick = now
        failed_at = self._store_failed_at
        return failed_at is not None and now - failed_at < UNSEEN_FOR

    async def end_unseen(self) -> list[uuid.UUID]:
        """Interrupt (or end, without a reconnect window) every live stream the ingest stopped
        mentioning: the publisher's leaving was missed. Not within UNSEEN_FOR of the platform
        being deaf to the ingest (_in_grace): the reports it missed meanwhile were its own
        fault, and a broadcaster is never dropped for the platform's outage. Asked again after
        the query, since the service can stall while it waits."""
        if self._in_grace():
            return []
        unseen = await self.streams.unseen_since(UNSEEN_FOR)
        if self._in_grace():
            return []
        gone = []
        for stream_id in unseen:
            async with self._change(stream_id) as change:
                stream = await change.stream(stream_id)
                live = stream is not None and stream.status == LIVE
                announce = (
                    await self._gone(stream, change, missed=True) if stream and live else None
                )
            if announce is not None:
                announce()
                gone.append(stream_id)
        return gone

    async def end_out_of_window(self) -> list[uuid.UUID]:
        """End every interrupted stream whose reconnect window ran out, dated when its publisher
        went away. The window is the database's clock's: an outage does not stretch it."""
        ended = []
        for stream_id, interrupted_at in await self.streams.out_of_window():
            async with self._change(stream_id) as change:
                stream = await change.stream(stream_id)
                since = time.perf_counter()
                same = stream is not None and stream.status == INTERRUPTED
                # Not one that resumed and was interrupted again meanwhile: its window is new.
                same = same and stream is not None and stream.interrupted_at == interrupted_at
                gone = await self._end(stream, change) if stream and same else None
            if gone is not None:
                self._announce_end(gone, since)
                ended.append(stream_id)
        return ended

    async def keep_reaping(self) -> None:
        """Three of the ingest's report intervals without a word, and a live stream is
        interrupted or ended; an interrupted stream's window runs out, and it is ended. After a
        start, every stream first gets UNSEEN_FOR to be reported again."""
        clock = asyncio.create_task(self._watch_the_clock(), name="stall-watch")
        try:
            await asyncio.sleep(UNSEEN_FOR)
            while True:
                try:
                    for stream_id in await self.end_unseen():
                        log.warning(
                            "stream %s lost its publisher: the ingest no longer reports it",
                            stream_id,
                        )
                    for stream_id in await self.end_out_of_window():
                        log.info("ended stream %s: its reconnect window ran out", stream_id)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # a store is down: the next round tries again
                    self._store_failed_at = time.monotonic()
                    log.debug("cannot look for unseen streams yet: %r", error)
                await asyncio.sleep(REAP_EVERY)
        finally:
            clock.cancel()

    async def keep_media(self, keep: Callable[[uuid.UUID], None]) -> None:
        """Every KEEP_EVERY seconds, `keep` the media of each interrupted stream: the ingest
        would clean up a playlist nobody writes to, and its viewers would lose it."""
        while True:
            try:
                for stream_id in await self.streams.interrupted():
                    await asyncio.to_thread(keep, stream_id)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # PostgreSQL is down: the next round tries again
                log.debug("cannot keep the interrupted streams' media yet: %r", error)
            await asyncio.sleep(KEEP_EVERY)

    async def _watch_the_clock(self) -> None:
        """Tick every TICK seconds: a tick that comes late is a stall (_in_grace)."""
        while True:
            self._in_grace()
            await asyncio.sleep(TICK)

    async def join(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
        return await self._audience_change(stream_id, user_id, joining=True)

    async def leave(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
        return await self._audience_change(stream_id, user_id, joining=False)

    async def _audience_change(
        self, stream_id: uuid.UUID, user_id: uuid.UUID, *, joining: bool
    ) -> Audience:
        """A viewer joins (only a stream on air: 409 otherwise) or leaves (of a stream that is not
        live: nothing changes); counted once, the peak kept, the event and projection with it."""
        async with self._change(stream_id) as change:
            stream = await change.stream(stream_id)
            if stream is None:
                raise ApiError(404, "not_found", f"no stream {stream_id}")
            if stream.status not in ON_AIR:
                if joining:
                    raise ApiError(
                        409, "not_live", f"stream {stream_id} is {stream.status}, not live"
                    )
                return Audience(False, 0, stream.peak_viewers)
            since = time.perf_counter()
            move = change.join if joining else change.leave
            audience = Audience(*await move(stream_id, user_id))
            if audience.changed:
                kind = "viewer.joined" if joining else "viewer.left"
                await change.tell(
                    event(kind, stream_id, user_id=str(user_id), viewer_count=audience.viewers)
                )
                await self.viewers.counted(stream_id, user_id, audience, joined=joining)
        if audience.changed:
            self.relay.wake.set()
            (self.metrics.viewer_joins if joining else self.metrics.viewer_leaves).inc()
            self._count_changed(stream_id, audience, since)
        return audience

    def _tell_room(
        self, stream_id: uuid.UUID, name: str, moment: datetime | None, since: float
    ) -> None:
        timestamp = rfc3339(moment or now())
        self.hub.broadcast(
            stream_id, name, {"stream_id": str(stream_id), "timestamp": timestamp}, since
        )

    def _count_changed(self, stream_id: uuid.UUID, audience: Audience, since: float) -> None:
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


async def owned(change: Changes, stream_id: uuid.UUID, user_id: uuid.UUID, what: str) -> Stream:
    """The stream, locked for the change, if `user_id` created it: 404 if there is no such
    stream, 403 for anyone else."""
    stream = await change.stream(stream_id)
    if stream is None:
        raise ApiError(404, "not_found", f"no stream {stream_id}")
    if stream.creator_id != user_id:
        raise ApiError(403, "forbidden", f"only the stream's creator may {what} it")
    return stream
