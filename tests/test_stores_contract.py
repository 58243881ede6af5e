"""The stores hold what the contract names (docs/contract/stores.json), and the checkers read
nothing else: another deployment is judged on these names alone."""

from __future__ import annotations

import re

import psycopg
import pytest

from support.core.contract import stores
from support.core.target import Target
from support.stores.clickhouse import SUMMARY, clickhouse_client
from support.stores.postgres import stream_query


def test_the_postgres_query_reads_only_the_contracts_table_and_columns() -> None:
    names = stores()["postgres"]
    text = stream_query().as_string(None)
    quoted = set(re.findall(r'"([^"]+)"', text))
    assert quoted == {names["table"], *names["columns"]}


def test_the_clickhouse_summary_reads_only_the_contracts_columns() -> None:
    without_strings = re.sub(r"'[^']*'|%\(\w+\)s", "", SUMMARY)
    functions = {"SELECT", "FROM", "WHERE", "AS", "uniqExactIf", "maxIf", "uniqExact", "table"}
    aliases = {"starts", "ends", "joins", "leaves", "peak", "interruptions", "resumes", "events"}
    words = set(re.findall(r"[A-Za-z_]+", without_strings)) - functions - aliases
    assert words == set(stores()["clickhouse"]["columns"])


@pytest.mark.stack
def test_the_reference_service_keeps_the_postgres_table_the_contract_names(target: Target) -> None:
    names = stores()["postgres"]
    with psycopg.connect(target.pg_dsn) as connection:
        rows = connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
            (names["table"],),
        ).fetchall()
    assert set(names["columns"]) <= {row[0] for row in rows}


@pytest.mark.stack
def test_the_reference_service_keeps_the_clickhouse_table_the_contract_names(
    target: Target,
) -> None:
    database, _, table = stores()["clickhouse"]["table"].partition(".")
    client = clickhouse_client(target.clickhouse_url, 10)
    try:
        rows = client.execute(
            "SELECT name FROM system.columns WHERE database = %(d)s AND table = %(t)s",
            {"d": database, "t": table},
        )
    finally:
        client.disconnect()
    assert set(stores()["clickhouse"]["columns"]) <= {row[0] for row in rows}
