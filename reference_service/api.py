"""HTTP handlers: the REST API of contract v1, the nginx-rtmp webhooks and the WebSocket rooms."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from aiohttp import WSCloseCode, WSMsgType, web
from psycopg_pool import PoolTimeout
from redis.exceptions import RedisError

from reference_service import ladder, playlists
from reference_service.domain import (
    INTERRUPTED,
    LIVE,
    STATUSES,
    ApiError,
    Stream,
    parse_new_stream,
    parse_stream_change,
    parse_stream_id,
    rfc3339,
)
from reference_service.keys import AUTH, HUB, METRICS, PLATFORM, SETTINGS

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
# A stream id is a UUID, so /api/v1/streams/auth is a webhook's path only: its 405 allows POST.
STREAM_ID = "{stream_id:[0-9a-fA-F-]{32,36}}"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is `{"error", "message"}` with an honest status; a 500 only for our own bugs."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_body(error.status, error.code, error.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = HTTP_CODES.get(error.status, "http_error")
        # A 405 names the methods the resource allows (RFC 9110 section 15.5.6: MUST).
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return error_body(error.status, code, error.reason, allow)
    except UNAVAILABLE as error:
        log.warning("%s %s: a store is unavailable: %r", request.method, request.path, error)
        return error_body(503, "unavailable", f"the platform cannot answer now: {store_of(error)}")
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_body(500, "internal_error", "the service failed; see its log")


# A store that is down or not answering: the change was rolled back, the client may retry.
UNAVAILABLE = (psycopg.OperationalError, PoolTimeout, RedisError)


def store_of(error: BaseException) -> str:
    if isinstance(error, RedisError):
        return "the viewer counts (Redis) are unavailable"
    return "the database (PostgreSQL) is unavailable"


def stream_id_of(request: web.Request) -> uuid.UUID:
    stream_id = parse_stream_id(request.match_info["stream_id"])
    if stream_id is None:
        raise ApiError(404, "not_found", f"no stream {request.match_info['stream_id']}")
    return stream_id


async def json_body(request: web.Request) -> Any:
    content_type = request.content_type
    if content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", f"expected application/json, got {content_type}"
        )
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError, and integers of 4,300+ digits
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None


def urls(request: web.Request, stream_id: uuid.UUID) -> dict[str, str]:
    settings = request.app[SETTINGS]
    return {
        "rtmp_url": settings.public_rtmp_url,
        "hls_url": f"{settings.public_hls_url}/{stream_id}/index.m3u8",
        "ladder_url": f"{settings.public_hls_url}/{ladder.DIRECTORY}/{stream_id}.m3u8",
        "ws_url": settings.public_api_url.replace("http", "ws", 1)
        + f"/api/v1/streams/{stream_id}/ws",
    }


async def stream_view(request: web.Request, stream: Stream, viewer: uuid.UUID) -> dict[str, Any]:
    audience = await request.app[PLATFORM].audience(stream)
    view: dict[str, Any] = {
        "stream_id": str(stream.id),
        "creator_id": str(stream.creator_id),
        "title": stream.title,
        "description": stream.description,
        "category": stream.category,
        "status": stream.status,
        **{k: v for k, v in urls(request, stream.id).items() if k in ("hls_url", "ladder_url")},
        "current_viewers": audience.viewers,
        "peak_viewers": audience.peak,
        "created_at": rfc3339(stream.created_at),
        "started_at": rfc3339(stream.started_at) if stream.started_at else None,
        "ended_at": rfc3339(stream.ended_at) if stream.ended_at else None,
        "reconnect_window_seconds": stream.reconnect_window_seconds,
        "interrupted_at": (
            rfc3339(stream.interrupted_at)
            if stream.interrupted_at and stream.status == INTERRUPTED
            else None
        ),
    }
    if viewer == stream.creator_id:
        view["stream_key"] = stream.stream_key
    return view


@routes.post("/api/v1/streams")
async def create_stream(request: web.Request) -> web.Response:
    creator = request.app[AUTH].user_id(request)
    new = parse_new_stream(await json_body(request))
    stream = await request.app[PLATFORM].create(creator, new)
    links = urls(request, stream.id)
    return web.json_response(
        {
            "stream_id": str(stream.id),
            "stream_key": stream.stream_key,
            "rtmp_url": links["rtmp_url"],
            "publish_url": f"{links['rtmp_url']}/{stream.id}?key={stream.stream_key}",
            "hls_url": links["hls_url"],
            "ladder_url": links["ladder_url"],
            "status": stream.status,
            "reconnect_window_seconds": stream.reconnect_window_seconds,
            "created_at": rfc3339(stream.created_at),
        },
        status=201,
    )


@routes.get("/api/v1/streams")
async def list_streams(request: web.Request) -> web.Response:
    viewer = request.app[AUTH].user_id(request)
    status = request.query.get("status", LIVE)
    if status not in STATUSES:
        raise ApiError(400, "validation_error", f"status must be one of {', '.join(STATUSES)}")
    limit = page_size(request.query.get("limit", str(PAGE_SIZE)))
    after = page_after(request.query.get("cursor"))
    # One more than the page: whether a next page exists, without a count.
    streams = await request.app[PLATFORM].streams.with_status(status, limit + 1, after)
    page, more = streams[:limit], len(streams) > limit
    return web.json_response(
        {
            "streams": [await stream_view(request, s, viewer) for s in page],
            "next_cursor": cursor_of(page[-1]) if more else None,
        }
    )


PAGE_SIZE, MAX_PAGE_SIZE = 100, 100


def page_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ApiError(400, "validation_error", f"limit must be 1 to {MAX_PAGE_SIZE}, not {text!r}")
    return int(text)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
CURSOR = re.compile(
    r"([0-9]{1,16})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)


def cursor_of(stream: Stream) -> str:
    """Where the page ended: the last stream's creation (microseconds since 1970) and id. Any
    such pair is a place in the list, so every cursor the OpenAPI pattern allows is valid."""
    return f"{(stream.created_at - EPOCH) // MICROSECOND}.{stream.id}"


def page_after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    match = CURSOR.fullmatch(cursor)
    if match is None:
        raise ApiError(400, "validation_error", f"cursor {cursor!r} is not one this API gives")
    return EPOCH + int(match[1]) * MICROSECOND, uuid.UUID(match[2])


@routes.get(f"/api/v1/streams/{STREAM_ID}")
async def get_stream(request: web.Request) -> web.Response:
    viewer = request.app[AUTH].user_id(request)
    stream = await request.app[PLATFORM].stream(stream_id_of(request))
    return web.json_response(await stream_view(request, stream, viewer))


@routes.patch(f"/api/v1/streams/{STREAM_ID}")
async def change_stream(request: web.Request) -> web.Response:
    user = request.app[AUTH].user_id(request)
    window = parse_stream_change(await json_body(request))
    changed = await request.app[PLATFORM].change(stream_id_of(request), user, window)
    return web.json_response(await stream_view(request, changed, user))


@routes.post(f"/api/v1/streams/{STREAM_ID}/join")
async def join(request: web.Request) -> web.Response:
    user = request.app[AUTH].user_id(request)
    platform = request.app[PLATFORM]
    stream_id = stream_id_of(request)
    audience = await platform.join(stream_id, user)
    # Built from the id alone: once the join committed, no later read may turn it into a failure.
    links = urls(request, stream_id)
    return web.json_response(
        {
            "hls_url": links["hls_url"],
            "ladder_url": links["ladder_url"],
            "ws_url": links["ws_url"],
            "current_viewers": audience.viewers,
        }
    )


@routes.post(f"/api/v1/streams/{STREAM_ID}/end")
async def end_stream(request: web.Request) -> web.Response:
    """Its creator ends a live or interrupted stream at once (Mux's "complete")."""
    user = request.app[AUTH].user_id(request)
    ended = await request.app[PLATFORM].end_now(stream_id_of(request), user)
    return web.json_response(await stream_view(request, ended, user))


@routes.post(f"/api/v1/streams/{STREAM_ID}/leave")
async def leave(request: web.Request) -> web.Response:
    user = request.app[AUTH].user_id(request)
    audience = await request.app[PLATFORM].leave(stream_id_of(request), user)
    return web.json_response({"current_viewers": audience.viewers}, status=202)


FORM = "application/x-www-form-urlencoded"


async def ingest_form(request: web.Request, call: str) -> Any:
    """The form of a call that presents the ingest's token (`?token=`, compared in constant
    time), as nginx-rtmp posts it."""
    token = request.query.get("token", "")
    if not hmac.compare_digest(token.encode(), request.app[SETTINGS].webhook_token.encode()):
        request.app[METRICS].webhook_requests.labels(call, "forbidden").inc()
        raise ApiError(403, "forbidden", "only the ingest may call the webhooks")
    if request.content_type != FORM:  # nginx-rtmp posts nothing else
        raise ApiError(
            415, "unsupported_media_type", f"expected {FORM}, got {request.content_type}"
        )
    return await request.post()


async def webhook_form(request: web.Request, call: str) -> tuple[uuid.UUID | None, Any]:
    """The webhook's form, once the caller proved it is the ingest (contract: ingest): the
    token nginx-rtmp presents (`?token=`, compared in constant time), a stream name, and for
    every call but publish the publisher's `clientid`, so nobody ends someone else's stream."""
    form = await ingest_form(request, call)
    name, client = form.get("name"), form.get("clientid")
    missing = [field for field, value in (("name", name), ("clientid", client))
               if not isinstance(value, str) or not value]  # fmt: skip
    if missing:
        request.app[METRICS].webhook_requests.labels(call, "invalid").inc()
        raise ApiError(400, "validation_error", f"the webhook needs the form fields {missing}")
    return parse_stream_id(str(name)), form


# The ingest lets a publisher go when it has sent no media for 2 s (drop_idle_publisher), and a
# publisher sends none until it is let in: a decision taken later would make a stream live whose
# broadcaster is gone (found by `make chaos`, seed 7: Redis paused, the go-live committed after
# nginx had dropped the broadcaster). So the decision is refused, rolled back, if it takes longer.
PUBLISH_DEADLINE = 1.5


@routes.post("/api/v1/streams/auth")
async def on_publish(request: web.Request) -> web.Response:
    """nginx-rtmp on_publish: 2xx lets the broadcaster in, anything else drops it."""
    stream_id, form = await webhook_form(request, "publish")
    key, client = form.get("key"), form.get("clientid")
    if stream_id is None:
        request.app[METRICS].webhook_requests.labels("publish", "refused").inc()
        raise ApiError(403, "forbidden", "unknown stream")
    try:
        async with asyncio.timeout(PUBLISH_DEADLINE):
            decision = await request.app[PLATFORM].publish(
                stream_id,
                key if isinstance(key, str) else None,
                client if isinstance(client, str) else None,
            )
    except TimeoutError:
        log.warning("could not decide a publish to %s within %.1f s", stream_id, PUBLISH_DEADLINE)
        raise ApiError(
            503, "unavailable", f"the platform could not decide within {PUBLISH_DEADLINE} s"
        ) from None
    result = "accepted" if decision.accepted else "refused"
    request.app[METRICS].webhook_requests.labels("publish", result).inc()
    if not decision.accepted:
        log.info("refused a publish to %s: %s", stream_id, decision.reason)
        raise ApiError(403, "forbidden", decision.reason)
    return web.json_response({"status": "live"})


@routes.post("/api/v1/streams/done")
async def on_publish_done(request: web.Request) -> web.Response:
    """nginx-rtmp on_publish_done: the broadcaster left, cleanly or not."""
    stream_id, form = await webhook_form(request, "publish_done")
    client = form.get("clientid")
    now_status = stream_id is not None and await request.app[PLATFORM].publish_done(
        stream_id, client if isinstance(client, str) else None
    )
    result = now_status or "unchanged"
    request.app[METRICS].webhook_requests.labels("publish_done", result).inc()
    return web.json_response({"status": result})


@routes.get("/hls/{stream_id}/index.m3u8")
async def playlist(request: web.Request) -> web.Response:
    """A live stream's media playlist as viewers get it (nginx proxies it here, and serves the
    file as written when the service does not answer): reference_service/playlists.py."""
    stream_id, directory = stream_id_of(request), request.app[SETTINGS].hls_dir
    text = None
    if directory is not None:
        text = await asyncio.to_thread(playlists.observe, directory / str(stream_id))
    if text is None:
        raise ApiError(404, "not_found", f"no playlist for stream {stream_id}")
    return m3u8(text)


@routes.get(r"/hls/ladder/{rendition:[0-9a-f-]{36}_[a-z0-9]{1,16}}/index.m3u8")
async def rendition_playlist(request: web.Request) -> web.Response:
    """A rendition's media playlist (contract: ladder), served as the source's is."""
    directory = request.app[SETTINGS].hls_dir
    name = request.match_info["rendition"]
    text = None
    if directory is not None:
        text = await asyncio.to_thread(playlists.observe, directory / ladder.DIRECTORY / name)
    if text is None:
        raise ApiError(404, "not_found", f"no playlist for rendition {name}")
    return m3u8(text)


@routes.get(r"/hls/ladder/{stream_id:[^/_.]+}.m3u8")
async def multivariant(request: web.Request) -> web.Response:
    """A live stream's multivariant playlist: the ladder, with its measured bit rates."""
    stream_id, directory = stream_id_of(request), request.app[SETTINGS].hls_dir
    text = None
    if directory is not None:
        text = await asyncio.to_thread(ladder.served, directory / ladder.DIRECTORY, str(stream_id))
    if text is None:
        raise ApiError(404, "not_found", f"no ladder for stream {stream_id}")
    return m3u8(text)


def m3u8(text: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="application/vnd.apple.mpegurl",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


def observe_playlist(request: web.Request, stream_id: uuid.UUID) -> None:
    """Keep the records of the stream's playlists while nobody watches (playlists.py,
    ladder.py): the source's and every rendition's."""
    directory = request.app[SETTINGS].hls_dir
    if directory is not None:
        playlists.observe(directory / str(stream_id))
        for rendition in playlists.renditions(directory, stream_id):
            playlists.observe(rendition)
            ladder.bitrates(rendition)


@routes.post("/api/v1/streams/rendition")
async def on_rendition(request: web.Request) -> web.Response:
    """nginx-rtmp on_publish of the ladder application: only the transcoder, which presents
    the ingest's own token as its SWF URL, may publish a rendition (contract: ladder)."""
    form = await ingest_form(request, "rendition")
    key, name = str(form.get("swfurl", "")), str(form.get("name", ""))
    if not hmac.compare_digest(key.encode(), request.app[SETTINGS].webhook_token.encode()):
        request.app[METRICS].webhook_requests.labels("rendition", "forbidden").inc()
        raise ApiError(403, "forbidden", "only the transcoder may publish a rendition")
    if not ladder.RENDITION.match(name):
        request.app[METRICS].webhook_requests.labels("rendition", "invalid").inc()
        raise ApiError(400, "validation_error", f"{name!r} names no rendition")
    request.app[METRICS].webhook_requests.labels("rendition", "accepted").inc()
    return web.json_response({"status": "accepted"})


@routes.post("/api/v1/streams/update")
async def on_update(request: web.Request) -> web.Response:
    """nginx-rtmp on_update, every 2 s per client from its publish command on: a publisher
    still there keeps its stream live; one whose publish is still being decided (its stream
    is preparing) waits; one whose stream is not live any more is dropped (any answer but 2xx)."""
    stream_id, form = await webhook_form(request, "update")
    if form.get("call") != "update_publish":
        return web.json_response({"status": "ignored"})  # players are not the platform's concern
    client = form.get("clientid")
    if stream_id is not None:
        await asyncio.to_thread(observe_playlist, request, stream_id)
    try:
        seen = "gone"
        if stream_id is not None:
            publisher = client if isinstance(client, str) else None
            seen = await request.app[PLATFORM].seen(stream_id, publisher)
    except UNAVAILABLE as error:  # cannot tell: never drop a broadcaster for the platform's fault
        log.warning("kept a publisher of %s without checking it: %r", stream_id, error)
        return web.json_response({"status": "unchecked"})
    request.app[METRICS].webhook_requests.labels(
        "update", "dropped" if seen == "gone" else seen
    ).inc()
    if seen == "gone":
        raise ApiError(403, "forbidden", "this publisher's stream is not live")
    return web.json_response({"status": seen})


HEARTBEAT = 5.0
MAX_MESSAGE = 4096
CHATTER_LIMIT = 10  # messages a second


class Chatter:
    """How many messages a page sent within the current second, against a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.second = 0.0
        self.count = 0

    def allows(self, now: float) -> bool:
        if now - self.second >= 1.0:
            self.second, self.count = now, 0
        self.count += 1
        return self.count <= self.limit


@routes.get(f"/api/v1/streams/{STREAM_ID}/ws")
async def room(request: web.Request) -> web.StreamResponse:
    stream_id = stream_id_of(request)
    await request.app[PLATFORM].exists(stream_id)  # 404 before the upgrade
    # Viewers only listen. A page that does not answer pings for HEARTBEAT / 2 s, sends a
    # message over MAX_MESSAGE bytes (1009) or more than CHATTER_LIMIT messages in a second
    # (1008) is disconnected; what the others are sent is not held up by it.
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, compress=False)
    await socket.prepare(request)
    if request.transport is None:  # the client went away during the upgrade
        return socket
    hub = request.app[HUB]
    hub.enter(stream_id, socket, request.transport)
    chatter = Chatter(CHATTER_LIMIT)
    try:
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
            if not chatter.allows(time.monotonic()):
                await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=b"viewers listen")
                break
    finally:
        hub.exit(stream_id, socket)
    return socket
