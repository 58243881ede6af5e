"""Where the suite points: every endpoint of the system under test, in one frozen object.

Precedence per endpoint: behave userdata (`-D api_url=...`) > environment (`NOVA_API_URL`) >
nothing. Nothing configured at all means the embedded stack; a partial configuration is an error
that names what is missing, because a suite half pointed at staging judges nothing.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
from clickhouse_driver import errors as clickhouse_errors
from confluent_kafka.admin import AdminClient

from support.rtmp.client import Connected, RtmpPublisher
from support.stores.clickhouse import clickhouse_client

PROBE_TIMEOUT = 3.0


class TargetError(RuntimeError):
    """The target is misconfigured or one of its endpoints does not answer."""


@dataclass(frozen=True)
class Target:
    kind: str
    api_url: str
    rtmp_url: str
    hls_url: str
    metrics_url: str
    pg_dsn: str
    redis_url: str
    kafka_bootstrap: str
    clickhouse_url: str
    jwt_private_key: str

    def describe(self) -> str:
        """What was resolved, one endpoint a line, without secrets."""
        lines = [f"target: {self.kind}"]
        for field in fields(self):
            if field.name not in ("kind", "jwt_private_key"):
                lines.append(f"  {field.name:<16} {redact(getattr(self, field.name))}")
        return "\n".join(lines)


ENDPOINTS = tuple(f.name for f in fields(Target) if f.name not in ("kind", "jwt_private_key"))


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def env_name(endpoint: str) -> str:
    return f"NOVA_{endpoint.upper()}"


def configured(userdata: Mapping[str, str], environ: Mapping[str, str]) -> Target | None:
    """The external target the user configured, or None for the embedded stack."""
    values = {}
    for name in (*ENDPOINTS, "jwt_private_key", "jwt_private_key_file"):
        value = userdata.get(name) or environ.get(env_name(name))
        if value:
            values[name] = value
    if not values:
        return None
    if "jwt_private_key_file" in values:
        path = Path(values.pop("jwt_private_key_file"))
        try:
            values["jwt_private_key"] = path.read_text()
        except OSError as error:
            raise TargetError(f"cannot read the JWT signing key at {path}: {error}") from None
    missing = [name for name in (*ENDPOINTS, "jwt_private_key") if name not in values]
    if missing:
        wanted = ", ".join(
            f"{name} ({env_name(name)}"
            + (f" or {env_name('jwt_private_key_file')})" if name == "jwt_private_key" else ")")
            for name in missing
        )
        raise TargetError(
            f"an external target needs every endpoint; missing: {wanted}. "
            "Configure none of them to run against the embedded stack."
        )
    return Target(kind="external", **values)


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


def check_stream_urls(target: Target, publish_url: str, hls_url: str) -> None:
    """The service hands out addresses on the endpoints the suite was given, or it would judge
    servers other than the ones it probed (a staging service pointing at production ingest)."""
    wrong = [
        f"{what} {redact(given)} is not under the configured {name} {redact(base)}"
        for what, given, name, base in (
            ("publish_url", publish_url, "rtmp_url", target.rtmp_url),
            ("hls_url", hls_url, "hls_url", target.hls_url),
        )
        if not under(given, base)
    ]
    if wrong:
        raise TargetError(
            "the service and the suite disagree about the endpoints: "
            + "; ".join(wrong)
            + ". Configure the endpoints the service hands out (or fix the service's own)."
        )


def under(url: str, base: str) -> bool:
    """`url` lives under `base`: same scheme, host and port (defaults filled in), path below."""
    defaults = {"rtmp": 1935, "http": 80, "https": 443}

    def where(address: str) -> tuple[str, str, int | None]:
        parts = urlsplit(address)
        return parts.scheme, (parts.hostname or ""), parts.port or defaults.get(parts.scheme)

    path, base_path = urlsplit(url).path, urlsplit(base).path.rstrip("/")
    return where(url) == where(base) and path.startswith(base_path + "/")
