"""The relay of the transactional outbox: events written with their change, published after.

Every change writes its events into PostgreSQL's `outbox` in its own transaction (store.Changes).
This relay publishes unsent events to Kafka in the order they were written, keyed by stream id,
waits until the broker has every one, and only then marks them sent. While the broker is down
nothing is lost, the API keeps serving, and the events wait; when it is back they go out in order.

A broker that comes back having lost what it held (the embedded broker keeps everything in
memory) is told by a marker the relay keeps in the broker itself: a committed offset of its own
consumer group, which such a broker no longer has. The topic may exist again by then (a client's
metadata request can create it), so its existence proves nothing. The relay then publishes every
event it has kept (one hour) once more, so the topic holds each event once, in order. Consumers
count events by `event_id`. The broker is asked about its history before every batch; an idle relay
asks it only until it has found it whole once since the last failure or lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from psycopg_pool import AsyncConnectionPool

from reference_service.events import BROKER_TIMEOUT, ensure_topic
from reference_service.metrics import Metrics

log = logging.getLogger(__name__)

BATCH = 500
RETRY_AFTER = 0.5
MARKER_GROUP = "nova-outbox-relay"  # its committed offset says the broker kept its history
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
        # (confluent-kafka's stubs allow no callback in an AdminClient's configuration)
        admin: Any = {"bootstrap.servers": bootstrap, "log_level": 0}
        admin["error_cb"] = self._connection_lost
        self.admin = AdminClient(admin)
        self.producer: Producer | None = None
        # The kept events were flipped to unsent for this broker; its marker may lag behind.
        self.republished = False
        self.verified = False  # the broker was found whole, and no failure or loss came since
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
                self.republished = False  # the broker may be lost again: check it afresh
                self.verified = False
                await asyncio.sleep(RETRY_AFTER)
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), RETRY_AFTER)

    async def _publish_waiting(self) -> int:
        """Publish one batch of unsent events; how many went out. With none, a broker found
        whole is left alone: an idle relay only reads the outbox. One not yet found whole (at
        start, after a failure or a lost connection) is asked until it is, events or not."""
        self.admin.poll(0)  # both serve _connection_lost for what happened meanwhile
        if self.producer is not None:
            self.producer.poll(0)
        rows = await self._unsent()
        if not rows and self.verified:
            return 0
        if await self._ready():  # the kept events were made unsent again: they go first
            rows = await self._unsent()
        if not rows:
            return 0
        loop = asyncio.get_running_loop()
        delivered, failures = await loop.run_in_executor(None, self._produce, rows)
        async with self.pool.connection() as connection:
            await connection.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (delivered,)
            )
            await connection.execute(
                "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => %s)", (KEPT_FOR,)
            )
        if failures:
            raise RuntimeError(f"the broker did not take {len(failures)} events: {failures[0]}")
        return len(rows)

    async def _unsent(self) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT id, stream_id, payload FROM outbox WHERE sent_at IS NULL "
                "ORDER BY id LIMIT %s",
                (BATCH,),
            )
            return await cursor.fetchall()

    def _produce(self, rows: list[tuple[Any, ...]]) -> tuple[list[int], list[str]]:
        """Produce the rows in order and wait for every delivery: the ids the broker took (the
        longest run from the first, so order holds), and the errors, if any."""
        assert self.producer is not None
        reports: dict[int, KafkaError | None] = {}

        def report(row_id: int) -> Callable[[KafkaError | None, Message], None]:
            def delivered(error: KafkaError | None, _message: Message) -> None:
                reports[row_id] = error

            return delivered

        for row_id, stream_id, payload in rows:
            key = str(stream_id).encode()
            self.producer.produce(self.topic, payload.encode(), key, on_delivery=report(row_id))
        left = self.producer.flush(BROKER_TIMEOUT)
        delivered = []
        for row_id, _, _ in rows:
            if row_id not in reports or reports[row_id] is not None:
                break
            delivered.append(row_id)
        failures = [str(error) for error in reports.values() if error is not None]
        if left:
            failures.append(f"{left} events still waiting after {BROKER_TIMEOUT} s")
        return delivered, failures

    async def _ready(self) -> bool:
        """A producer for a broker that holds the topic and its history; a broker that lost its
        history gets every kept event again (then True). The broker is asked before every
        batch: one that restarted between two batches must be found before the batch goes to
        it (producing into it first left the idempotent producer stuck for good)."""
        loop = asyncio.get_running_loop()
        republish = await self._verify(loop)
        if self.producer is None:
            self.producer = Producer(
                {
                    "bootstrap.servers": self.bootstrap,
                    "enable.idempotence": True,
                    "acks": "all",
                    "linger.ms": 5,
                    "client.id": "nova-reference-service",
                    "log_level": 0,
                    "error_cb": self._connection_lost,
                }
            )
        return republish

    async def _verify(self, loop: asyncio.AbstractEventLoop) -> bool:
        """The topic is there with its partitions' leaders, and the broker kept its history
        (else every kept event is made unsent again: True)."""
        await loop.run_in_executor(None, ensure_topic, self.admin, self.topic, self.partitions)
        await loop.run_in_executor(None, self._topic_ready)
        republish = False
        if not await loop.run_in_executor(None, self._history_kept):
            if self.republished:  # already sent again to this broker: only the marker is missing
                await loop.run_in_executor(None, self._mark_history)
                self.verified = True
                return False
            async with self.pool.connection() as connection:
                cursor = await connection.execute(
                    "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
                )
                kept = (await cursor.fetchone() or (0,))[0]
            if kept:
                # Whatever the topic holds came after the loss (a client's metadata request can
                # create it, a producer of ours can have written to it): start it afresh.
                log.warning("the broker lost what it held: publishing %d kept events again", kept)
                self._drop_producer()
                await loop.run_in_executor(None, self._recreate_topic)
                async with self.pool.connection() as connection:
                    await connection.execute(
                        "UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL"
                    )
                republish = True
            self.republished = True
            await loop.run_in_executor(None, self._mark_history)
        else:
            self.republished = False
        self.verified = True
        return republish

    def _connection_lost(self, error: KafkaError) -> None:
        """A client lost the broker: it may come back without its history; ask it again."""
        if error.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
            self.verified = False

    def _topic_ready(self) -> None:
        """Every partition of the topic has a leader: a broker just back may not be there yet."""
        topic = self.admin.list_topics(timeout=BROKER_TIMEOUT).topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise RuntimeError(f"topic {self.topic} is not ready: {topic and topic.error}")
        leaderless = [p.id for p in topic.partitions.values() if p.leader < 0 or p.error]
        if leaderless:
            raise RuntimeError(f"partitions {leaderless} of {self.topic} have no leader yet")

    def _history_kept(self) -> bool:
        marker = self._marker()
        try:
            (kept,) = marker.committed([TopicPartition(self.topic, 0)], timeout=BROKER_TIMEOUT)
        finally:
            marker.close()
        return bool(kept.offset >= 0)

    def _mark_history(self) -> None:
        marker = self._marker()
        try:
            marker.commit(offsets=[TopicPartition(self.topic, 0, 0)], asynchronous=False)
        finally:
            marker.close()

    def _marker(self) -> Consumer:
        """A fresh client each time: nothing it remembers may stand in for the broker's answer."""
        return Consumer(
            {"bootstrap.servers": self.bootstrap, "group.id": MARKER_GROUP,
             "enable.auto.commit": False, "log_level": 0}
        )  # fmt: skip

    def _recreate_topic(self) -> None:
        self.admin.delete_topics([self.topic])[self.topic].result(timeout=BROKER_TIMEOUT)
        ensure_topic(self.admin, self.topic, self.partitions)
        self._topic_ready()

    def _drop_producer(self) -> None:
        """After a failure, start afresh: nothing queued or in flight in the old producer may be
        sent again behind the relay's back (its events are still unsent in the outbox)."""
        if self.producer is not None:
            self.producer.purge(in_queue=True, in_flight=True, blocking=True)
            self.producer.flush(0)
            self.producer.close()
            self.producer = None
