"""Events: their shape, and the stream_events topic (created up front: some brokers, Tansu among
them, do not create it for a consumer). Publishing is the outbox relay's (outbox.py)."""

from __future__ import annotations

import uuid
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from reference_service.domain import now, rfc3339

BROKER_TIMEOUT = 5.0


def event(event_type: str, stream_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "stream_id": str(stream_id),
        **fields,
        "timestamp": rfc3339(now()),
    }


def ensure_topic(admin: AdminClient, topic: str, partitions: int) -> bool:
    """Create the topic unless it exists; True if it had to be created."""
    if topic in admin.list_topics(timeout=BROKER_TIMEOUT).topics:
        return False
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions)])
    try:
        futures[topic].result(timeout=BROKER_TIMEOUT)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
        return False
    return True
