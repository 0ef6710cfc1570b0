"""Writing review actions to ``claims.review-actions``: hash-chained, checkpointed,
one Kafka transaction per action.

Each actions partition is one chain with one writer at a time, as each audit
partition is: the partition's transactional producer has a stable id
(``<prefix>.<topic>.<partition>``), so opening it fences any other app instance's
producer for that partition and resolves its open transaction; only then is the
chain's head read from the partition's last committed event. An instance that was
fenced opens its producer again (fencing the other in turn) and re-reads the head.
An action's transaction holds the event, the checkpoint pinning the new head
(``AuditCheckpoint`` on ``claims.review-actions-checkpoints``, same partition) and,
for a resubmission, the new claim version on ``claims.submitted``: all or nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced
from aiokafka.partitioner import DefaultPartitioner

from review.events import ReviewAction
from review.settings import ReviewSettings
from schemas.audit import AuditCheckpoint
from worker.audit.chain import ChainHead, head_after
from worker.committed_reader import last_committed_value, reader, start_reader
from worker.kafka_client import KafkaConnection
from worker.logs import get_logger
from worker.topic_admin import ensure_topics, partitions_of
from worker.topology import OutRecord

log = get_logger("review.action_log")

# Like the audit log: kept forever (the chain is only as good as its oldest event) and
# never compacted. An action's event is small; a resubmitted claim goes elsewhere.
KEPT_FOREVER: Mapping[str, str] = MappingProxyType(
    {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
)


def topic_configs(settings: ReviewSettings) -> dict[str, dict[str, str]]:
    return {
        settings.actions_topic: dict(KEPT_FOREVER),
        settings.actions_checkpoints_topic: dict(KEPT_FOREVER),
    }


@dataclass(frozen=True, slots=True)
class Written:
    partition: int
    offset: int
    action: ReviewAction


@dataclass
class _Chain:
    producer: AIOKafkaProducer
    head: ChainHead


class ActionLog:
    def __init__(self, settings: ReviewSettings, conn: KafkaConnection) -> None:
        self.settings = settings
        self.conn = conn
        self._partitions: list[int] = []
        self._chains: dict[int, _Chain] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._partitioner = DefaultPartitioner()

    async def start(self) -> None:
        await ensure_topics(
            self.conn, topic_configs(self.settings), self.settings.actions_partitions
        )
        tps = await partitions_of(self.conn, self.settings.actions_topic)
        self._partitions = [tp.partition for tp in tps]
        self._locks = {p: asyncio.Lock() for p in self._partitions}

    def partition_for(self, claim_id: str) -> int:
        """A claim's actions all go to one partition (by key, as Kafka's producer would)."""
        if not self._partitions:
            raise RuntimeError("the action log is not started")
        chosen: int = self._partitioner(claim_id.encode(), self._partitions, self._partitions)
        return chosen

    async def _open(self, partition: int) -> _Chain:
        s = self.settings
        producer = AIOKafkaProducer(
            **self.conn.options(),
            client_id=f"{s.app_id}-actions-p{partition}",
            transactional_id=f"{s.transactional_id_prefix}.{s.actions_topic}.{partition}",
            enable_idempotence=True,
            acks="all",
            max_request_size=17 * 1024 * 1024,
        )
        await producer.start()  # fences the previous writer of this partition
        consumer = reader(self.conn)
        await start_reader(consumer)
        try:
            last = await last_committed_value(consumer, TopicPartition(s.actions_topic, partition))
        finally:
            await consumer.stop()
        return _Chain(producer, head_after(last))

    async def _drop(self, partition: int) -> None:
        chain = self._chains.pop(partition, None)
        if chain is not None:
            with contextlib.suppress(KafkaError):
                await chain.producer.stop()

    async def append(
        self,
        claim_id: str,
        build: Callable[[ChainHead], ReviewAction],
        extra: Sequence[OutRecord] = (),
    ) -> Written:
        """Write one action, linked to its partition's chain, with ``extra`` records in
        the same transaction. ``build`` gets the head the action must link to."""
        partition = self.partition_for(claim_id)
        async with self._locks[partition]:
            for attempt in (1, 2):
                chain = self._chains.get(partition)
                if chain is None:
                    chain = self._chains[partition] = await self._open(partition)
                action = build(chain.head)
                try:
                    offset = await self._write(chain, partition, claim_id, action, extra)
                except ProducerFenced:
                    # Another instance wrote this partition since: take it back, re-read the head.
                    await self._drop(partition)
                    if attempt == 2:
                        raise
                    log.info("action_log_fenced_retrying", partition=partition)
                    continue
                except BaseException:
                    await self._drop(partition)
                    raise
                return Written(partition, offset, action)
        raise AssertionError("unreachable")

    async def _write(
        self,
        chain: _Chain,
        partition: int,
        claim_id: str,
        action: ReviewAction,
        extra: Sequence[OutRecord],
    ) -> int:
        s = self.settings
        data = action.model_dump_json().encode()
        head = chain.head.after(data)
        pinned = AuditCheckpoint(
            partition=partition, events=head.seq, head_sha256=head.prev_hash,
            worker_id=s.app_id, at=datetime.now(UTC),
        )  # fmt: skip
        producer = chain.producer
        await producer.begin_transaction()
        try:
            event = await producer.send(
                s.actions_topic, data, key=claim_id.encode(), partition=partition
            )
            others = [
                await producer.send(r.topic, r.value, key=r.key, partition=r.partition)
                for r in extra
            ]
            checkpoint = await producer.send(
                s.actions_checkpoints_topic,
                pinned.model_dump_json().encode(),
                key=str(partition).encode(),
                partition=partition,
            )
            metadata = await event
            await asyncio.gather(checkpoint, *others)
            await producer.commit_transaction()
        except ProducerFenced:
            raise
        except BaseException:
            with contextlib.suppress(KafkaError):
                await producer.abort_transaction()
            raise
        chain.head = head
        return int(metadata.offset)

    async def close(self) -> None:
        for partition in list(self._chains):
            await self._drop(partition)
