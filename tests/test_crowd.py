"""The Locust crowd's verdict: every viewer told every event once, in order, and no failure."""

from __future__ import annotations

from support.tools.crowd import transcript_problems, verdict


def row(name: str, count: int, failures: int = 0) -> dict[str, str]:
    return {"Name": name, "Request Count": str(count), "Failure Count": str(failures),
            "50%": "3", "95%": "5", "99%": "7", "100%": "9"}  # fmt: skip


def test_a_transcript_must_be_the_expected_events_once_each_in_order() -> None:
    expected = ["viewer_count_changed", "stream_ended"]
    assert transcript_problems(expected, expected) == []
    assert transcript_problems(["stream_ended", "viewer_count_changed"], expected)
    assert transcript_problems(["viewer_count_changed"] * 2 + ["stream_ended"], expected)
    assert transcript_problems(["viewer_count_changed"], expected)


def test_the_crowd_passes_only_when_every_viewer_was_told_everything() -> None:
    ok, figures = verdict([row("connect", 3), row("transcript", 3), row("deliver x", 9)], 3)
    assert ok, figures
    assert "p99 7 ms" in figures


def test_a_failed_transcript_or_a_missing_viewer_fails_the_crowd() -> None:
    assert not verdict([row("connect", 3), row("transcript", 3, failures=1)], 3)[0]
    assert not verdict([row("connect", 3), row("transcript", 2)], 3)[0]
    assert not verdict([row("connect", 3, failures=1), row("transcript", 3)], 3)[0]
