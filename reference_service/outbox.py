"""The relay of the transactional outbox: events written with their change, published after.

Every change writes its events into PostgreSQL's `outbox` in its own transaction (store.Changes).
This relay publishes unsent events to Kafka in the order they were written, keyed by stream id,
waits until the broker has every one, and only then marks them sent. While the broker is down
nothing is lost, the API keeps serving, and the events wait; when it is back they go out in order.

A broker that comes back without the topic (the embedded broker keeps topics in memory) has lost
what it held: the relay creates the topic again and publishes every event it has kept (one hour)
once more, so the topic holds each event once, in order. Consumers count events by `event_id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient
from psycopg_pool import AsyncConnectionPool

from reference_service.events import BROKER_TIMEOUT, ensure_topic
from reference_service.metrics import Metrics

log = logging.getLogger(__name__)

BATCH = 500
RETRY_AFTER = 0.5
KEPT_FOR = 3600  # seconds a sent event is kept, for a broker that lost its topic


class Relay:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        bootstrap: str,
        topic: str,
        partitions: int,
        metrics: Metrics,
    ) -> None:
        self.pool = pool
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.metrics = metrics
        self.admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
        self.producer: Producer | None = None
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._relay_forever(), name="outbox-relay")

    async def close(self) -> None:
        """Publish what is waiting (a few seconds at most), then stop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await asyncio.wait_for(self._publish_waiting(), BROKER_TIMEOUT)
        except Exception as error:  # the broker is down: the events wait in PostgreSQL
            log.warning("events left in the outbox at shutdown: %r", error)

    async def ping(self) -> None:
        loop = asyncio.get_running_loop()
        metadata = await loop.run_in_executor(None, lambda: self.admin.list_topics(timeout=2))
        if self.topic not in metadata.topics:
            raise RuntimeError(f"topic {self.topic} does not exist")

    async def _relay_forever(self) -> None:
        while True:
            try:
                while await self._publish_waiting():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.metrics.kafka_delivery_errors.inc()
                log.warning("the outbox relay could not publish, retrying: %r", error)
                self._drop_producer()
                await asyncio.sleep(RETRY_AFTER)
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), RETRY_AFTER)

    async def _publish_waiting(self) -> int:
        """Publish one batch of unsent events; how many went out. Called for every batch and
        every idle half second, so a broker that lost its topic is noticed before it is used."""
        await self._ready()
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT id, stream_id, payload FROM outbox WHERE sent_at IS NULL "
                "ORDER BY id LIMIT %s",
                (BATCH,),
            )
            rows = await cursor.fetchall()
        if not rows:
            return 0
        loop = asyncio.get_running_loop()
        failures = await loop.run_in_executor(None, self._produce, rows)
        if failures:
            raise RuntimeError(f"the broker did not take {len(failures)} events: {failures[0]}")
        async with self.pool.connection() as connection:
            await connection.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", ([row[0] for row in rows],)
            )
            await connection.execute(
                "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => %s)", (KEPT_FOR,)
            )
        return len(rows)

    def _produce(self, rows: list[tuple[Any, ...]]) -> list[str]:
        """Produce the rows in order and wait for every delivery; the errors, if any."""
        assert self.producer is not None
        failures: list[str] = []

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(str(error))

        for _, stream_id, payload in rows:
            self.producer.produce(
                self.topic,
                key=str(stream_id).encode(),
                value=payload.encode(),
                on_delivery=delivered,
            )
        left = self.producer.flush(BROKER_TIMEOUT)
        if left:
            failures.append(f"{left} events still waiting after {BROKER_TIMEOUT} s")
        return failures

    async def _ready(self) -> None:
        """A producer for a broker that holds the topic; a lost topic brings the events back."""
        loop = asyncio.get_running_loop()
        created = await loop.run_in_executor(
            None, ensure_topic, self.admin, self.topic, self.partitions
        )
        if created:
            async with self.pool.connection() as connection:
                cursor = await connection.execute(
                    "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL"
                )
            log.warning(
                "the broker had lost topic %s: created it again, publishing %d kept events again",
                self.topic,
                cursor.rowcount,
            )
            self._drop_producer()
        if self.producer is not None:
            return
        self.producer = Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "client.id": "nova-reference-service",
                "log_level": 0,
            }
        )

    def _drop_producer(self) -> None:
        """After a failure, start afresh: nothing queued in a producer may be sent unchecked."""
        if self.producer is not None:
            self.producer.purge()
            self.producer = None
