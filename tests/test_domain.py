"""The platform's rules as pure functions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reference_service.api import Chatter
from reference_service.domain import (
    ApiError,
    Stream,
    is_own_publisher,
    parse_new_stream,
    publish_refusal,
    rfc3339,
)

CREATED = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PREPARING = Stream(
    id=uuid.uuid4(),
    creator_id=uuid.uuid4(),
    title="Morning run",
    description=None,
    category=None,
    stream_key="right-key-0123456789",
    status="preparing",
    publisher_id=None,
    peak_viewers=0,
    created_at=CREATED,
    started_at=None,
    ended_at=None,
)


def test_the_right_key_of_a_preparing_stream_may_publish() -> None:
    assert publish_refusal(PREPARING, "right-key-0123456789") is None


@pytest.mark.parametrize(
    ("stream", "key", "reason"),
    [
        (None, "right-key-0123456789", "unknown stream"),
        (PREPARING, "wrong-key", "wrong stream key"),
        (PREPARING, "", "wrong stream key"),
        (PREPARING, None, "wrong stream key"),
        (PREPARING, "right-key-012345678", "wrong stream key"),
        (replace(PREPARING, status="live"), "right-key-0123456789", "the stream is already live"),
        (replace(PREPARING, status="ended"), "right-key-0123456789", "the stream has ended"),
    ],
)
def test_publishing_is_refused(stream: Stream | None, key: str | None, reason: str) -> None:
    assert publish_refusal(stream, key) == reason


def test_a_wrong_key_is_refused_as_wrong_whatever_the_status() -> None:
    # The status of someone else's stream is not revealed to a guesser.
    assert publish_refusal(replace(PREPARING, status="ended"), "guess") == "wrong stream key"


@pytest.mark.parametrize(
    ("recorded", "reported", "own"),
    [("7", "7", True), ("7", "8", False), (None, "8", True), ("7", None, True)],
)
def test_only_the_live_publisher_ends_the_stream(
    recorded: str | None, reported: str | None, own: bool
) -> None:
    assert is_own_publisher(replace(PREPARING, publisher_id=recorded), reported) is own


def test_a_stream_lasts_from_start_to_end() -> None:
    ended = replace(PREPARING, started_at=CREATED, ended_at=CREATED + timedelta(seconds=90.5))
    assert ended.duration_seconds == 90.5
    assert PREPARING.duration_seconds is None


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ([], "JSON object"),
        ({}, "title is required"),
        ({"title": "   "}, "title is required"),
        ({"title": 7}, "title is required"),
        ({"title": "x" * 201}, "longer than 200"),
        ({"title": "ok", "description": 3}, "description must be a string"),
        ({"title": "ok", "category": "c" * 65}, "category is longer"),
        ({"title": "ok", "stream_key": "mine"}, "unknown fields: stream_key"),
    ],
)
def test_a_new_stream_is_validated(body: object, complaint: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_new_stream(body)
    assert refused.value.status == 400
    assert complaint in refused.value.message


def test_a_valid_new_stream_is_trimmed() -> None:
    new = parse_new_stream({"title": "  Morning run ", "category": "sport"})
    assert (new.title, new.description, new.category) == ("Morning run", None, "sport")


def test_timestamps_are_rfc3339_utc() -> None:
    assert rfc3339(CREATED + timedelta(microseconds=123456)) == "2026-11-25T08:00:00.123Z"


@pytest.mark.parametrize(
    ("title", "complaint"),
    [("a\x00b", "contains a NUL character"), ("lone \ud800 surrogate", "not valid Unicode text")],
)
def test_text_postgresql_cannot_keep_is_refused(title: str, complaint: str) -> None:
    with pytest.raises(ApiError, match=complaint):
        parse_new_stream({"title": title})


def test_a_page_may_send_up_to_the_limit_in_a_second_and_not_more() -> None:
    chatter = Chatter(limit=3)
    assert [chatter.allows(10.0 + i * 0.1) for i in range(4)] == [True, True, True, False]
    assert chatter.allows(11.5), "a new second starts a new count"
