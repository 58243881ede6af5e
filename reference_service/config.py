"""The service's settings, from environment variables (the same names in compose/ and the stack)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(RuntimeError):
    """A required setting is missing or unreadable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    kafka_bootstrap: str
    clickhouse_url: str
    jwt_public_key: str
    webhook_token: str  # what nginx-rtmp presents on every webhook call (?token=)
    public_api_url: str
    public_rtmp_url: str
    public_hls_url: str
    host: str = "0.0.0.0"
    port: int = 8000
    kafka_topic: str = "stream_events"
    kafka_partitions: int = 3
    analytics_ready_file: str | None = None
    hls_dir: Path | None = None  # where the ingest writes HLS; its playlists are served from it

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def need(name: str) -> str:
            value = environ.get(name)
            if not value:
                raise ConfigError(f"the setting {name} is required")
            return value

        def read(name: str) -> str:
            path = need(name)
            try:
                return Path(path).read_text().strip()
            except OSError as error:
                raise ConfigError(f"cannot read {name} {path}: {error}") from None

        public_key = read("JWT_PUBLIC_KEY_FILE")
        webhook_token = read("WEBHOOK_TOKEN_FILE")
        if len(webhook_token) < 16:
            raise ConfigError(
                "the webhook token (WEBHOOK_TOKEN_FILE) must be 16 characters or more"
            )
        return cls(
            database_url=need("DATABASE_URL"),
            redis_url=need("REDIS_URL"),
            kafka_bootstrap=need("KAFKA_BOOTSTRAP_SERVERS"),
            clickhouse_url=need("CLICKHOUSE_URL"),
            jwt_public_key=public_key,
            webhook_token=webhook_token,
            public_api_url=need("PUBLIC_API_URL").rstrip("/"),
            public_rtmp_url=need("PUBLIC_RTMP_URL").rstrip("/"),
            public_hls_url=need("PUBLIC_HLS_URL").rstrip("/"),
            host=environ.get("HOST", "0.0.0.0"),
            port=int(environ.get("PORT", "8000")),
            analytics_ready_file=environ.get("ANALYTICS_READY_FILE"),
            hls_dir=Path(environ["HLS_DIR"]) if environ.get("HLS_DIR") else None,
        )
