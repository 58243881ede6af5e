"""Kafka checker: the stream_events a scenario caused, read from where the scenario began.

Manual partition assignment, no consumer group: no group join to wait for. The starting offsets
are the high watermarks taken at the scenario's start; on brokers whose watermark lags after a
batched produce (Tansu) that only means reading a few older events, which the stream-id filter
drops.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from support.core.contract import event_problems, stores

TOPIC: str = stores()["kafka"]["topic"]
QUIET_POLLS = 2


@dataclass(frozen=True)
class KafkaEvent:
    partition: int
    offset: int
    key: str | None
    payload: dict[str, Any]
    problems: tuple[str, ...]

    @property
    def event_type(self) -> str:
        return str(self.payload.get("event_type"))


class KafkaChecker:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def _consumer(self) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"nova-suite-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "socket.timeout.ms": 5000,
            }
        )

    def mark(self) -> dict[int, int]:
        """Where each partition ends now: the scenario's events come after."""
        consumer = self._consumer()
        try:
            # All topics, not the one by name: some brokers (Tansu) create a topic a client
            # names, and the suite must not create the platform's topic for it.
            metadata = consumer.list_topics(timeout=5)
            topic = metadata.topics.get(TOPIC)
            if topic is None or topic.error is not None or not topic.partitions:
                raise AssertionError(f"the broker has no topic {TOPIC} (yet)")
            partitions = topic.partitions
            return {
                p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=5)[1]
                for p in partitions
            }
        finally:
            consumer.close()

    def beginning(self) -> dict[int, int]:
        """Every partition from its start: to read a topic a broker had to create again."""
        return dict.fromkeys(self.mark(), 0)

    def events_since(self, marks: dict[int, int], stream_ids: set[str]) -> list[KafkaEvent]:
        """Every event of these streams after the marks, in partition order (per-stream order).

        Reads until the broker has nothing more, not to the high watermark, which some brokers
        report low after a batched produce.
        """
        consumer = self._consumer()
        found = []
        try:
            consumer.assign([TopicPartition(TOPIC, p, offset) for p, offset in marks.items()])
            quiet = 0
            while quiet < QUIET_POLLS:
                messages = consumer.consume(500, timeout=0.2)
                quiet = 0 if messages else quiet + 1
                for message in messages:
                    if message.error():
                        continue
                    payload = json.loads(message.value() or b"null")
                    if isinstance(payload, dict) and payload.get("stream_id") in stream_ids:
                        key = message.key()
                        found.append(
                            KafkaEvent(
                                message.partition() or 0,
                                message.offset() or 0,
                                key.decode() if key else None,
                                payload,
                                tuple(event_problems("kafka", payload)),
                            )
                        )
        finally:
            consumer.close()
        return sorted(found, key=lambda e: (e.partition, e.offset))
