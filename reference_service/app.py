"""The aiohttp application: wiring, health, metrics, the OpenAPI document, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from reference_service import playlists, store
from reference_service.api import errors_as_json, routes
from reference_service.auth import TokenVerifier
from reference_service.config import Settings
from reference_service.hub import Hub
from reference_service.keys import AUTH, HUB, METRICS, PLATFORM, SETTINGS
from reference_service.metrics import Metrics
from reference_service.outbox import Relay
from reference_service.platform import Platform
from reference_service.viewers import Viewers, keep_rebuilt

log = logging.getLogger(__name__)
OPENAPI = Path(__file__).parent / "contract" / "openapi.json"  # docs/contract, linked
HEALTH_TIMEOUT = 2.0


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[errors_as_json], client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[AUTH] = TokenVerifier(settings.jwt_public_key)
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(dependencies)
    app.on_shutdown.append(say_goodbye)
    app.add_routes(routes)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi)
    return app


async def dependencies(app: web.Application) -> AsyncIterator[None]:
    settings, metrics = app[SETTINGS], app[METRICS]
    pool = await store.open_pool(settings.database_url)
    await store.migrate(pool)
    # A connection pooled before Redis restarted is stale: a command that meets one is retried
    # on a fresh connection (the writes are idempotent), and one idle for a while is pinged
    # before use. Without this, a change after a restart could be answered 503, and nginx-rtmp
    # never sends a refused notice (an end) again.
    redis = Redis.from_url(
        settings.redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.01), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError], health_check_interval=5,
    )  # fmt: skip
    relay = Relay(pool, settings.kafka_bootstrap, settings.kafka_topic, settings.kafka_partitions,
                  metrics)  # fmt: skip
    app[HUB] = Hub(metrics)
    streams = store.Streams(pool)
    viewers = Viewers(redis)
    platform = app[PLATFORM] = Platform(streams, viewers, relay, app[HUB], metrics)
    relay.start()
    background = [
        asyncio.create_task(keep_rebuilt(viewers, streams.audiences, platform.exclusive)),
        asyncio.create_task(platform.keep_reaping()),
    ]
    hls_dir = settings.hls_dir
    if hls_dir is not None:
        keep = functools.partial(playlists.keep_media_of, hls_dir)
        background.append(asyncio.create_task(platform.keep_media(keep)))
    log.info("service ready on %s:%s", settings.host, settings.port)
    yield
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await relay.close()
    await redis.aclose()
    await pool.close()


async def say_goodbye(app: web.Application) -> None:
    """On shutdown, before aiohttp waits for open handlers: every page is told 1001 going away."""
    await app[HUB].close()


async def health(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    checks: dict[str, Callable[[], Awaitable[object]]] = {
        "postgres": platform.streams.ping,
        "redis": platform.viewers.client.ping,
        "kafka": platform.relay.ping,
    }
    report = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), HEALTH_TIMEOUT)
            report[name] = "ok"
        except Exception as error:
            report[name] = f"failing: {error!r}"
    healthy = all(state == "ok" for state in report.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", "dependencies": report},
        status=200 if healthy else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    platform, gauges = request.app[PLATFORM], request.app[METRICS]
    # Live counts come from Redis at scrape time, so they stay true across restarts and replicas;
    # while Redis is down the gauges keep their last values and the scrape still answers.
    with contextlib.suppress(RedisError):
        gauges.active_streams.set(len(await platform.viewers.active_streams()))
        gauges.interrupted_streams.set(len(await platform.viewers.interrupted_streams()))
        gauges.viewers.set(await platform.viewers.total_viewers())
    body = generate_latest(gauges.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(json.loads(OPENAPI.read_text()))
