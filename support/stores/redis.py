"""Redis checker: live streams and their audiences as the platform counts them."""

from __future__ import annotations

import redis


class RedisChecker:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)

    def is_active(self, stream_id: str) -> bool:
        return bool(self.client.sismember("streams:active", stream_id))

    def viewers(self, stream_id: str) -> int | None:
        value = self.client.get(f"stream:{stream_id}:viewers")
        return None if value is None else int(str(value))

    def peak(self, stream_id: str) -> int | None:
        value = self.client.get(f"stream:{stream_id}:peak")
        return None if value is None else int(str(value))

    def close(self) -> None:
        self.client.close()
