"""What the steps compute, tested here so the steps stay thin: durations, event tables, what a
viewer heard about a stream, and how a playlist's end shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.clients.broadcaster import DURATION_TOLERANCE, Broadcast
from support.clients.viewer import Viewer, parse_frame
from support.core.sequence import expected_events, told
from support.harness.logs import ingest_logged_session, lines_with, places_holding
from support.harness.phrases import one_of
from support.hls.reloads import unchanged_before_gone
from support.report.plots import latency_histogram
from support.rtmp.client import RtmpPublisher
from support.rtmp.session import Published


def broadcast(live_since: float | None, ended_at: float | None) -> Broadcast:
    publisher = RtmpPublisher("rtmp://127.0.0.1/live/x")
    return Broadcast(publisher, Published("x", 0.1, 0.2), 0.0, live_since, ended_at)


def test_a_broadcast_lasts_from_going_live_to_its_end() -> None:
    assert broadcast(100.0, 103.5).live_for == 3.5


def test_a_broadcast_that_never_went_live_has_no_duration() -> None:
    with pytest.raises(AssertionError, match="has not both started and ended"):
        _ = broadcast(None, 103.5).live_for


def test_a_reported_duration_must_match_within_the_tolerance() -> None:
    ended = broadcast(100.0, 103.5)
    ended.check_duration(3.5 + DURATION_TOLERANCE, "the API")
    with pytest.raises(AssertionError, match=r"the API says the stream lasted 5\.50 s"):
        ended.check_duration(5.5, "the API")


def test_an_event_table_reads_blank_cells_as_absent_fields() -> None:
    rows = [
        {"event": "stream.started", "viewers": "", "peak": ""},
        {"event": "viewer.joined", "viewers": "2", "peak": " "},
        {"event": "stream.ended", "viewers": "", "peak": "2"},
    ]
    assert expected_events(rows) == [
        ("stream.started", None, None),
        ("viewer.joined", 2, None),
        ("stream.ended", None, 2),
    ]
    assert told("viewer.joined", {"viewer_count": 2, "stream_id": "s"}) == (
        "viewer.joined",
        2,
        None,
    )


def frame(event: str, stream_id: str, **data: object) -> str:
    return json.dumps({"event": event, "data": {"stream_id": stream_id, **data}})


def test_a_viewer_heard_only_what_was_about_the_stream_asked_for() -> None:
    viewer = Viewer("Ben", "ws://x")
    viewer.transcript += [
        parse_frame(frame("stream_started", "a", timestamp="2026-11-26T08:00:00Z")),
        parse_frame(frame("viewer_count_changed", "b", viewer_count=1, peak_viewers=1)),
        parse_frame(frame("viewer_count_changed", "a", viewer_count=3, peak_viewers=4)),
    ]
    assert [f.event for f in viewer.heard("a")] == ["stream_started", "viewer_count_changed"]
    assert len(viewer.heard("a", "stream_started")) == 1
    assert viewer.told_about("a") == [
        ("stream_started", None, None),
        ("viewer_count_changed", 3, 4),
    ]


@pytest.mark.parametrize(
    ("polls", "quiet"),
    [
        ([(0.0, 200, "a"), (1.0, 200, "b"), (2.0, 200, "b"), (4.5, 404, "")], 3.5),
        ([(0.0, 200, "a"), (3.0, 200, "a"), (3.5, 404, "")], 3.5),
        ([(0.0, 200, "a"), (1.0, 200, "b"), (1.2, 404, "")], 0.2),
        ([(0.0, 404, "")], 0.0),
        ([(0.0, 200, "a"), (1.0, 200, "a")], 0.0),
    ],
)
def test_the_end_of_a_playlist_is_how_long_it_stood_still_before_it_went(
    polls: list[tuple[float, int, str]], quiet: float
) -> None:
    assert unchanged_before_gone(polls) == pytest.approx(quiet)


def test_a_secret_is_found_in_the_places_that_hold_it_and_only_there() -> None:
    places = {"the metrics": "nova_streaming_viewers 1", "an event": '{"key": "s3cr3t"}'}
    found = places_holding("s3cr3t", places)
    assert found == ['an event: ...{"key": "s3cr3t"}...']
    assert places_holding("absent", places) == []


def test_a_phrase_type_takes_the_longest_phrase_and_nothing_else() -> None:
    import parse

    matcher = parse.compile("an attacker sends {abuse:Abuse}", {"Abuse": one_of(["a", "a b"])})
    assert matcher.parse("an attacker sends a b")["abuse"] == "a b"
    assert matcher.parse("an attacker sends c") is None


def test_log_lines_holding_a_secret_and_the_ingests_session_line(tmp_path: Path) -> None:
    error, access = tmp_path / "error.log", tmp_path / "rtmp_access.log"
    error.write_text("started\npublish name=abc?key=s3cr3t\n")
    logs = {"nginx": [error, access, tmp_path / "absent.log"]}
    assert lines_with(logs, "s3cr3t") == ["nginx: error.log: publish name=abc?key=s3cr3t"]
    assert not ingest_logged_session(logs, "abc")
    access.write_text('127.0.0.1 [26/Nov/2026:13:00:00 +0000] PUBLISH "live" "abc" - 10 20 (2s)\n')
    assert ingest_logged_session(logs, "abc")
    assert not ingest_logged_session(logs, "other")


def test_the_latency_histogram_is_a_png() -> None:
    assert latency_histogram([0.01, 0.02, 0.5], "3 deliveries", {"p50": 0.02}).startswith(
        b"\x89PNG\r\n\x1a\n"
    )
