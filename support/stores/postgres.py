"""PostgreSQL checker: the streams as the platform persisted them.

It reads only the table and columns the contract names (docs/contract/stores.json).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from support.core.contract import stores


def stream_query() -> sql.Composed:
    names = stores()["postgres"]
    return sql.SQL("SELECT {columns} FROM {table} WHERE {key} = %s").format(
        columns=sql.SQL(", ").join(map(sql.Identifier, names["columns"])),
        table=sql.Identifier(names["table"]),
        key=sql.Identifier(names["key"]),
    )


class PostgresChecker:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def stream(self, stream_id: str) -> dict[str, Any] | None:
        with psycopg.connect(self.dsn, connect_timeout=5, row_factory=dict_row) as connection:
            row = connection.execute(stream_query(), (stream_id,)).fetchone()
        return dict(row) if row else None
