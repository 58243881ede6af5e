"""The rules of the platform as pure functions: no I/O, so each one is unit-tested on values."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PREPARING, LIVE, INTERRUPTED, ENDED = "preparing", "live", "interrupted", "ended"
STATUSES = (PREPARING, LIVE, INTERRUPTED, ENDED)
# On air: joinable, its viewers counted. An interrupted stream lost its publisher for a moment.
ON_AIR = (LIVE, INTERRUPTED)
TITLE_MAX, DESCRIPTION_MAX, CATEGORY_MAX = 200, 5000, 64
# contract: streams. Seconds an interrupted stream waits for its publisher (Mux's maximum).
RECONNECT_WINDOW_DEFAULT, RECONNECT_WINDOW_MAX = 0, 1800


class ApiError(Exception):
    """An answer to a client's mistake: an honest status and a JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Stream:
    id: uuid.UUID
    creator_id: uuid.UUID
    title: str
    description: str | None
    category: str | None
    stream_key: str
    status: str
    publisher_id: str | None
    peak_viewers: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    reconnect_window_seconds: int = RECONNECT_WINDOW_DEFAULT
    interrupted_at: datetime | None = None
    interrupted_seconds: float = 0.0

    @property
    def duration_seconds(self) -> float | None:
        """How long it carried media: from going live to its end, without its interruptions."""
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds() - self.interrupted_seconds


@dataclass(frozen=True)
class NewStream:
    title: str
    description: str | None
    category: str | None
    reconnect_window_seconds: int = RECONNECT_WINDOW_DEFAULT


def new_stream_key() -> str:
    return secrets.token_urlsafe(24)


def parse_stream_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# What a title may not consist of alone, the same set as the OpenAPI document's pattern (ASCII
# whitespace: Python's and JSON Schema's Unicode whitespace classes differ).
BLANKS = " \t\n\r\f\v"


def parse_new_stream(body: Any) -> NewStream:
    if not isinstance(body, dict):
        raise ApiError(400, "validation_error", "the body must be a JSON object")
    unknown = sorted(set(body) - {"title", "description", "category", "reconnect_window_seconds"})
    if unknown:
        raise ApiError(400, "validation_error", f"unknown fields: {', '.join(unknown)}")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip(BLANKS):
        raise ApiError(400, "validation_error", "title is required and must be a non-empty string")
    if len(title) > TITLE_MAX:
        raise ApiError(400, "validation_error", f"title is longer than {TITLE_MAX} characters")
    storable("title", title)
    description = optional_text(body, "description", DESCRIPTION_MAX)
    category = optional_text(body, "category", CATEGORY_MAX)
    window = reconnect_window(body.get("reconnect_window_seconds", RECONNECT_WINDOW_DEFAULT))
    return NewStream(title.strip(BLANKS), description, category, window)


def parse_stream_change(body: Any) -> int:
    """A change to a stream (PATCH): its new reconnect window, the one thing that changes."""
    if not isinstance(body, dict):
        raise ApiError(400, "validation_error", "the body must be a JSON object")
    unknown = sorted(set(body) - {"reconnect_window_seconds"})
    if unknown:
        raise ApiError(400, "validation_error", f"fields that cannot change: {', '.join(unknown)}")
    if "reconnect_window_seconds" not in body:
        raise ApiError(400, "validation_error", "reconnect_window_seconds is required")
    return reconnect_window(body["reconnect_window_seconds"])


def reconnect_window(window: Any) -> int:
    # JSON Schema's integer is any number without a fraction (336.0 too); bool is an int in
    # Python, not in JSON: true is no number of seconds.
    if type(window) is float and window.is_integer():
        window = int(window)
    if type(window) is not int or not 0 <= window <= RECONNECT_WINDOW_MAX:
        raise ApiError(
            400,
            "validation_error",
            f"reconnect_window_seconds must be a whole number from 0 to {RECONNECT_WINDOW_MAX}",
        )
    return window


def optional_text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "validation_error", f"{name} must be a string")
    if len(value) > limit:
        raise ApiError(400, "validation_error", f"{name} is longer than {limit} characters")
    return storable(name, value)


def storable(name: str, value: str) -> str:
    """Text PostgreSQL can keep: no NUL character, no lone surrogate (not UTF-8 at all)."""
    if "\x00" in value:
        raise ApiError(400, "validation_error", f"{name} contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ApiError(400, "validation_error", f"{name} is not valid Unicode text") from None
    return value


def publish_refusal(stream: Stream | None, key: str | None) -> str | None:
    """Why a broadcaster may not publish to this stream with this key, or None if it may: a
    waiting stream, or an interrupted one (whether its window is still open is the database's
    to say, by its own clock: Changes.resume)."""
    if stream is None:
        return "unknown stream"
    # Compare first, whatever the status, so timing says nothing about the key.
    key_matches = hmac.compare_digest((key or "").encode(), stream.stream_key.encode())
    if not key_matches:
        return "wrong stream key"
    if stream.status == LIVE:
        return "the stream is already live"
    if stream.status == ENDED:
        return "the stream has ended"
    return None


def is_own_publisher(stream: Stream, publisher_id: str | None) -> bool:
    """Whether a publish_done belongs to the publisher that took the stream live.

    nginx-rtmp also reports the end of publishers it refused itself (a second one on a live
    stream); those must not end the stream. Without ids on either side, trust the call.
    """
    return not (stream.publisher_id and publisher_id) or stream.publisher_id == publisher_id


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(UTC)
