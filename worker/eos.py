"""Exactly-once processing of ``claims.submitted`` with aiokafka transactions.

The shape of it (Kafka Streams' EOS v1, which is what aiokafka's transactional
offset commit supports):

* one transactional producer per input partition, with the stable id
  ``<prefix>.<topic>.<partition>``, started when the partition is assigned and
  before anything is read from it. Starting it bumps the producer epoch, which
  fences a zombie owner and completes or aborts its open transaction;
* then the committed offset is read again and the partition is positioned on
  it: aiokafka reads committed offsets before calling the assignment listener,
  which may be before the zombie's last transaction was resolved;
* per partition and batch, one transaction holds every decision, every audit
  event and the input offsets (``send_offsets_to_transaction``). Downstream
  readers with ``read_committed`` see all of it or none of it;
* a transient error aborts, seeks back to the batch's first offset and backs
  off; a fenced producer stops writing and its partition is paused until the
  group hands it out again;
* on revocation the in-flight batch finishes (the processing lock) before the
  partition's producer is closed; a batch fetched before any rebalance is
  dropped, because the rebalance re-positions every partition on its
  committed offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError, ProducerFenced

from rules.pack import load_pack_dir
from schemas.audit import AuditCheckpoint, SourceRef
from worker import auditlog
from worker.chain import ChainHead, head_after
from worker.logs import get_logger
from worker.processing import Decision, DecisionContext, decide
from worker.settings import Settings

log = get_logger("worker.eos")


@dataclass
class Stats:
    """Counters for health and metrics; never anything from a claim."""

    records: int = 0
    batches: int = 0
    aborted: int = 0
    fenced: int = 0
    dropped_stale: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    last_commit_monotonic: float | None = None


def transactional_id(prefix: str, tp: TopicPartition) -> str:
    return f"{prefix}.{tp.topic}.{tp.partition}"


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: ClaimProcessor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._processor.release(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._processor.acquire(set(assigned))


class ClaimProcessor:
    """Consumes submitted claims and writes decisions exactly once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stats = Stats()
        self._ctx = DecisionContext(
            topics=settings.topics,
            worker_id=settings.worker_id,
            max_claim_bytes=settings.max_claim_bytes,
            pack=load_pack_dir(settings.rule_pack_dir) if settings.rule_pack_dir else None,
        )
        self._consumer: AIOKafkaConsumer | None = None
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self._lock = asyncio.Lock()
        self._rebalances = 0
        self._failures: Counter[TopicPartition] = Counter()  # consecutive, per partition
        # The head of each owned partition's audit chain, as last committed.
        self._chains: dict[TopicPartition, ChainHead] = {}
        self._audit_reader: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._running = False

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=s.group_id,
            client_id=f"oncoscrub-{s.worker_id}",
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            fetch_max_bytes=s.fetch_max_bytes,
            max_partition_fetch_bytes=s.max_partition_fetch_bytes,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
        )
        await self._consumer.start()
        self._audit_reader = auditlog.reader(s.bootstrap_servers)
        await auditlog.start_reader(self._audit_reader)
        self._consumer.subscribe([s.topics.submitted], listener=_Listener(self))
        self._running = True
        log.info("processor_started", group=s.group_id, topic=s.topics.submitted)

    async def run(self) -> None:
        """Process until ``stop()``. Raises only on errors the worker cannot survive."""
        consumer = self._require_consumer()
        s = self.settings
        while not self._stopping.is_set():
            seen = self._rebalances
            # getmany's limit is across partitions: scale it so each owned partition
            # can fill a transaction of batch_max_records.
            limit = s.batch_max_records * max(1, len(self._producers))
            batches = await consumer.getmany(timeout_ms=s.poll_timeout_ms, max_records=limit)
            if not batches:
                continue
            async with self._lock:
                if self._rebalances != seen:
                    # Fetched across a rebalance: positions may be stale, so read
                    # these again from the committed offsets.
                    self.stats.dropped_stale += sum(len(r) for r in batches.values())
                    rewound = await self._rewind(set(batches))
                    log.info(
                        "stale_batch_dropped",
                        first_offsets={str(tp.partition): r[0].offset for tp, r in batches.items()},
                        committed={str(p): o for p, o in rewound.items()},
                    )
                    continue
                await asyncio.gather(*(self._process(tp, recs) for tp, recs in batches.items()))

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        """Leave the group and close every producer; the in-flight batch has finished."""
        self._stopping.set()
        async with self._lock:
            if self._consumer is not None:
                await self._consumer.stop()
                self._consumer = None
            if self._audit_reader is not None:
                await self._audit_reader.stop()
                self._audit_reader = None
            await self._close_producers(list(self._producers))
            self._running = False
        log.info("processor_stopped", **self._stats_fields())

    @property
    def ready(self) -> bool:
        return self._running and not self._stopping.is_set()

    @property
    def owned_partitions(self) -> list[TopicPartition]:
        return sorted(self._producers, key=lambda tp: (tp.topic, tp.partition))

    # -- rebalance ------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _rebalancing(self) -> AsyncIterator[None]:
        # Counted on entry and on exit: a batch whose fetch began at any moment
        # before a rebalance callback finished may come from positions that the
        # callback has since corrected, and is dropped.
        async with self._lock:
            self._rebalances += 1
            try:
                yield
            finally:
                self._rebalances += 1

    async def acquire(self, assigned: set[TopicPartition]) -> None:
        async with self._rebalancing():
            fresh = [tp for tp in assigned if tp not in self._producers]
            opened = await asyncio.gather(*(self._open_producer(tp) for tp in fresh))
            self._producers.update(zip(fresh, opened, strict=True))
            # Starting the producers resolved any transaction a previous owner left
            # open, so the committed offsets and audit chain heads read now are stable.
            committed = await self._rewind(assigned)
            for tp in assigned:
                self._chains[tp] = await self._read_chain_head(tp)
        log.info(
            "partitions_assigned",
            partitions=sorted(tp.partition for tp in assigned),
            committed={str(p): o for p, o in sorted(committed.items())},
            chain_seq={str(tp.partition): self._chains[tp].seq for tp in sorted(assigned)},
        )

    async def _read_chain_head(self, tp: TopicPartition) -> ChainHead:
        """The audit chain of input partition N is audit partition N: continue it."""
        assert self._audit_reader is not None
        audit_tp = TopicPartition(self.settings.topics.audit, tp.partition)
        return head_after(await auditlog.last_committed_value(self._audit_reader, audit_tp))

    async def _rewind(self, tps: set[TopicPartition]) -> dict[int, int | None]:
        """Position owned partitions on their committed offset (none yet: the beginning).

        The committed offset is the single truth of what is decided: it moves only in
        the transaction that wrote the decisions, and only this worker's producer for
        the partition can write that transaction.
        """
        consumer = self._require_consumer()
        positions: dict[int, int | None] = {}
        for tp in tps & consumer.assignment():
            committed = positions[tp.partition] = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        return positions

    async def release(self, revoked: set[TopicPartition]) -> None:
        async with self._rebalancing():
            await self._close_producers([tp for tp in revoked if tp in self._producers])
            for tp in revoked:
                self._chains.pop(tp, None)  # the next owner reads the head afresh
        log.info("partitions_revoked", partitions=sorted(tp.partition for tp in revoked))

    async def _open_producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        s = self.settings
        producer = AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            client_id=f"oncoscrub-{s.worker_id}-p{tp.partition}",
            transactional_id=transactional_id(s.txn_prefix, tp),
            transaction_timeout_ms=s.transaction_timeout_ms,
            request_timeout_ms=s.request_timeout_ms,
            enable_idempotence=True,
            acks="all",
            linger_ms=s.linger_ms,
            max_batch_size=s.producer_batch_bytes,
            max_request_size=s.max_request_bytes,
        )
        await producer.start()
        return producer

    async def _close_producers(self, tps: Sequence[TopicPartition]) -> None:
        for tp in tps:
            producer = self._producers.pop(tp, None)
            if producer is not None:
                with contextlib.suppress(KafkaError):
                    await producer.stop()

    # -- the hot path ---------------------------------------------------------------------

    async def _process(self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]) -> None:
        """Decide a partition's fetched records, ``batch_max_records`` per transaction."""
        size = self.settings.batch_max_records
        for start in range(0, len(records), size):
            if not await self._process_transaction(tp, records[start : start + size]):
                return  # the failed batch was rewound; what follows it is read again

    async def _process_transaction(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]
    ) -> bool:
        producer = self._producers.get(tp)
        if producer is None:
            if tp not in self._require_consumer().assignment():
                return False  # revoked since the fetch: the new owner reads these again
            try:  # owned, but its producer was dropped after an error
                producer = self._producers[tp] = await self._open_producer(tp)
            except KafkaError as exc:
                await self._on_transient_error(tp, records, exc)
                return False
        began = time.perf_counter()
        decided_at = datetime.now(UTC)
        head = self._chains.get(tp) or await self._read_chain_head(tp)
        decisions = []
        for r in records:
            source = SourceRef(topic=tp.topic, partition=tp.partition, offset=r.offset)
            published = datetime.fromtimestamp(r.timestamp / 1000, UTC)
            decision = decide(r.value, r.key, source, self._ctx, decided_at, head, published)
            head = decision.chain_after
            decisions.append(decision)
        checkpoint = AuditCheckpoint(
            partition=tp.partition, events=head.seq, head_sha256=head.prev_hash,
            worker_id=self.settings.worker_id, at=decided_at,
        )  # fmt: skip
        decided = time.perf_counter()
        try:
            await self._write_transaction(producer, tp, records, decisions, checkpoint)
        except ProducerFenced:
            await self._on_fenced(tp)
            return False
        except KafkaError as exc:
            await self._on_transient_error(tp, records, exc)
            return False
        committed = time.perf_counter()
        self._chains[tp] = head  # only now: an aborted batch leaves the chain where it was
        self._failures.pop(tp, None)
        self._account(tp, records, decisions, began, decided, committed)
        return True

    async def _write_transaction(
        self,
        producer: AIOKafkaProducer,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
        decisions: list[Decision],
        checkpoint: AuditCheckpoint,
    ) -> None:
        await producer.begin_transaction()
        try:
            deliveries = [
                await producer.send(
                    out.topic,
                    out.value,
                    key=out.key,
                    partition=out.partition,
                    headers=list(out.headers) or None,
                )
                for decision in decisions
                for out in decision.records
            ]
            deliveries.append(
                await producer.send(
                    self.settings.topics.audit_checkpoints,
                    checkpoint.model_dump_json().encode(),
                    key=str(tp.partition).encode(),
                    partition=tp.partition,
                )
            )
            await asyncio.gather(*deliveries)
            await producer.send_offsets_to_transaction(
                {tp: records[-1].offset + 1}, self.settings.group_id
            )
            await producer.commit_transaction()
        except ProducerFenced:
            raise
        except BaseException:
            with contextlib.suppress(KafkaError):
                await producer.abort_transaction()
            raise

    def _account(
        self,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
        decisions: list[Decision],
        began: float,
        decided: float,
        committed: float,
    ) -> None:
        outcomes = Counter(d.outcome.value for d in decisions)
        self.stats.records += len(records)
        self.stats.batches += 1
        self.stats.outcomes.update(outcomes)
        self.stats.last_commit_monotonic = committed
        if self.settings.log_decisions:
            for record, decision in zip(records, decisions, strict=True):
                log.info(
                    "decision",
                    claim_id=decision.claim_id,
                    partition=tp.partition,
                    offset=record.offset,
                    outcome=decision.outcome.value,
                    reasons=[r.value for r in decision.reasons] or None,
                )
        log.info(
            "batch_committed",
            partition=tp.partition,
            first_offset=records[0].offset,
            last_offset=records[-1].offset,
            records=len(records),
            outcomes=dict(outcomes),
            decide_ms=round((decided - began) * 1000, 2),
            txn_ms=round((committed - decided) * 1000, 2),
        )

    async def _on_fenced(self, tp: TopicPartition) -> None:
        # A newer producer owns this partition's transactional id: this worker is a
        # zombie for it. Stop writing, stop reading; the group reassigns it.
        self.stats.fenced += 1
        log.error("producer_fenced", partition=tp.partition)
        producer = self._producers.pop(tp, None)
        self._chains.pop(tp, None)
        consumer = self._require_consumer()
        if tp in consumer.assignment():
            consumer.pause(tp)
        if producer is not None:
            with contextlib.suppress(KafkaError):
                await producer.stop()

    async def _on_transient_error(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], exc: KafkaError
    ) -> None:
        self.stats.aborted += 1
        self._failures[tp] += 1
        consumer = self._require_consumer()
        if tp in consumer.assignment():
            consumer.seek(tp, records[0].offset)
        backoff = min(
            self.settings.retry_backoff_initial_s * 2 ** min(self._failures[tp] - 1, 10),
            self.settings.retry_backoff_max_s,
        )
        log.warning(
            "batch_aborted",
            partition=tp.partition,
            first_offset=records[0].offset,
            error=type(exc).__name__,
            attempt=self._failures[tp],
            backoff_s=backoff,
        )
        # The producer may be in a fatal state: drop it. The next batch opens a new
        # one with the same id, which also cleans up whatever the old one left open.
        producer = self._producers.pop(tp, None)
        if producer is not None:
            with contextlib.suppress(KafkaError):
                await producer.stop()
        await asyncio.sleep(backoff)

    def _stats_fields(self) -> dict[str, Any]:
        return {
            "records": self.stats.records,
            "batches": self.stats.batches,
            "aborted": self.stats.aborted,
            "fenced": self.stats.fenced,
            "outcomes": dict(self.stats.outcomes),
        }

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("the processor is not started")
        return self._consumer


__all__ = ["ClaimProcessor", "Stats", "transactional_id"]
