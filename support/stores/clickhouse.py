"""ClickHouse checker: per-stream aggregates of the analytics, as other teams would query them.

Counts distinct event ids, so an event the consumer stored twice after a restart (it delivers
at least once) counts once. Runs on ClickHouse 18.16 and current releases alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clickhouse_driver import Client

from support.core.contract import stores

SUMMARY = """
SELECT
    uniqExactIf(event_id, event_type = 'stream.started') AS starts,
    uniqExactIf(event_id, event_type = 'stream.ended') AS ends,
    uniqExactIf(event_id, event_type = 'viewer.joined') AS joins,
    uniqExactIf(event_id, event_type = 'viewer.left') AS leaves,
    maxIf(peak_viewers, event_type = 'stream.ended') AS peak,
    uniqExactIf(event_id, event_type = 'stream.interrupted') AS interruptions,
    uniqExactIf(event_id, event_type = 'stream.resumed') AS resumes,
    uniqExact(event_id) AS events
FROM {table}
WHERE stream_id = %(stream_id)s
"""

EVENT_IDS = "SELECT DISTINCT stream_id, event_id FROM {table} WHERE stream_id IN %(ids)s"

# Rows with a secret in a column the contract names.
HOLDING = """
SELECT count() FROM {table}
WHERE position(concat(event_id, event_type, stream_id, toString(peak_viewers)), %(secret)s) > 0
"""


def summary_query() -> str:
    """The per-stream aggregates, over the table the contract names (its columns are fixed)."""
    return SUMMARY.format(table=stores()["clickhouse"]["table"])


@dataclass(frozen=True)
class StreamAnalytics:
    starts: int
    ends: int
    joins: int
    leaves: int
    peak: int
    interruptions: int
    resumes: int
    events: int

    def describe(self) -> str:
        return (
            f"{self.starts} started, {self.ends} ended, {self.joins} joins, {self.leaves} leaves, "
            f"peak {self.peak}, {self.interruptions} interruptions, {self.resumes} resumes, "
            f"{self.events} events in all"
        )


QUERY_TIMEOUT = 10.0


def clickhouse_client(url: str, timeout: float) -> Client:
    """A client that gives up after `timeout` s at every stage (the driver waits 300 s to read)."""
    client = Client.from_url(url)
    client.connection.connect_timeout = timeout
    client.connection.send_receive_timeout = timeout
    client.connection.sync_request_timeout = timeout
    return client


class ClickHouseChecker:
    def __init__(self, url: str) -> None:
        self.url = url

    def stream(self, stream_id: str) -> StreamAnalytics:
        row = self._first_row(summary_query(), {"stream_id": stream_id})
        return StreamAnalytics(*(int(value) for value in row))

    def event_ids(self, stream_ids: set[str]) -> dict[str, set[str]]:
        """The ids of the events held for each of the streams (a row stored twice counts once)."""
        query = EVENT_IDS.format(table=stores()["clickhouse"]["table"])
        client = clickhouse_client(self.url, QUERY_TIMEOUT)
        try:
            rows = client.execute(query, {"ids": tuple(sorted(stream_ids))})
        finally:
            client.disconnect()
        found: dict[str, set[str]] = {stream: set() for stream in stream_ids}
        for stream, event_id in rows:
            found.setdefault(str(stream), set()).add(str(event_id))
        return found

    def rows_holding(self, secret: str) -> int:
        """How many rows hold `secret` in a column the contract names."""
        query = HOLDING.format(table=stores()["clickhouse"]["table"])
        return int(self._first_row(query, {"secret": secret})[0])

    def _first_row(self, query: str, params: dict[str, str]) -> tuple[Any, ...]:
        client = clickhouse_client(self.url, QUERY_TIMEOUT)
        try:
            rows = client.execute(query, params)
        finally:
            client.disconnect()
        return tuple(rows[0])
