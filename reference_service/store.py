"""PostgreSQL: the schema migrations and the streams table."""

from __future__ import annotations

import logging
import uuid
from importlib import resources
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from reference_service.domain import ENDED, LIVE, PREPARING, NewStream, Stream, new_stream_key

log = logging.getLogger(__name__)

# Any constant: it only has to be the same for every instance of the service.
MIGRATION_LOCK = 0x4E4F5641

COLUMNS = (
    "id, creator_id, title, description, category, stream_key, status, publisher_id, "
    "peak_viewers, created_at, started_at, ended_at"
)


async def open_pool(dsn: str) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(dsn, min_size=1, max_size=10, open=False, timeout=5.0)
    await pool.open(wait=True, timeout=10.0)
    return pool


async def migrate(pool: AsyncConnectionPool) -> list[str]:
    """Apply pending migrations in name order, under a lock; safe on every start."""
    scripts = sorted(
        (entry.name, entry.read_text())
        for entry in resources.files("reference_service").joinpath("migrations").iterdir()
        if entry.name.endswith(".sql")
    )
    applied_now = []
    async with pool.connection() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await connection.execute("SELECT name FROM schema_migrations")
        done = {row[0] for row in await cursor.fetchall()}
        for name, sql in scripts:
            if name in done:
                continue
            await connection.execute(sql)
            await connection.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            applied_now.append(name)
    if applied_now:
        log.info("applied migrations %s", applied_now)
    return applied_now


class Streams:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Stream | None:
        async with self.pool.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(sql, params)
            row = await cursor.fetchone()
        return Stream(**row) if row else None

    async def create(self, creator_id: uuid.UUID, new: NewStream) -> Stream:
        stream = await self._one(
            f"INSERT INTO streams (id, creator_id, title, description, category, stream_key) "
            f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
            (uuid.uuid4(), creator_id, new.title, new.description, new.category, new_stream_key()),
        )
        assert stream is not None
        return stream

    async def get(self, stream_id: uuid.UUID) -> Stream | None:
        return await self._one(f"SELECT {COLUMNS} FROM streams WHERE id = %s", (stream_id,))

    async def with_status(self, status: str, limit: int = 100) -> list[Stream]:
        async with self.pool.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(
                f"SELECT {COLUMNS} FROM streams WHERE status = %s "
                "ORDER BY created_at DESC LIMIT %s",
                (status, limit),
            )
            return [Stream(**row) for row in await cursor.fetchall()]

    async def go_live(self, stream_id: uuid.UUID, publisher_id: str | None) -> Stream | None:
        """preparing -> live; None if the stream was not preparing (a concurrent publish won)."""
        return await self._one(
            f"UPDATE streams SET status = %s, started_at = now(), publisher_id = %s "
            f"WHERE id = %s AND status = %s RETURNING {COLUMNS}",
            (LIVE, publisher_id, stream_id, PREPARING),
        )

    async def end(self, stream_id: uuid.UUID, peak_viewers: int) -> Stream | None:
        """live -> ended with the peak; None if the stream was not live."""
        return await self._one(
            f"UPDATE streams SET status = %s, ended_at = now(), peak_viewers = %s "
            f"WHERE id = %s AND status = %s RETURNING {COLUMNS}",
            (ENDED, peak_viewers, stream_id, LIVE),
        )

    async def ping(self) -> None:
        async with self.pool.connection() as connection:
            await connection.execute("SELECT 1")
