"""Kafka: the stream_events topic and the service's idempotent producer."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from reference_service.domain import now, rfc3339
from reference_service.metrics import Metrics

log = logging.getLogger(__name__)


def ensure_topic(bootstrap: str, topic: str, partitions: int) -> None:
    """Create the topic up front: some brokers (Tansu) do not create it for a consumer."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions)], operation_timeout=10
    )
    try:
        futures[topic].result(timeout=10)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise


def event(event_type: str, stream_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "stream_id": str(stream_id),
        **fields,
        "timestamp": rfc3339(now()),
    }


class EventLog:
    """Publishes events keyed by stream id, so each stream's events keep their order."""

    def __init__(self, bootstrap: str, topic: str, metrics: Metrics) -> None:
        self.topic = topic
        self.metrics = metrics
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "client.id": "nova-reference-service",
            }
        )
        self._poller: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._poller = asyncio.create_task(self._poll_forever(), name="kafka-delivery-reports")

    async def _poll_forever(self) -> None:
        while True:
            self.producer.poll(0)
            await asyncio.sleep(0.05)

    def publish(self, payload: dict[str, Any]) -> None:
        self.producer.produce(
            self.topic,
            key=payload["stream_id"].encode(),
            value=json.dumps(payload, separators=(",", ":")).encode(),
            on_delivery=self._delivered,
        )

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.metrics.kafka_delivery_errors.inc()
            log.error("Kafka did not take an event for %s: %s", message.key(), error)

    async def ping(self) -> None:
        loop = asyncio.get_running_loop()
        metadata = await loop.run_in_executor(None, lambda: self.producer.list_topics(timeout=2))
        if self.topic not in metadata.topics:
            raise RuntimeError(f"topic {self.topic} does not exist")

    async def close(self) -> None:
        if self._poller:
            self._poller.cancel()
        loop = asyncio.get_running_loop()
        left = await loop.run_in_executor(None, self.producer.flush, 10)
        if left:
            log.error("%d events were not delivered to Kafka before shutdown", left)
