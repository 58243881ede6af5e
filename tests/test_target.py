"""Resolving the target: embedded by default, external only when fully configured."""

from __future__ import annotations

import time

import pytest

from support.target import ENDPOINTS, Target, TargetError, configured, env_name, probe

FULL = {name: f"http://127.0.0.1:9/{name}" for name in ENDPOINTS} | {"jwt_private_key": "PEM"}


def test_nothing_configured_means_the_embedded_stack() -> None:
    assert configured({}, {}) is None


def test_userdata_wins_over_the_environment() -> None:
    environ = {env_name(name): value for name, value in FULL.items()}
    target = configured({"api_url": "https://staging.example/api"}, environ)
    assert target is not None
    assert target.kind == "external"
    assert target.api_url == "https://staging.example/api"
    assert target.redis_url == FULL["redis_url"]


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
