"""The consumer that feeds the read model from the topics, exactly once into the database.

Group-less and read_committed: the database, not a consumer group, holds the
offsets, written in the same transaction as the rows they cover (``readmodel.apply``).
On start each partition is positioned at its stored offset; a batch the database
refuses is retried from the stored offsets. Two feeds on one database are safe:
each batch locks the offset rows it moves, and skips what the other applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from review import tables as t
from review.database import writer
from review.readmodel import Applied, FeedRecord, TopicNames, apply, reset
from worker.committed_reader import reader, start_reader
from worker.kafka_client import KafkaConnection
from worker.logs import get_logger
from worker.topic_admin import partitions_of

log = get_logger("review.feed")


def stored_offsets(engine: Engine) -> dict[tuple[str, int], int]:
    with engine.connect() as conn:
        return {
            (r.topic, r.partition): r.next_offset
            for r in conn.execute(select(t.feed_offsets)).all()
        }


class Feed:
    def __init__(
        self,
        engine: Engine,
        conn: KafkaConnection,
        names: TopicNames,
        poll_ms: int = 200,
        max_records: int = 1000,
    ) -> None:
        self.engine = engine
        self.conn = conn
        self.names = names
        self.poll_ms = poll_ms
        self.max_records = max_records
        self.totals = Applied()
        self._consumer: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []
        self._stopping = asyncio.Event()

    async def start(self, wait_for_topics_s: float = 120.0) -> None:
        consumer = reader(self.conn)
        await start_reader(consumer)
        self._consumer = consumer
        deadline = time.monotonic() + wait_for_topics_s
        while True:
            # The worker's deployment creates its topics; until then there is nothing to read.
            present = await consumer.topics()  # a metadata request for every topic
            missing = [n for n in self.names.all if n not in present]
            if not missing:
                break
            if time.monotonic() > deadline:
                await consumer.stop()
                raise RuntimeError(f"topics not on the broker: {', '.join(missing)}")
            log.info("feed_waiting_for_topics", missing=missing)
            await asyncio.sleep(1.0)
        self._tps = [tp for name in self.names.all for tp in await partitions_of(self.conn, name)]
        consumer.assign(self._tps)
        await self._position()

    async def _position(self) -> None:
        """Every partition at its stored offset (the beginning when none is stored)."""
        consumer = self._require()
        stored = await asyncio.to_thread(stored_offsets, self.engine)
        beginnings = await consumer.beginning_offsets(self._tps)
        for tp in self._tps:
            consumer.seek(tp, max(stored.get((tp.topic, tp.partition), 0), beginnings[tp]))

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("the feed is not started")
        return self._consumer

    def _apply(self, records: Sequence[FeedRecord]) -> Applied:
        with writer(self.engine).begin() as conn:
            return apply(conn, self.names, records)

    async def step(self) -> Applied:
        """One fetch, applied in one database transaction."""
        consumer = self._require()
        batches = await consumer.getmany(timeout_ms=self.poll_ms, max_records=self.max_records)
        records = [
            FeedRecord(r.topic, r.partition, r.offset, r.timestamp, r.value)
            for recs in batches.values()
            for r in recs
        ]
        if not records:
            return Applied()
        try:
            applied = await asyncio.to_thread(self._apply, records)
        except SQLAlchemyError:
            await self._position()  # nothing of the batch was kept: read it again
            raise
        self.totals.records += applied.records
        self.totals.skipped += applied.skipped
        self.totals.unreadable += applied.unreadable
        return applied

    async def catch_up(self, timeout: float = 300.0) -> None:
        """Apply everything committed up to now (the ends as of this call), then return."""
        consumer = self._require()
        ends = await consumer.end_offsets(self._tps)
        deadline = time.monotonic() + timeout
        while True:
            behind = [tp for tp in self._tps if await consumer.position(tp) < ends[tp]]
            if not behind:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the feed did not reach the topics' ends in time")
            await self.step()

    async def run(self) -> None:
        """Apply until ``stop()``; database or broker trouble is retried with a backoff."""
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                await self.step()
                backoff = 0.2
            except (SQLAlchemyError, KafkaError) as exc:
                log.warning("feed_retry", error=type(exc).__name__, backoff_s=backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 10.0)

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


def applied_through(engine: Engine, topic: str, partition: int) -> int:
    """The next offset the read model expects on a partition (0: nothing applied)."""
    with engine.connect() as conn:
        value = conn.execute(
            select(t.feed_offsets.c.next_offset).where(
                (t.feed_offsets.c.topic == topic) & (t.feed_offsets.c.partition == partition)
            )
        ).scalar_one_or_none()
    return int(value or 0)


async def rebuild(engine: Engine, conn: KafkaConnection, names: TopicNames) -> Applied:
    """Empty the topic-fed tables and read every topic again from its beginning."""

    def wipe() -> None:
        with writer(engine).begin() as conn:
            reset(conn)

    await asyncio.to_thread(wipe)
    feed = Feed(engine, conn, names)
    await feed.start()
    try:
        await feed.catch_up()
    finally:
        await feed.close()
    return feed.totals
