"""The analytics consumer: every event of stream_events into ClickHouse, at least once.

Offsets are committed only after ClickHouse took the batch, so a restart re-reads what was not
stored; rows are keyed by event_id in a ReplacingMergeTree, and readers count distinct event ids,
so a re-read batch is never counted twice. The SQL runs on ClickHouse 18.16 and current releases.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError
from confluent_kafka import (
    OFFSET_STORED,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from reference_service.config import Settings
from reference_service.events import BROKER_TIMEOUT, ensure_topic
from reference_service.supervise import SUPERVISOR_PID

log = logging.getLogger("reference_service.analytics")

RETRY_AFTER = 0.5
GROUP = "nova-analytics"
DDL = (
    "CREATE DATABASE IF NOT EXISTS nova_analytics",
    """
    CREATE TABLE IF NOT EXISTS nova_analytics.stream_events (
        event_id String,
        event_type String,
        stream_id String,
        creator_id String,
        user_id String,
        viewer_count UInt32,
        peak_viewers UInt32,
        duration_seconds Float64,
        event_time DateTime,
        kafka_partition UInt32,
        kafka_offset UInt64,
        payload String
    ) ENGINE = ReplacingMergeTree()
    ORDER BY (stream_id, event_id)
    """,
)
COLUMNS = (
    "event_id, event_type, stream_id, creator_id, user_id, viewer_count, peak_viewers, "
    "duration_seconds, event_time, kafka_partition, kafka_offset, payload"
)


def row(message: Message) -> tuple[Any, ...] | None:
    value = message.value()
    if value is None:
        log.error("skipping an empty event at %s/%s", message.partition(), message.offset())
        return None
    try:
        event = json.loads(value)
        return (
            str(event["event_id"]),
            str(event["event_type"]),
            str(event["stream_id"]),
            str(event.get("creator_id", "")),
            str(event.get("user_id", "")),
            int(event.get("viewer_count", 0)),
            int(event.get("peak_viewers", 0)),
            float(event.get("duration_seconds", 0.0)),
            datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).replace(tzinfo=None),
            message.partition(),
            message.offset(),
            value.decode(errors="replace"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.error(
            "skipping a malformed event at %s/%s: %r", message.partition(), message.offset(), error
        )
        return None


def prepared(settings: Settings, stopping: threading.Event) -> Client | None:
    """The topic and the analytics table, made ready; a consumer started while a store is
    down waits for it (None: told to stop meanwhile)."""
    clickhouse = Client.from_url(settings.clickhouse_url)
    while True:
        try:
            ensure_topic(
                AdminClient({"bootstrap.servers": settings.kafka_bootstrap}),
                settings.kafka_topic,
                settings.kafka_partitions,
            )
            for statement in DDL:
                clickhouse.execute(statement)
        except Exception as error:
            log.warning("cannot start consuming yet, retrying: %r", error)
            if stopping.wait(RETRY_AFTER):
                return None
        else:
            return clickhouse


def run(settings: Settings) -> int:
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    clickhouse = prepared(settings, stopping)
    if clickhouse is None:
        return 0
    lost = threading.Event()  # every broker went away, or the topic did: assign afresh
    consumer = consumer_for(settings, lost)
    while not assign(consumer, settings.kafka_topic):
        if stopping.wait(RETRY_AFTER):
            return 0
    if settings.analytics_ready_file:
        # The supervisor's pid when supervised: that is the process the deployment started.
        pid = os.environ.get(SUPERVISOR_PID, str(os.getpid()))
        Path(settings.analytics_ready_file).write_text(pid)
    log.info("consuming %s for group %s", settings.kafka_topic, GROUP)
    try:
        while not stopping.is_set():
            if lost.is_set():
                # A fresh client, not the old one reassigned: librdkafka keeps the partitions of
                # a topic that went, and crashed (SIGSEGV) when they were assigned again.
                consumer.close()
                consumer = consumer_for(settings, lost)
                while not assign(consumer, settings.kafka_topic):
                    if stopping.wait(RETRY_AFTER):
                        return 0
                lost.clear()
                log.warning(
                    "the broker or the topic went: consuming %s afresh", settings.kafka_topic
                )
            consumed, rows = read(consumer, lost)
            if consumed and store(clickhouse, rows, stopping):
                try:
                    consumer.commit(asynchronous=False)
                except KafkaException as error:  # the broker went (again): the rows are stored
                    log.warning("could not commit the offsets, the events come again: %s", error)
    finally:
        consumer.close()
        clickhouse.disconnect()
    return 0


def consumer_for(settings: Settings, lost: threading.Event) -> Consumer:
    def on_error(error: KafkaError) -> None:
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            lost.set()

    return Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": GROUP,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "error_cb": on_error,
        }
    )


def read(consumer: Consumer, lost: threading.Event) -> tuple[int, list[tuple[Any, ...]]]:
    """Up to 500 events: how many were read, and the rows of those that parse."""
    rows, consumed = [], 0
    for message in consumer.consume(num_messages=500, timeout=0.5):
        error = message.error()
        if error is not None:
            log.warning("Kafka: %s", error)
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                lost.set()
            continue
        consumed += 1
        parsed = row(message)
        if parsed is not None:
            rows.append(parsed)
    return consumed, rows


def assign(consumer: Consumer, topic: str) -> bool:
    """Every partition of the topic, from the group's committed offsets (none: the start).

    Assigned, not subscribed: no group join to wait for, and after a broker that lost
    everything, positions come from what the broker says now, not from what was read before.
    """
    try:
        # All topics, not this one by name: a broker may create a topic a client names (Tansu
        # does, with its own partition count), and only the relay creates this one.
        metadata = consumer.list_topics(timeout=BROKER_TIMEOUT).topics.get(topic)
    except KafkaException:
        return False
    if metadata is None or metadata.error is not None or not metadata.partitions:
        return False
    consumer.assign([TopicPartition(topic, p, OFFSET_STORED) for p in metadata.partitions])
    return True


def store(clickhouse: Client, rows: list[tuple[Any, ...]], stopping: threading.Event) -> bool:
    """Insert, retrying until it works or the consumer stops; True once ClickHouse has the rows."""
    while True:
        try:
            if rows:
                clickhouse.execute(
                    f"INSERT INTO nova_analytics.stream_events ({COLUMNS}) VALUES", rows
                )
        except (ClickHouseError, OSError, EOFError) as error:
            log.error("ClickHouse refused %d events, retrying: %r", len(rows), error)
            if stopping.wait(1.0):
                return False
        else:
            return True
