"""Redis: who watches which live stream, the current count and the peak, the set of live streams."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

ACTIVE_STREAMS = "streams:active"

# Membership decides: a viewer who joins twice is counted once; leaving without having joined
# changes nothing, so the count never goes below zero. Atomic, so the peak is never missed.
JOIN = """
local joined = redis.call('SADD', KEYS[1], ARGV[1])
local count = tonumber(redis.call('GET', KEYS[2]) or '0')
local peak = tonumber(redis.call('GET', KEYS[3]) or '0')
if joined == 1 then
    count = redis.call('INCR', KEYS[2])
    if count > peak then
        peak = count
        redis.call('SET', KEYS[3], peak)
    end
end
return {joined, count, peak}
"""

LEAVE = """
local left = redis.call('SREM', KEYS[1], ARGV[1])
local count = tonumber(redis.call('GET', KEYS[2]) or '0')
if left == 1 then
    count = redis.call('DECR', KEYS[2])
end
return {left, count, tonumber(redis.call('GET', KEYS[3]) or '0')}
"""


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
        self._join = client.register_script(JOIN)
        self._leave = client.register_script(LEAVE)

    async def open(self, stream_id: uuid.UUID) -> None:
        members, viewers, peak = keys(stream_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(members)
            pipe.set(viewers, 0)
            pipe.set(peak, 0)
            pipe.sadd(ACTIVE_STREAMS, str(stream_id))
            await pipe.execute()

    async def close(self, stream_id: uuid.UUID) -> int:
        """Forget the stream's audience; returns its peak, to be kept in PostgreSQL."""
        members, viewers, peak = keys(stream_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(peak)
            pipe.delete(members, viewers, peak)
            pipe.srem(ACTIVE_STREAMS, str(stream_id))
            result = await pipe.execute()
        return int(result[0] or 0)

    async def join(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
        changed, count, peak = await self._join(keys=keys(stream_id), args=[str(user_id)])
        return Audience(bool(changed), int(count), int(peak))

    async def leave(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
        changed, count, peak = await self._leave(keys=keys(stream_id), args=[str(user_id)])
        return Audience(bool(changed), int(count), int(peak))

    async def audience(self, stream_id: uuid.UUID) -> Audience:
        _, viewers, peak = keys(stream_id)
        count, top = await self.client.mget(viewers, peak)
        return Audience(False, int(count or 0), int(top or 0))

    async def active_streams(self) -> list[str]:
        # The client decodes responses (decode_responses=True): members are str.
        return sorted(str(member) for member in await self.client.smembers(ACTIVE_STREAMS))

    async def total_viewers(self) -> int:
        active = await self.active_streams()
        if not active:
            return 0
        counts = await self.client.mget([f"stream:{stream_id}:viewers" for stream_id in active])
        return sum(int(count or 0) for count in counts)
