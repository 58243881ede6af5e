"""Redis checker: live streams and their audiences as the platform counts them.

The keys are the contract's (docs/contract/stores.json).
"""

from __future__ import annotations

import redis

from support.core.contract import stores


class RedisChecker:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
        self.keys: dict[str, str] = stores()["redis"]

    def is_active(self, stream_id: str) -> bool:
        return bool(self.client.sismember(self.keys["active_streams"], stream_id))

    def is_interrupted(self, stream_id: str) -> bool:
        return bool(self.client.sismember(self.keys["interrupted_streams"], stream_id))

    def viewers(self, stream_id: str) -> int | None:
        value = self.client.get(self.keys["viewers"].format(stream_id=stream_id))
        return None if value is None else int(str(value))

    def peak(self, stream_id: str) -> int | None:
        value = self.client.get(self.keys["peak"].format(stream_id=stream_id))
        return None if value is None else int(str(value))

    def close(self) -> None:
        self.client.close()
