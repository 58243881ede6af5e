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

from reference_service.domain import (
    ENDED,
    INTERRUPTED,
    LIVE,
    ON_AIR,
    PREPARING,
    NewStream,
    Stream,
    new_stream_key,
)

log = logging.getLogger(__name__)

# Any constant: it only has to be the same for every instance of the service.
MIGRATION_LOCK = 0x4E4F5641
POOL_TIMEOUT = 2.0  # waiting longer for a connection than this is an outage: 503

COLUMNS = (
    "id, creator_id, title, description, category, stream_key, status, publisher_id, "
    "peak_viewers, created_at, started_at, ended_at, reconnect_window_seconds, interrupted_at, "
    "interrupted_seconds"
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
# When a live stream's publisher went away: now, or if the end was missed (a parameter), when
# the ingest last reported it.
GONE_AT = (
    f"CASE WHEN %s THEN coalesce((SELECT {LAST_SEEN} FROM reports r WHERE r.stream_id = s.id), "
    "s.last_seen_at, now()) ELSE now() END"
)


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

    async def set_window(self, stream_id: uuid.UUID, seconds: int) -> Stream | None:
        """A new reconnect window for a stream that has not ended; None if it has."""
        return await one(
            self.connection,
            f"UPDATE streams SET reconnect_window_seconds = %s WHERE id = %s AND status <> %s "
            f"RETURNING {COLUMNS}",
            (seconds, stream_id, ENDED),
        )

    async def resume(self, stream_id: uuid.UUID, publisher_id: str | None) -> Stream | None:
        """interrupted -> live, its gap added to the interruptions; None if it was not
        interrupted or its reconnect window has run out (by the database's clock)."""
        return await one(
            self.connection,
            f"UPDATE streams SET status = %s, publisher_id = %s, last_seen_at = now(), "
            f"interrupted_seconds = interrupted_seconds + "
            f"extract(epoch FROM now() - interrupted_at)::float8, interrupted_at = NULL "
            f"WHERE id = %s AND status = %s "
            f"AND now() < interrupted_at + make_interval(secs => reconnect_window_seconds) "
            f"RETURNING {COLUMNS}",
            (LIVE, publisher_id, stream_id, INTERRUPTED),
        )

    async def interrupt(self, stream_id: uuid.UUID, *, missed: bool = False) -> Stream | None:
        """live -> interrupted: its publisher went away (dated as `end` dates it), its viewers
        stay. None if it was not live."""
        return await one(
            self.connection,
            f"UPDATE streams s SET status = %s, publisher_id = NULL, interrupted_at = {GONE_AT} "
            f"WHERE id = %s AND status = %s RETURNING {COLUMNS}",
            (INTERRUPTED, missed, stream_id, LIVE),
        )

    async def end(self, stream_id: uuid.UUID, *, missed: bool = False) -> Stream | None:
        """live or interrupted -> ended, its viewers let go; the peak stays. None if it was
        neither. A missed end is dated when the ingest last reported the publisher, not when it
        was noticed; an interrupted stream's, when its publisher went away."""
        await self.connection.execute("DELETE FROM viewers WHERE stream_id = %s", (stream_id,))
        return await one(
            self.connection,
            f"UPDATE streams s SET status = %s, ended_at = coalesce(s.interrupted_at, {GONE_AT}) "
            f"WHERE id = %s AND status = ANY(%s) RETURNING {COLUMNS}",
            (ENDED, missed, stream_id, list(ON_AIR)),
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
                f"INSERT INTO streams (id, creator_id, title, description, category, stream_key, "
                f"reconnect_window_seconds) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                f"RETURNING {COLUMNS}",
                (uuid.uuid4(), creator_id, new.title, new.description, new.category,
                 new_stream_key(), new.reconnect_window_seconds),
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

    async def audiences(self) -> list[tuple[uuid.UUID, list[str], int, str]]:
        """Every stream on air with its viewers, peak and status: what Redis is rebuilt from."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT s.id, coalesce(array_agg(v.user_id::text) "
                "FILTER (WHERE v.user_id IS NOT NULL), '{}'), s.peak_viewers, s.status "
                "FROM streams s LEFT JOIN viewers v ON v.stream_id = s.id "
                "WHERE s.status = ANY(%s) GROUP BY s.id",
                (list(ON_AIR),),
            )
            return [
                (row[0], list(row[1]), int(row[2]), str(row[3])) for row in await cursor.fetchall()
            ]

    async def seen(self, stream_id: uuid.UUID, publisher_id: str | None) -> str:
        """The ingest says the stream's publisher is still there: `live` (noted), `waiting`
        (the stream is preparing or interrupted: its publish is still being decided) or `gone`.
        Neither the read nor the note waits for a change that holds the stream's row."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT status, publisher_id FROM streams WHERE id = %s", (stream_id,)
            )
            row = await cursor.fetchone()
            if row is None or row[0] == ENDED or (row[0] == LIVE and row[1] != publisher_id):
                return "gone"
            if row[0] in (PREPARING, INTERRUPTED):
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

    async def out_of_window(self) -> list[tuple[uuid.UUID, datetime]]:
        """Interrupted streams whose reconnect window has run out (their publisher is not
        back), with when they were interrupted."""
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT id, interrupted_at FROM streams WHERE status = %s "
                "AND now() >= interrupted_at + make_interval(secs => reconnect_window_seconds)",
                (INTERRUPTED,),
            )
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def interrupted(self) -> list[uuid.UUID]:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT id FROM streams WHERE status = %s", (INTERRUPTED,)
            )
            return [row[0] for row in await cursor.fetchall()]

    async def ping(self) -> None:
        async with self.pool.connection() as connection:
            await connection.execute("SELECT 1")
