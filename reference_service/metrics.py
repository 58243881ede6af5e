"""Prometheus metrics: low-cardinality labels only, never a stream or user id."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "nova_streaming"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_streams = Gauge(f"{PREFIX}_active_streams", "Streams live now.", registry=r)
        self.viewers = Gauge(
            f"{PREFIX}_viewers", "Viewers of streams on air (live or interrupted) now.", registry=r
        )
        self.websocket_connections = Gauge(
            f"{PREFIX}_websocket_connections", "Open WebSocket connections.", registry=r
        )
        self.streams_started = Counter(
            f"{PREFIX}_streams_started", "Streams that went live.", registry=r
        )
        self.interrupted_streams = Gauge(
            f"{PREFIX}_interrupted_streams",
            "Streams waiting for their publisher to reconnect now.",
            registry=r,
        )
        self.streams_ended = Counter(f"{PREFIX}_streams_ended", "Streams that ended.", registry=r)
        self.streams_interrupted = Counter(
            f"{PREFIX}_streams_interrupted",
            "Times a live stream lost its publisher and waited for it (a reconnect window).",
            registry=r,
        )
        self.streams_resumed = Counter(
            f"{PREFIX}_streams_resumed",
            "Times an interrupted stream's publisher came back within its window.",
            registry=r,
        )
        self.viewer_joins = Counter(
            f"{PREFIX}_viewer_joins", "Joins that added a viewer.", registry=r
        )
        self.viewer_leaves = Counter(
            f"{PREFIX}_viewer_leaves", "Leaves that removed a viewer.", registry=r
        )
        self.webhook_requests = Counter(
            f"{PREFIX}_webhook_requests",
            "nginx-rtmp webhook calls by call and result.",
            ["call", "result"],
            registry=r,
        )
        self.broadcast_errors = Counter(
            f"{PREFIX}_broadcast_errors", "WebSocket sends that failed.", registry=r
        )
        self.kafka_delivery_errors = Counter(
            f"{PREFIX}_kafka_delivery_errors",
            "Rounds of the outbox relay the broker failed (the events wait).",
            registry=r,
        )
        self.stream_duration = Histogram(
            f"{PREFIX}_stream_duration_seconds",
            "How long streams were live.",
            buckets=(1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400),
            registry=r,
        )
        self.fanout_latency = Histogram(
            f"{PREFIX}_fanout_latency_seconds",
            "From an event happening to its last WebSocket send in the room.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
