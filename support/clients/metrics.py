"""Prometheus: scrape the service's /metrics, read samples by name and labels, check the rules
of a good exposition. Scenarios compare two scrapes, never absolute values (a shared target has
other traffic)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

PREFIX = "nova_streaming_"
UNBOUNDED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
MAX_SERIES_PER_FAMILY = 50

# What scenarios call a metric, and the sample that measures it.
NAMES: dict[str, tuple[str, dict[str, str]]] = {
    "active streams": ("nova_streaming_active_streams", {}),
    "interrupted streams": ("nova_streaming_interrupted_streams", {}),
    "streams interrupted": ("nova_streaming_streams_interrupted_total", {}),
    "streams resumed": ("nova_streaming_streams_resumed_total", {}),
    "viewers": ("nova_streaming_viewers", {}),
    "open stream pages": ("nova_streaming_websocket_connections", {}),
    "streams started": ("nova_streaming_streams_started_total", {}),
    "streams ended": ("nova_streaming_streams_ended_total", {}),
    "viewer joins": ("nova_streaming_viewer_joins_total", {}),
    "viewer leaves": ("nova_streaming_viewer_leaves_total", {}),
    "accepted publishes": (
        "nova_streaming_webhook_requests_total",
        {"call": "publish", "result": "accepted"},
    ),
    "refused publishes": (
        "nova_streaming_webhook_requests_total",
        {"call": "publish", "result": "refused"},
    ),
    "publish ends": (
        "nova_streaming_webhook_requests_total",
        {"call": "publish_done", "result": "ended"},
    ),
    "publish interruptions": (
        "nova_streaming_webhook_requests_total",
        {"call": "publish_done", "result": "interrupted"},
    ),
    "stream durations observed": ("nova_streaming_stream_duration_seconds_count", {}),
    "seconds of streams observed": ("nova_streaming_stream_duration_seconds_sum", {}),
    "room deliveries timed": ("nova_streaming_fanout_latency_seconds_count", {}),
    "failed rounds of event publishing": ("nova_streaming_kafka_delivery_errors_total", {}),
}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True)
class Scrape:
    text: str
    families: dict[str, str]  # family name -> type ("unknown" without a TYPE line)
    documentation: dict[str, str]  # family name -> HELP text ("" without a HELP line)
    samples: tuple[Sample, ...]

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's value; a labelled series not seen yet counts 0, a missing family fails."""
        wanted = tuple(sorted((labels or {}).items()))
        for sample in self.samples:
            if sample.name == name and sample.labels == wanted:
                return sample.value
        if not any(name.startswith(family) for family in self.families):
            raise AssertionError(f"the metric {name} is not exported")
        if not wanted:
            raise AssertionError(f"the metric {name} has no unlabelled sample")
        return 0.0

    def named(self, what: str) -> float:
        if what not in NAMES:
            raise ValueError(f"unknown metric {what!r}; known: {', '.join(NAMES)}")
        return self.value(*NAMES[what])


def parse(text: str) -> Scrape:
    families, documentation, samples = {}, {}, []
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        documentation[family.name] = family.documentation
        for sample in family.samples:
            samples.append(Sample(sample.name, tuple(sorted(sample.labels.items())), sample.value))
    return Scrape(text, families, documentation, tuple(samples))


async def scrape(session: aiohttp.ClientSession, url: str) -> Scrape:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
        text = await response.text()
        if response.status != 200:
            raise AssertionError(f"GET {url} answered {response.status}: {text[:200]}")
    return parse(text)


def exposition_problems(scrape: Scrape) -> list[str]:
    """What breaks the rules: HELP and TYPE for every family, the prefix, bounded labels."""
    problems = []
    for family, kind in scrape.families.items():
        if not scrape.documentation[family]:
            problems.append(f"{family} has no HELP line")
        if kind == "unknown":
            problems.append(f"{family} has no TYPE line")
        if not family.startswith(PREFIX):
            problems.append(f"{family} is not prefixed {PREFIX}")
    series: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for sample in scrape.samples:
        series.setdefault(sample.name, set()).add(sample.labels)
        for label, value in sample.labels:
            if UNBOUNDED.search(value):
                problems.append(f"{sample.name} has an id in its label {label}={value}")
    problems += [
        f"{name} has {len(sets)} label sets (more than {MAX_SERIES_PER_FAMILY})"
        for name, sets in series.items()
        if len(sets) > MAX_SERIES_PER_FAMILY
    ]
    return problems


def counters_went_back(before: Scrape, after: Scrape) -> list[str]:
    """Counters never decrease between two scrapes of the same process."""
    counters = {name for name, kind in after.families.items() if kind == "counter"}
    earlier = {(s.name, s.labels): s.value for s in before.samples}
    return [
        f"{s.name}{dict(s.labels)} went from {earlier[(s.name, s.labels)]} to {s.value}"
        for s in after.samples
        if s.name.removesuffix("_total") in counters
        and s.name.endswith("_total")
        and (s.name, s.labels) in earlier
        and s.value < earlier[(s.name, s.labels)]
    ]
