"""A stream as every place that knows about it sees it: the API, PostgreSQL, Redis, HLS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from support.core.eventually import scaled, throughout
from support.core.timestamps import parse_rfc3339
from support.hls.fetch import fetch

if TYPE_CHECKING:
    from support.core.target import Target
    from support.harness.world import Run


@dataclass(frozen=True)
class StreamEverywhere:
    stream_id: str
    api_status: str | None
    api_started_at: datetime | None
    api_ended_at: datetime | None
    db_status: str | None
    active_in_redis: bool
    api_answer: str  # "200", or what the API answered instead
    listed_live: bool | None  # None: the list could not be had
    api_interrupted_at: datetime | None = None
    interrupted_in_redis: bool = False

    @property
    def api_duration(self) -> float | None:
        if self.api_started_at is None or self.api_ended_at is None:
            return None
        return (self.api_ended_at - self.api_started_at).total_seconds()

    def describe(self) -> str:
        api = self.api_status if self.api_answer == "200" else f"answered {self.api_answer}"
        return (
            f"API {api} (started {self.api_started_at}, ended {self.api_ended_at}), "
            f"database {self.db_status}, active in Redis {self.active_in_redis}, "
            f"interrupted in Redis {self.interrupted_in_redis} (API: since "
            f"{self.api_interrupted_at}), listed live {self.listed_live}"
        )


def moment(text: str | None) -> datetime | None:
    return parse_rfc3339(text) if text else None


def observe(run: Run, token: str, stream_id: str) -> StreamEverywhere:
    reply = run.loop.run(run.api.get_stream(token, stream_id))
    listing = run.loop.run(run.api.streams(token, status="live"))
    body = reply.body if reply.status == 200 else {}
    row = run.postgres.stream(stream_id)
    return StreamEverywhere(
        stream_id=stream_id,
        api_status=body.get("status"),
        api_answer="200" if reply.status == 200 else reply.describe(),
        api_started_at=moment(body.get("started_at")),
        api_ended_at=moment(body.get("ended_at")),
        db_status=row["status"] if row else None,
        active_in_redis=run.redis.is_active(stream_id),
        api_interrupted_at=moment(body.get("interrupted_at")),
        interrupted_in_redis=run.redis.is_interrupted(stream_id),
        listed_live=(
            stream_id in {s["stream_id"] for s in listing.body["streams"]}
            if listing.status == 200
            else None
        ),
    )


def playlist_status(run: Run, hls_url: str) -> int:
    status, _ = run.loop.run(fetch(run.api.session, hls_url))
    return status


def hls_url_of(target: Target, stream_id: str) -> str:
    """contract: HLS. A stream's playlist is at {hls_url}/{stream_id}/index.m3u8."""
    return f"{target.hls_url.rstrip('/')}/{stream_id}/index.m3u8"


# contract: HLS. 1 s fragments: a publisher let in would have a playlist within two of them.
FRAGMENT_SECONDS = 1.0


def never_served(run: Run, hls_url: str, *, since: float) -> int:
    """No playlist at `hls_url`, from now until two fragment durations after `since` (when a
    publish attempt was answered): earlier, a 404 proves nothing, as no fragment could exist
    yet. Returns how many times the playlist was asked for."""

    def not_served() -> None:
        status = playlist_status(run, hls_url)
        assert status == 404, f"a playlist is served (HTTP {status}) at {hls_url}"

    return throughout(
        not_served, until=since + scaled(2 * FRAGMENT_SECONDS), what="no playlist being served"
    )
