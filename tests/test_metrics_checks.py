"""The Prometheus checker: reading samples, the exposition rules, counters that go back."""

from __future__ import annotations

import pytest

from support.clients.metrics import counters_went_back, exposition_problems, parse

GOOD = """\
# HELP nova_streaming_active_streams Streams live now.
# TYPE nova_streaming_active_streams gauge
nova_streaming_active_streams 2.0
# HELP nova_streaming_streams_started_total Streams that went live.
# TYPE nova_streaming_streams_started_total counter
nova_streaming_streams_started_total 5.0
# HELP nova_streaming_webhook_requests_total nginx-rtmp webhook calls by call and result.
# TYPE nova_streaming_webhook_requests_total counter
nova_streaming_webhook_requests_total{call="publish",result="accepted"} 5.0
"""


STREAM = "9c3ad3b2-6e5b-4c5e-9f0b-6b7f1a2b3c4d"


def test_samples_are_read_by_name_and_labels() -> None:
    scrape = parse(GOOD)
    assert scrape.named("active streams") == 2
    assert scrape.named("streams started") == 5
    assert scrape.named("accepted publishes") == 5
    assert scrape.named("refused publishes") == 0  # a labelled series not seen yet


def test_a_metric_that_is_not_exported_fails() -> None:
    with pytest.raises(AssertionError, match="nova_streaming_viewers is not exported"):
        parse(GOOD).named("viewers")


def test_the_good_exposition_has_no_problems() -> None:
    assert exposition_problems(parse(GOOD)) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            GOOD.replace("# HELP nova_streaming_active_streams Streams live now.\n", ""),
            "has no HELP line",
        ),
        (
            GOOD.replace("# TYPE nova_streaming_active_streams gauge\n", ""),
            "nova_streaming_active_streams has no TYPE line",
        ),
        (
            GOOD.replace("nova_streaming_active_streams", "streaming_active_streams"),
            "is not prefixed",
        ),
        (
            GOOD
            + f'nova_streaming_webhook_requests_total{{call="publish",result="{STREAM}"}} 1.0\n',
            "has an id in its label result=9c3ad3b2",
        ),
        (
            GOOD
            + "".join(
                f'nova_streaming_webhook_requests_total{{call="publish",result="r{n}"}} 1.0\n'
                for n in range(60)
            ),
            "label sets (more than 50)",
        ),
    ],
)
def test_a_bad_exposition_says_what_is_wrong(text: str, problem: str) -> None:
    assert any(problem in found for found in exposition_problems(parse(text)))


def test_a_counter_that_goes_back_is_found() -> None:
    before = parse(GOOD)
    assert counters_went_back(before, parse(GOOD)) == []
    after = parse(
        GOOD.replace(
            "nova_streaming_streams_started_total 5.0", "nova_streaming_streams_started_total 4.0"
        )
    )
    assert counters_went_back(before, after) == [
        "nova_streaming_streams_started_total{} went from 5.0 to 4.0"
    ]
