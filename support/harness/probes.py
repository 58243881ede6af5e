"""The target's endpoints probed before a run: each must answer its own protocol within seconds.

A target that does not answer fails the run at once, naming the service and the URL, instead of
every scenario failing later on a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
import redis
from clickhouse_driver import errors as clickhouse_errors
from confluent_kafka.admin import AdminClient

from support.core.target import Target, TargetError, redact
from support.rtmp.client import RtmpPublisher
from support.rtmp.session import Connected
from support.stores.clickhouse import clickhouse_client

PROBE_TIMEOUT = 3.0


def probe(target: Target) -> None:
    """Fail within seconds, naming the service and URL, if any endpoint does not answer."""
    checks: dict[str, tuple[str, Callable[[], None]]] = {
        "api": (target.api_url, lambda: http_answers(target.api_url.rstrip("/") + "/health")),
        "metrics": (target.metrics_url, lambda: http_answers(target.metrics_url)),
        "hls": (target.hls_url, lambda: http_answers(target.hls_url, any_status=True)),
        "rtmp": (target.rtmp_url, lambda: rtmp_answers(target.rtmp_url)),
        "postgres": (target.pg_dsn, lambda: postgres_answers(target.pg_dsn)),
        "redis": (target.redis_url, lambda: redis_answers(target.redis_url)),
        "kafka": (target.kafka_bootstrap, lambda: kafka_answers(target.kafka_bootstrap)),
        "clickhouse": (target.clickhouse_url, lambda: clickhouse_answers(target.clickhouse_url)),
    }
    failures = []
    for service, (url, check) in checks.items():
        try:
            check()
        except Exception as error:
            failures.append(f"  {service} at {redact(url)}: {error}")
    if failures:
        raise TargetError(f"the {target.kind} target does not answer:\n" + "\n".join(failures))


def http_answers(url: str, *, any_status: bool = False) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise TargetError(f"expected an http:// or https:// URL, got {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        if any_status:
            return
        status = error.code
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise TargetError(f"no HTTP answer ({getattr(error, 'reason', error)})") from None
    if status != 200:
        raise TargetError(f"expected HTTP 200, got {status}")


def rtmp_answers(url: str) -> None:
    """A real RTMP handshake and connect to the application, as an encoder starts."""
    try:
        publisher = RtmpPublisher(f"{url.rstrip('/')}/probe", timeout=PROBE_TIMEOUT)
    except ValueError as error:
        raise TargetError(str(error).replace("stream-name", "stream-name (the app URL)")) from None
    outcome = asyncio.run(publisher.probe())
    if not isinstance(outcome, Connected):
        raise TargetError(
            f"no RTMP server answered connect: {type(outcome).__name__}: {outcome.reason}"
        )


def postgres_answers(dsn: str) -> None:
    with psycopg.connect(dsn, connect_timeout=int(PROBE_TIMEOUT)) as connection:
        connection.execute("SELECT 1")


def redis_answers(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()


def kafka_answers(bootstrap: str) -> None:
    admin = AdminClient(
        # log_level 0: the unreachable broker is reported below, once, not logged every 50 ms.
        {
            "bootstrap.servers": bootstrap,
            "socket.timeout.ms": int(PROBE_TIMEOUT * 1000),
            "log_level": 0,
        }
    )
    try:
        admin.list_topics(timeout=PROBE_TIMEOUT)
    except Exception as error:
        raise TargetError(f"no broker answered ({error})") from None


def clickhouse_answers(url: str) -> None:
    client = clickhouse_client(url, PROBE_TIMEOUT)
    # The driver logs a traceback for a refused connection; the error below says it once.
    driver_log = logging.getLogger("clickhouse_driver.connection")
    driver_log.disabled = True
    try:
        client.execute("SELECT 1")
    except clickhouse_errors.SocketTimeoutError:
        raise TargetError(
            f"accepted the connection but did not answer within {PROBE_TIMEOUT} s"
        ) from None
    finally:
        driver_log.disabled = False
        client.disconnect()
