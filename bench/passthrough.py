"""Exactly-once passthroughs: the broker's share of the worker's cost, without the deciding.

The loop is the worker's (``worker.processor``) minus the deciding: one read_committed
consumer reads every input partition; each partition has its own transactional producer,
opened as the worker opens it (``worker.transactions.open_producer``, same settings and
transactional-id scheme); a fetch takes up to ``batch`` records per partition, and each
partition's records are written in transactions of at most ``batch`` records and
``batch_max_bytes`` of input, partitions side by side, with the worker's own transaction
writer (``worker.transactions.write_transaction``: every send acknowledged, then the input
offsets, then the commit). Partitions are assigned by hand (no group join); the offsets are
committed in the transaction to a group of the passthrough's own.

What each input record becomes is the caller's choice:

* ``raw_copy``: its bytes, key and headers, to one output topic;
* ``WorkerShaped``: the records the worker writes for it, precomputed with
  ``worker.decide.decide`` (the decision on the topic its outcome routes to, the audit event
  on the audit topic), plus per transaction the audit checkpoint and the chain-head store
  record the worker writes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from schemas import SourceRef
from worker.audit.chain import GENESIS, ChainHead
from worker.audit.heads import checkpoint
from worker.committed_reader import start_reader
from worker.decide import DecisionContext, decide
from worker.settings import Settings
from worker.stores import JsonCodec, StateRecord
from worker.topology import OutRecord, Topology
from worker.transactions import open_producer, write_transaction

Write = OutRecord | StateRecord
PerRecord = Callable[[ConsumerRecord[Any, Any]], Sequence[Write]]
PerTransaction = Callable[[int], Sequence[Write]]
Fetched = Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]


@dataclass
class PassthroughResult:
    records: int  # input records committed
    writes: int  # records written (all transactions)
    written_bytes: int  # keys and values written
    transactions: int
    setup_s: float  # consumer and producers started (the producers' InitProducerId)
    end_to_end_s: float  # clients created to last commit
    steady_s: float  # first fetch returned to last commit
    txn_ms: list[float] = field(default_factory=list)

    @property
    def end_to_end_rate(self) -> float:
        return self.records / self.end_to_end_s

    @property
    def steady_rate(self) -> float:
        return self.records / self.steady_s


def raw_copy(topic: str) -> PerRecord:
    """Each input record's key, value and headers, to ``topic`` (partitioned by key)."""

    def copy(r: ConsumerRecord[Any, Any]) -> Sequence[Write]:
        return (OutRecord(topic, r.key, r.value, tuple(r.headers or ())),)

    return copy


def no_extra(_partition: int) -> Sequence[Write]:
    return ()


@dataclass
class WorkerShaped:
    """The worker's output bytes for every input record, by (partition, offset), and the
    records it adds to each transaction of a partition."""

    per_input: dict[tuple[int, int], tuple[OutRecord, OutRecord]]
    per_txn: dict[int, tuple[Write, ...]]
    decide_s: float  # what computing them took, on this process's one core

    def record(self, r: ConsumerRecord[Any, Any]) -> Sequence[Write]:
        return self.per_input[(r.partition, r.offset)]

    def transaction(self, partition: int) -> Sequence[Write]:
        return self.per_txn[partition]


