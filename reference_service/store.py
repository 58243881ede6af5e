"""PostgreSQL: the schema migrations, the streams, their live viewers and the event outbox.

PostgreSQL is the platform's durable truth. A change and the event that tells of it are written
in one transaction (`Changes`); Redis only projects what is here and can be rebuilt from it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from reference_service.domain import ENDED, LIVE, PREPARING, NewStream, Stream, new_stream_key

log = logging.getLogger(__name__)

# Any constant: it only has to be the same for every instance of the service.
MIGRATION_LOCK = 0x4E4F5641
POOL_TIMEOUT = 2.0  # waiting longer for a connection than this is an outage: 503

COLUMNS = (
    "id, creator_id, title, description, category, stream_key, status, publisher_id, "
    "peak_viewers, created_at, started_at, ended_at"
)


RECONNECT_TIMEOUT = 2.0


async def open_pool(dsn: str) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        dsn,
        min_size=1,
        max_size=10,
        open=False,
        timeout=POOL_TIMEOUT,
        check=AsyncConnectionPool.check_connection,
        # The pool's own reconnection backs off exponentially (1, 2, 4, 8 s...): after an 8 s
        # outage it answered 503 for 7 s more. Giving up after 2 s lets each request that finds
        # no connection try one at once, so the service is back when PostgreSQL is.
        reconnect_timeout=RECONNECT_TIMEOUT,
    )
    await pool.open(wait=True, timeout=10.0)
    return pool


# The ingest's last word on a live stream: its go-live (streams) or its latest report (reports).
LAST_SEEN = "greatest(s.last_seen_at, r.seen_at)"


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


async def one(connection: AsyncConnection[Any], sql: str, params: tuple[Any, ...]) -> Stream | None:
    cursor = connection.cursor(row_factory=dict_row)
    await cursor.execute(sql, params)
    row = await cursor.fetchone()
    return Stream(**row) if row else None


class Changes:
    """One transaction: the stream locked, its change, and the events that tell of it."""

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self.connection = connection

    async def stream(self, stream_id: uuid.UUID) -> Stream | None:
        """The stream, locked until the transaction ends (one change per stream at a time)."""
        return await one(
            self.connection, f"SELECT {COLUMNS} FROM streams WHERE id = %s FOR UPDATE", (stream_id,)
        )

    async def go_live(self, stream_id: uuid.UUID, publisher_id: str | None) -> Stream | None:
        """preparing -> live; None if the stream was not preparing."""
        return await one(
            self.connection,
            f"UPDATE streams SET status = %s, started_at = now(), last_seen_at = now(), "
            f"publisher_id = %s WHERE id = %s AND status = %s RETURNING {COLUMNS}",
            (LIVE, publisher_id, stream_id, PREPARING),
        )

    async def end(self, stream_id: uuid.UUID, *, missed: bool = False) -> Stream | None:
        """live -> ended, its viewers let go; the peak stays. None if it was not live. A missed
        end is dated when the ingest last reported the publisher, not when it was noticed."""
        await self.connection.execute("DELETE FROM viewers WHERE stream_id = %s", (stream_id,))
        return await one(
            self.connection,
            f"UPDATE streams s SET status = %s, ended_at = CASE WHEN %s THEN coalesce("
            f"(SELECT {LAST_SEEN} FROM reports r WHERE r.stream_id = s.id), s.last_seen_at, "
            f"now()) ELSE now() END WHERE id = %s AND status = %s RETURNING {COLUMNS}",
            (ENDED, missed, stream_id, LIVE),
        )

    async def join(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> tuple[bool, int, int]:
        """(whether the viewer is new, the count, the peak), the peak raised if need be."""
        cursor = await self.connection.execute(
            "INSERT INTO viewers (stream_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (stream_id, user_id),
        )
        return (cursor.rowcount == 1, *await self._audience(stream_id))

    async def leave(self, stream_id: uuid.UUID, user_id: uuid.UUID) -> tuple[bool, int, int]:
        cursor = await self.connection.execute(
            "DELETE FROM viewers WHERE stream_id = %s AND user_id = %s", (stream_id, user_id)
        )
        return (cursor.rowcount == 1, *await self._audience(stream_id))

    async def _audience(self, stream_id: uuid.UUID) -> tuple[int, int]:
        cursor = await self.connection.execute(
            "UPDATE streams SET peak_viewers = GREATEST(peak_viewers, "
            "(SELECT count(*) FROM viewers WHERE stream_id = %s)) WHERE id = %s "
            "RETURNING (SELECT count(*) FROM viewers WHERE stream_id = %s), peak_viewers",
            (stream_id, stream_id, stream_id),
        )
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    async def tell(self, event: dict[str, Any]) -> None:
        """The event, into the outbox: published once this transaction commits (outbox.py)."""
        await self.connection.execute(
            "INSERT INTO outbox (event_id, stream_id, payload) VALUES (%s, %s, %s)",
            (event["event_id"], event["stream_id"], json.dumps(event, separators=(",", ":"))),
        )


class Streams:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def changing(self) -> AsyncIterator[Changes]:
        """A transaction: committed if the block ends normally, rolled back if it raises."""
        async with self.pool.connection() as connection, connection.transaction():
            yield Changes(connection)

    async def create(self, creator_id: uuid.UUID, new: NewStream) -> Stream:
        async with self.pool.connection() as connection:
            stream = await one(
                connection,
                f"INSERT INTO streams (id, creator_id, title, description, category, stream_key) "
                f"VALUES (%s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
                (uuid.uuid4(), creator_id, new.title, new.description, new.category,
                 new_stream_key()),
            )  # fmt: skip
        assert stream is not None
        return stream

    async def get(self, stream_id: uuid.UUID) -> Stream | None:
        async with self.pool.connection() as connection:
            return await one(
                connection, f"SELECT {COLUMNS} FROM streams WHERE id = %s", (stream_id,)
            )

    async def with_status(
        self, status: str, limit: int, after: tuple[datetime, uuid.UUID] | None = None
    ) -> list[Stream]:
        """A page of streams with a status, newest first; `after` is the (created_at, id) of the
        last stream of the previous page (keyset paging: no stream twice, none skipped)."""
        since = "AND (created_at, id) < (%s, %s) " if after else ""
        async with self.pool.connection() as connection:
            cursor = connection.cursor(row_factory=dict_row)
            await cursor.execute(
                f"SELECT {COLUMNS} FROM streams WHERE status = %s {since}"
                "ORDER BY created_at DESC, id DESC LIMIT %s",
                (status, *(after or ()), limit),
            )
            return [Stream(**row) for row in await cursor.fetchall()]

    async def audiences(self) -> list[tuple[uuid.UUID, list[str], int]]:
        """Every live stream with its viewers and peak: what Redis is rebuilt from."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT s.id, coalesce(array_agg(v.user_id::text) "
                "FILTER (WHERE v.user_id IS NOT NULL), '{}'), s.peak_viewers "
                "FROM streams s LEFT JOIN viewers v ON v.stream_id = s.id "
                "WHERE s.status = %s GROUP BY s.id",
                (LIVE,),
            )
            return [(row[0], list(row[1]), int(row[2])) for row in await cursor.fetchall()]

    async def seen(self, stream_id: uuid.UUID, publisher_id: str | None) -> str:
        """The ingest says the stream's publisher is still there: `live` (noted), `waiting`
        (the stream is preparing: its publish is still being decided) or `gone`. Neither the
        read nor the note waits for a change that holds the stream's row."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT status, publisher_id FROM streams WHERE id = %s", (stream_id,)
            )
            row = await cursor.fetchone()
            if row is None or row[0] == ENDED or (row[0] == LIVE and row[1] != publisher_id):
                return "gone"
            if row[0] == PREPARING:
                return "waiting"
            await connection.execute(
                "INSERT INTO reports (stream_id, seen_at) VALUES (%s, now()) "
                "ON CONFLICT (stream_id) DO UPDATE SET seen_at = excluded.seen_at",
                (stream_id,),
            )
            return "live"

    async def unseen_since(self, seconds: float) -> list[uuid.UUID]:
        """Live streams the ingest has not mentioned for `seconds`: their publisher is gone."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                f"SELECT s.id FROM streams s LEFT JOIN reports r ON r.stream_id = s.id "
                f"WHERE s.status = %s AND {LAST_SEEN} < now() - make_interval(secs => %s)",
                (LIVE, seconds),
            )
            return [row[0] for row in await cursor.fetchall()]

    async def ping(self) -> None:
        async with self.pool.connection() as connection:
            await connection.execute("SELECT 1")
