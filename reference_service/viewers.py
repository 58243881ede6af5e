"""Redis: who watches which stream on air, the count and the peak, the sets of live and of
interrupted streams (an interrupted stream keeps its audience until it resumes or ends).

Redis is a projection of PostgreSQL (store.py), written inside each change's transaction: if
Redis fails the change is rolled back and the client is told 503, so nothing is half applied.
A Redis that restarts empty (no `PROJECTED` marker) or missed a write is rebuilt from
PostgreSQL by `Projection.keep_rebuilt`, within a second of answering again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from reference_service.domain import INTERRUPTED

log = logging.getLogger(__name__)

ACTIVE_STREAMS = "streams:active"
INTERRUPTED_STREAMS = "streams:interrupted"
PROJECTED = "nova:projected"  # set by the last rebuild; gone when Redis restarts empty
REBUILD_EVERY = 0.5


@dataclass(frozen=True)
class Audience:
    changed: bool
    viewers: int
    peak: int


def keys(stream_id: uuid.UUID) -> list[str]:
    return [
        f"stream:{stream_id}:members",
        f"stream:{stream_id}:viewers",
        f"stream:{stream_id}:peak",
    ]


class Viewers:
    def __init__(self, client: Redis) -> None:
        self.client = client
        self.stale = True  # a write may have failed half-way: rebuild at the next chance

    async def open(self, stream_id: uuid.UUID) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            queue_projection(pipe, stream_id, [], 0)
            await self._run(pipe.execute)

    async def interrupted(self, stream_id: uuid.UUID, *, interrupted: bool) -> None:
        """The stream lost its publisher (or got it back): it moves between the two sets, its
        audience stays."""
        to, away = (
            (INTERRUPTED_STREAMS, ACTIVE_STREAMS)
            if interrupted
            else (ACTIVE_STREAMS, INTERRUPTED_STREAMS)
        )
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.srem(away, str(stream_id))
            pipe.sadd(to, str(stream_id))
            await self._run(pipe.execute)

    async def close(self, stream_id: uuid.UUID) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(*keys(stream_id))
            pipe.srem(ACTIVE_STREAMS, str(stream_id))
            pipe.srem(INTERRUPTED_STREAMS, str(stream_id))
            await self._run(pipe.execute)

    async def counted(
        self, stream_id: uuid.UUID, user_id: uuid.UUID, audience: Audience, *, joined: bool
    ) -> None:
        """A viewer joined or left: the members, the count and the peak as PostgreSQL has them."""
        members, viewers, peak = keys(stream_id)
        async with self.client.pipeline(transaction=True) as pipe:
            if joined:
                pipe.sadd(members, str(user_id))
            else:
                pipe.srem(members, str(user_id))
            pipe.set(viewers, audience.viewers)
            pipe.set(peak, audience.peak)
            await self._run(pipe.execute)

    async def audience(self, stream_id: uuid.UUID) -> Audience:
        _, viewers, peak = keys(stream_id)
        count, top = await self.client.mget(viewers, peak)
        return Audience(False, int(count or 0), int(top or 0))

    async def active_streams(self) -> list[str]:
        return await self._members(ACTIVE_STREAMS)

    async def interrupted_streams(self) -> list[str]:
        return await self._members(INTERRUPTED_STREAMS)

    async def _members(self, key: str) -> list[str]:
        # The client decodes responses (decode_responses=True): members are str.
        return sorted(str(member) for member in await self.client.smembers(key))

    async def on_air(self) -> list[str]:
        return await self.active_streams() + await self.interrupted_streams()

    async def total_viewers(self) -> int:
        """Viewers of every stream on air: an interrupted stream's stay counted."""
        on_air = await self.on_air()
        if not on_air:
            return 0
        counts = await self.client.mget([f"stream:{stream_id}:viewers" for stream_id in on_air])
        return sum(int(count or 0) for count in counts)

    async def rebuild(self, audiences: list[tuple[uuid.UUID, list[str], int, str]]) -> None:
        """Make Redis say what PostgreSQL says: every stream on air, its viewers and peak."""
        on_air = {str(stream_id) for stream_id, *_ in audiences}
        stale = set(await self.on_air()) - on_air
        async with self.client.pipeline(transaction=True) as pipe:
            for gone in stale:
                pipe.delete(*keys(uuid.UUID(gone)))
            pipe.delete(ACTIVE_STREAMS, INTERRUPTED_STREAMS)
            for stream_id, members, peak, status in audiences:
                queue_projection(pipe, stream_id, members, peak, interrupted=status == INTERRUPTED)
            pipe.set(PROJECTED, "1")
            await pipe.execute()
        self.stale = False

    async def needs_rebuild(self) -> bool:
        return self.stale or not await self.client.exists(PROJECTED)

    async def _run(self, execute: Callable[[], Awaitable[object]]) -> None:
        try:
            await execute()
        except RedisError:
            self.stale = True
            raise


def queue_projection(
    pipe: Pipeline,
    stream_id: uuid.UUID,
    members: list[str],
    peak: int,
    *,
    interrupted: bool = False,
) -> None:
    """A stream on air's keys as PostgreSQL has them, queued on a MULTI pipeline."""
    member_key, viewers_key, peak_key = keys(stream_id)
    pipe.delete(member_key)
    if members:
        pipe.sadd(member_key, *members)
    pipe.set(viewers_key, len(members))
    pipe.set(peak_key, peak)
    pipe.sadd(INTERRUPTED_STREAMS if interrupted else ACTIVE_STREAMS, str(stream_id))


async def keep_rebuilt(
    viewers: Viewers,
    audiences: Callable[[], Awaitable[list[tuple[uuid.UUID, list[str], int, str]]]],
    exclusive: Callable[[], AbstractAsyncContextManager[None]],
) -> None:
    """Rebuild Redis from PostgreSQL whenever it lost what it held (checked twice a second),
    with no change running meanwhile (`exclusive`)."""
    while True:
        try:
            if await viewers.needs_rebuild():
                async with exclusive():
                    await viewers.rebuild(await audiences())
                log.info("rebuilt the viewer counts in Redis from PostgreSQL")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # Redis or PostgreSQL is down: try again
            log.debug("cannot rebuild the viewer counts yet: %r", error)
        await asyncio.sleep(REBUILD_EVERY)
