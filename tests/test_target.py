"""Resolving the target: embedded by default, external only when fully configured."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from support.core.target import (
    ENDPOINTS,
    Target,
    TargetError,
    check_stream_urls,
    configured,
    env_name,
)
from support.harness.probes import PROBE_TIMEOUT, clickhouse_answers, probe, rtmp_answers

FULL: dict[str, Any] = {name: f"http://127.0.0.1:9/{name}" for name in ENDPOINTS} | {
    "jwt_private_key": "PEM"
}


def test_nothing_configured_means_the_embedded_stack() -> None:
    assert configured({}, {}) is None


def test_userdata_wins_over_the_environment() -> None:
    environ = {env_name(name): value for name, value in FULL.items()}
    target = configured({"api_url": "https://staging.example/api"}, environ)
    assert target is not None
    assert target.kind == "external"
    assert target.api_url == "https://staging.example/api"
    assert target.redis_url == FULL["redis_url"]


def test_an_external_target_declares_its_delay_bounds_or_has_none() -> None:
    target = configured({**FULL, "playback_delay_bound": "6.5"}, {})
    assert target is not None
    assert target.playback_delay_bound == 6.5
    assert target.segment_delay_bound is None
    assert "playback_delay_bound 6.5 s" in target.describe()
    assert "segment_delay_bound  not declared" in target.describe()


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf", "nan"])
def test_a_delay_bound_that_is_no_duration_is_refused(value: str) -> None:
    with pytest.raises(TargetError, match="NOVA_SEGMENT_DELAY_BOUND must be a positive number"):
        configured({**FULL, "segment_delay_bound": value}, {})


def test_a_partial_configuration_names_what_is_missing() -> None:
    with pytest.raises(TargetError) as refused:
        configured({"api_url": "http://127.0.0.1:8000"}, {})
    assert "NOVA_RTMP_URL" in str(refused.value)
    assert "NOVA_JWT_PRIVATE_KEY" in str(refused.value)


def test_an_unreadable_key_file_is_named(tmp_path: object) -> None:
    with pytest.raises(TargetError, match=r"cannot read the JWT signing key at /nowhere/key\.pem"):
        configured({**FULL, "jwt_private_key_file": "/nowhere/key.pem"}, {})


def test_an_unreachable_target_fails_fast_naming_every_service() -> None:
    target = Target(
        kind="external",
        api_url="http://127.0.0.1:9",
        rtmp_url="rtmp://127.0.0.1:9/live",
        hls_url="http://127.0.0.1:9/hls",
        metrics_url="ftp://127.0.0.1:9/metrics",
        pg_dsn="postgresql://postgres@127.0.0.1:9/postgres",
        redis_url="redis://127.0.0.1:9/0",
        kafka_bootstrap="127.0.0.1:9",
        clickhouse_url="clickhouse://127.0.0.1:9/default",
        jwt_private_key="",
    )
    began = time.monotonic()
    with pytest.raises(TargetError) as refused:
        probe(target)
    assert time.monotonic() - began < 15
    message = str(refused.value)
    for service in ("api", "metrics", "hls", "rtmp", "postgres", "redis", "kafka", "clickhouse"):
        assert f"  {service} at " in message
    assert "expected an http:// or https:// URL, got 'ftp://" in message


def test_the_description_hides_passwords() -> None:
    target = Target(kind="external", **{**FULL, "pg_dsn": "postgresql://nova:s3cret@db/nova"})
    assert "s3cret" not in target.describe()
    assert "PEM" not in target.describe()


EMBEDDED_LIKE = Target(
    "external", "http://api", "rtmp://ingest.example/live", "http://cdn.example/hls",
    "http://api/metrics", "postgresql://db", "redis://r", "k:9092", "clickhouse://c", "PEM",
)  # fmt: skip


@pytest.mark.parametrize(
    ("publish_url", "hls_url"),
    [
        ("rtmp://ingest.example/live/s1?key=k", "http://cdn.example/hls/s1/index.m3u8"),
        ("rtmp://ingest.example:1935/live/s1?key=k", "http://cdn.example:80/hls/s1/index.m3u8"),
    ],
)
def test_addresses_on_the_configured_endpoints_are_accepted(publish_url: str, hls_url: str) -> None:
    check_stream_urls(EMBEDDED_LIKE, publish_url, hls_url)


@pytest.mark.parametrize(
    ("publish_url", "hls_url", "says"),
    [
        ("rtmp://prod-ingest/live/s1?key=k", "http://cdn.example/hls/s1/index.m3u8",
         "publish_url rtmp://prod-ingest/live/s1?key=k is not under the configured rtmp_url"),
        ("rtmp://ingest.example:1936/live/s1", "http://cdn.example/hls/s1/index.m3u8", "rtmp_url"),
        ("rtmp://ingest.example/other/s1", "http://cdn.example/hls/s1/index.m3u8", "rtmp_url"),
        ("rtmp://ingest.example/live/s1", "https://cdn.example/hls/s1/index.m3u8", "hls_url"),
    ],
)  # fmt: skip
def test_addresses_elsewhere_are_a_configuration_error(
    publish_url: str, hls_url: str, says: str
) -> None:
    with pytest.raises(TargetError, match="the service and the suite disagree") as error:
        check_stream_urls(EMBEDDED_LIKE, publish_url, hls_url)
    assert says in str(error.value)


def silent_server() -> tuple[socket.socket, int]:
    """Accepts connections (the kernel's backlog does) and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    return server, server.getsockname()[1]


@pytest.mark.parametrize(
    ("answers", "url"),
    [
        (rtmp_answers, "rtmp://127.0.0.1:{port}/live"),
        (clickhouse_answers, "clickhouse://127.0.0.1:{port}/default"),
    ],
)
def test_an_endpoint_that_accepts_and_never_answers_fails_the_probe_in_seconds(
    answers: Callable[[str], None], url: str
) -> None:
    server, port = silent_server()
    began = time.monotonic()
    with server, pytest.raises(TargetError, match=r"accepted the (TCP )?connection but did not"):
        answers(url.format(port=port))
    assert time.monotonic() - began < PROBE_TIMEOUT * 2


def test_an_http_server_on_the_rtmp_port_is_not_an_rtmp_server() -> None:
    """A TCP connect would pass; the RTMP handshake shows it is something else."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(TargetError, match="no RTMP server answered connect: ProtocolViolation"):
            rtmp_answers(f"rtmp://127.0.0.1:{server.server_address[1]}/live")
    finally:
        server.shutdown()
        server.server_close()