def precompute(
    records: Sequence[ConsumerRecord[Any, Any]], topology: Topology, worker_id: str
) -> WorkerShaped:
    """Decide every input record as the worker would (``decide``, each partition's audit
    chain linked in offset order) and build the per-transaction records of each partition:
    an audit checkpoint and a chain-head store record, as large as the worker's."""
    ctx = DecisionContext(topology=topology, worker_id=worker_id, max_claim_bytes=1_000_000)
    now = datetime.now(UTC)
    heads: dict[int, ChainHead] = {}
    per_input: dict[tuple[int, int], tuple[OutRecord, OutRecord]] = {}
    began = time.perf_counter()
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        source = SourceRef(topic=r.topic, partition=r.partition, offset=r.offset)
        d = decide(r.value, r.key, source, ctx, now, heads.get(r.partition, GENESIS))
        heads[r.partition] = d.chain_after
        per_input[(r.partition, r.offset)] = (d.decision, d.audit)
    decide_s = time.perf_counter() - began
    codec = JsonCodec(ChainHead)
    per_txn: dict[int, tuple[Write, ...]] = {}
    for p, head in heads.items():
        pin = checkpoint(topology, p, head, worker_id, now)
        changelog = topology.chain_heads.changelog.name
        per_txn[p] = (pin, StateRecord(changelog, str(p).encode(), codec.encode(head), p))
    return WorkerShaped(per_input, per_txn, decide_s)


def _transaction_size(records: Sequence[ConsumerRecord[Any, Any]], batch: int, cap: int) -> int:
    """As the worker sizes a transaction: at most ``batch`` records and ``cap`` input
    bytes, at least one record."""
    total = 0
    for i, r in enumerate(records[:batch]):
        total += len(r.value or b"") + len(r.key or b"")
        if i > 0 and total > cap:
            return i
    return min(len(records), batch)


async def passthrough(
    bootstrap: str,
    partitions: Sequence[TopicPartition],
    group: str,
    batch: int,
    expected: int,
    per_record: PerRecord,
    per_txn: PerTransaction = no_extra,
    timeout_s: float = 600.0,
) -> PassthroughResult:
    """Copy ``partitions`` from their beginning, exactly once, until ``expected`` records
    are committed. ``group``: the transactional-id prefix and the group whose offsets the
    transactions commit."""
    settings = Settings(bootstrap_servers=bootstrap, group_id=group, batch_max_records=batch)
    began = time.perf_counter()
    consumer = AIOKafkaConsumer(
        **settings.kafka.options(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        fetch_max_bytes=settings.fetch_max_bytes,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
    )
    await start_reader(consumer)
    producers = dict(
        zip(
            partitions,
            await asyncio.gather(*(open_producer(settings, tp) for tp in partitions)),
            strict=True,
        )
    )
    result = PassthroughResult(0, 0, 0, 0, 0.0, 0.0, 0.0)
    try:
        consumer.assign(list(partitions))
        for tp, first in (await consumer.beginning_offsets(list(partitions))).items():
            consumer.seek(tp, first)
        result.setup_s = time.perf_counter() - began
        first_fetch: float | None = None
        deadline = time.monotonic() + timeout_s

        async def one_partition(tp: TopicPartition, recs: list[ConsumerRecord[Any, Any]]) -> None:
            while recs:
                size = _transaction_size(recs, batch, settings.batch_max_bytes)
                chunk, recs = recs[:size], recs[size:]
                writes: list[Write] = [w for r in chunk for w in per_record(r)]
                writes.extend(per_txn(tp.partition))
                t0 = time.perf_counter()
                await write_transaction(
                    producers[tp], writes, {tp: chunk[-1].offset + 1}, settings.group_id
                )
                result.txn_ms.append((time.perf_counter() - t0) * 1000)
                result.transactions += 1
                result.records += len(chunk)
                result.writes += len(writes)
                result.written_bytes += sum(len(w.value or b"") + len(w.key or b"") for w in writes)

        while result.records < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{result.records} of {expected} copied after {timeout_s}s")
            limit = batch * len(partitions)
            fetched: Fetched = await consumer.getmany(
                timeout_ms=settings.poll_timeout_ms, max_records=limit
            )
            if not fetched:
                continue
            if first_fetch is None:
                first_fetch = time.perf_counter()
            await asyncio.gather(*(one_partition(tp, recs) for tp, recs in fetched.items()))
        ended = time.perf_counter()
        result.end_to_end_s = ended - began
        result.steady_s = ended - (first_fetch or began)
    finally:
        for producer in producers.values():
            await producer.stop()
        await consumer.stop()
    return result
