"""PostgreSQL checker: the streams as the platform persisted them."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row


class PostgresChecker:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def stream(self, stream_id: str) -> dict[str, Any] | None:
        with psycopg.connect(self.dsn, connect_timeout=5, row_factory=dict_row) as connection:
            row = connection.execute(
                "SELECT id, creator_id, status, peak_viewers, started_at, ended_at "
                "FROM streams WHERE id = %s",
                (stream_id,),
            ).fetchone()
        return dict(row) if row else None
