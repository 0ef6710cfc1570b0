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
* then the partition's state stores are restored from their changelogs, before
  any of its records is processed;
* per partition and batch, one transaction holds every decision, every audit
  event, the audit checkpoint, the stores' writes and the input offsets
  (``send_offsets_to_transaction``). Downstream readers with ``read_committed``
  see all of it or none of it;
* a transient error aborts, seeks back to the batch's first offset and backs
  off; a fenced producer stops writing and its partition is paused until the
  group hands it out again;
* on revocation the in-flight batch finishes (the processing lock) before the
  partition's producer is closed and its stores' state dropped; a batch fetched
  before any rebalance is dropped, because the rebalance re-positions every
  partition on its committed offset;
* deciding runs in a pool of processes (``worker.deciders``), never on this event
  loop, which must keep heartbeating; a transaction is sized by records and input
  bytes and stops taking records at a deadline, so the lock a rebalance waits for
  is held for seconds at most. Before joining the group the worker checks its
  topics on the brokers (``worker.topic_check``) and starts the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError, ProducerFenced

from schemas.audit import Outcome, SourceRef
from worker import committed_reader, decision_log, repartition, topic_check
from worker.audit.heads import ChainHeadStore, checkpoint
from worker.course_sweep import CourseSweep
from worker.decide import Decision
from worker.deciders import DecidingPool, PoolSpec
from worker.ingest.record import IngestOptions
from worker.logs import ClaimRefs, get_logger
from worker.metrics import Stats, WorkerMetrics
from worker.patient_judge import PatientItem, PatientJudged, PatientOptions, link_patient
from worker.repartition import SplitItem
from worker.settings import Settings
from worker.stores import ChangelogStore, RawCodec, StateRecord, StateStore
from worker.topology import MAR_KIND, RECORD_KIND, OutRecord, declare
from worker.tracing import Tracing, Transaction
from worker.transactions import open_producer, write_transaction
from worker.version import version_story

log = get_logger("worker.processor")

# The first transaction of a partition after it is assigned: a few records, not a full
# batch. With a backlog on every partition, the partitions' first transactions are decided
# side by side in one pool; at full size each partition's first decision waited for all of
# them (1.7-2.3 s after assignment with three partitions of 500; bench.e2e, phase f).
FIRST_TRANSACTION_RECORDS = 50


def ingest_options(settings: Settings) -> IngestOptions:
    """What reading X12 and FHIR takes from the settings."""
    key = settings.patient_ref_key
    return IngestOptions(
        None if key is None else key.get_secret_value().encode(), dict(settings.payer_aliases)
    )


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: ClaimProcessor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._processor.release(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._processor.acquire(set(assigned))


class ClaimProcessor:
    """Consumes submitted claims and writes decisions exactly once."""

    def __init__(
        self,
        settings: Settings,
        metrics: WorkerMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.stats = Stats()
        self.metrics = metrics or WorkerMetrics(version_story(settings.rule_pack_dir).labels())
        self.tracing = tracing or Tracing(None)
        self._next_offsets: dict[TopicPartition, int] = {}  # after the last commit
        # Assigned partitions whose first transaction has not committed yet: it is kept
        # small (FIRST_TRANSACTION_RECORDS), so that every partition's first decision comes
        # soon after assignment, not after a full transaction of each partition before it.
        self._warming: set[TopicPartition] = set()
        self.topology = declare(settings.topics, settings.evidence_retention_ms)
        # With the course store, submitted claims are copied to the by-patient topic
        # (``worker.repartition``) and the copies are decided; else the claims themselves.
        self._courses_on = settings.courses
        self._by_patient = settings.by_patient
        self._input = self.topology.decided_input(settings.by_patient)
        self.pool = DecidingPool(
            PoolSpec(
                settings.max_claim_bytes,
                settings.max_decision_bytes,
                settings.rule_pack_dir,
                PatientOptions(
                    settings.courses,
                    settings.mar_join,
                    settings.course_retention_days,
                    settings.mar_keep_days,
                    ingest_options(settings),
                ),
                self.topology.by_patient.name,
            ),
            processes=settings.decide_processes,
            budget_s=settings.record_budget_s,
        )
        self._refs = ClaimRefs(settings.log_id_key)
        self._consumer: AIOKafkaConsumer | None = None
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self._lock = asyncio.Lock()
        self._rebalances = 0
        self.repartitioned = 0  # records copied to the by-patient topic
        self._failures: Counter[TopicPartition] = Counter()  # consecutive, per partition
        self._chain_heads = ChainHeadStore(self.topology)
        self._courses = ChangelogStore(self.topology.courses, RawCodec())
        self._sweep = CourseSweep(self._courses, settings.course_retention_days)
        self._mar = ChangelogStore(self.topology.mar, RawCodec())
        # Only the stores in use are kept, restored and written: each restore is read in the
        # assignment callback, where the consumer sends no heartbeat.
        self.stores: tuple[StateStore, ...] = (
            self._chain_heads,
            *((self._courses,) if settings.courses else ()),
            *((self._mar,) if settings.mar_join else ()),
        )
        undeclared = {s.spec.name for s in self.stores} - {s.name for s in self.topology.stores}
        if undeclared:
            raise RuntimeError(f"stores kept but not declared: {sorted(undeclared)}")
        self._reader: AIOKafkaConsumer | None = None  # restores the stores
        self._restoring = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._running = False

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the brokers' topics, start the deciding pool (every process loads the rule
        pack now, not in a first batch), then join the group."""
        s = self.settings
        try:
            await topic_check.check(self.topology, s)
        except topic_check.TopicsRefusedError as refused:
            log.error("topics_refused", problems=refused.problems)
            raise
        if self._refs.random_key:
            log.warning(
                "log_id_key_unset",
                detail="claim refs in this worker's logs are keyed per process: set "
                "ONCOSCRUB_LOG_ID_KEY so that they match across workers and restarts",
            )
        began = time.perf_counter()
        pack = await self.pool.start()
        log.info(
            "deciding_pool_started",
            processes=s.decide_processes,
            record_budget_s=s.record_budget_s,
            rule_pack=pack.version,
            rule_pack_sha256=pack.content_sha256,
            seconds=round(time.perf_counter() - began, 2),
        )
        self._consumer = AIOKafkaConsumer(
            **s.kafka.options(),
            group_id=s.group_id,
            group_instance_id=s.group_instance_id,
            client_id=f"oncoscrub-{s.worker_id}",
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            fetch_max_bytes=s.fetch_max_bytes,
            max_partition_fetch_bytes=s.max_partition_fetch_bytes,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            rebalance_timeout_ms=s.rebalance_timeout_ms,
        )
        await self._consumer.start()
        self.metrics.watch_lag(self._lag)
        self._reader = committed_reader.reader(s.kafka)
        await committed_reader.start_reader(self._reader)
        topics = sorted(
            {self.topology.submitted.name, self._input.name}
            | ({self.topology.mar_submitted.name} if s.mar_join else set())
        )
        self._consumer.subscribe(topics, listener=_Listener(self))
        self._running = True
        log.info("processor_started", group=s.group_id, topics=topics)

    async def run(self) -> None:
        """Process until ``stop()``. Raises only on errors the worker cannot survive."""
        consumer = self._require_consumer()
        s = self.settings
        while not self._stopping.is_set():
            seen = self._rebalances
            batches = await consumer.getmany(
                timeout_ms=s.poll_timeout_ms, max_records=s.batch_max_records
            )
            if not batches:
                continue
            # Then a transaction's worth from every other partition with records buffered.
            # aiokafka hands buffered records out partition by partition: one poll limited
            # across partitions took a whole fetch (up to max_partition_fetch_bytes) of one
            # partition before any record of the next, and a backlog on one partition held
            # the others' first decisions back for seconds (bench.e2e, phase f).
            for tp in consumer.assignment() - batches.keys():
                more = await consumer.getmany(tp, timeout_ms=0, max_records=s.batch_max_records)
                batches.update(more)
            polled = time.perf_counter()
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
                await asyncio.gather(
                    *(self._process(tp, recs, polled) for tp, recs in batches.items())
                )

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        """Leave the group and close every producer and the deciding pool."""
        self._stopping.set()
        # Not under the lock: stopping the consumer waits for its coordinator, which may be
        # inside a rebalance callback that is itself waiting for the lock.
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()
        async with self._lock:
            if self._reader is not None:
                await self._reader.stop()
                self._reader = None
            await self._close_producers(list(self._producers))
            self._running = False
        await self.pool.close()
        log.info("processor_stopped", **self.stats.log_fields())

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
            opened = await asyncio.gather(*(open_producer(self.settings, tp) for tp in fresh))
            self._producers.update(zip(fresh, opened, strict=True))
            self._warming.update(assigned)
            # Starting the producers resolved any transaction a previous owner left
            # open, so the committed offsets and the changelogs read now are stable.
            committed = await self._rewind(assigned)
            self.metrics.rebalanced()
            self._report_owned()
            decided = sorted(tp.partition for tp in assigned if self._decides(tp))
            restored = {p: await self._restore(p) for p in decided}
        log.info(
            "partitions_assigned",
            partitions=sorted(tp.partition for tp in assigned if self._decides(tp)),
            **self._forwarded_partitions(assigned),
            committed={str(p): o for p, o in sorted(committed.items())},
            restored={str(p): n for p, n in sorted(restored.items())},
            chain_seq={str(p): self._chain_heads.head(p).seq for p in sorted(restored)},
        )

    async def _restore(self, partition: int) -> dict[str, int]:
        """Every store's state of the partition, from its changelog: records read per store."""
        reader = self._reader
        if reader is None:
            raise RuntimeError("the processor is not started")
        # One reader serves every restore, and partitions are processed concurrently.
        async with self._restoring:
            return {s.spec.name: await s.restore(partition, reader) for s in self.stores}

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
                start = (await consumer.beginning_offsets([tp]))[tp]
            else:
                consumer.seek(tp, committed)
                start = committed
            self._next_offsets[tp] = start
        return positions

    async def release(self, revoked: set[TopicPartition]) -> None:
        async with self._rebalancing():
            await self._close_producers([tp for tp in revoked if tp in self._producers])
            self._warming.difference_update(revoked)
            self._drop_state(revoked)  # the next owner restores it from the changelogs
            self._report_owned()
        log.info(
            "partitions_revoked",
            partitions=sorted(tp.partition for tp in revoked if self._decides(tp)),
            **self._forwarded_partitions(revoked),
        )

    def _report_owned(self) -> None:
        self.metrics.assigned([(tp.topic, tp.partition) for tp in self._producers])

    def _lag(self) -> dict[tuple[str, int], int]:
        """Records waiting per owned partition, read committed: the last stable offset the
        latest fetch reported, less the offset after the last commit (no I/O: a scrape)."""
        consumer = self._consumer
        if consumer is None:
            return {}
        out: dict[tuple[str, int], int] = {}
        for tp in self._producers:
            end = consumer.last_stable_offset(tp)
            done = self._next_offsets.get(tp)
            if end is not None and done is not None:
                out[(tp.topic, tp.partition)] = max(0, end - done)
        return out

    def _decides(self, tp: TopicPartition) -> bool:
        """Whether the partition's records are decided (else they are repartitioned)."""
        return bool(tp.topic == self._input.name)

    def _forwarded_partitions(self, tps: Iterable[TopicPartition]) -> dict[str, list[int]]:
        if not self._by_patient:
            return {}
        return {"repartitioned": sorted(tp.partition for tp in tps if not self._decides(tp))}

    async def _close_producers(self, tps: Sequence[TopicPartition]) -> None:
        for tp in tps:
            producer = self._producers.pop(tp, None)
            if producer is not None:
                with contextlib.suppress(KafkaError):
                    await producer.stop()

    # -- the hot path ---------------------------------------------------------------------

    def _transaction_size(
        self, tp: TopicPartition, records: Sequence[ConsumerRecord[Any, Any]]
    ) -> int:
        """How many of the records one transaction takes: by count and by input bytes
        (what deciding costs), at least one. With the course store, a patient's second
        record waits for the next transaction: it is decided against the state the first
        one leaves, and records of one transaction are decided side by side."""
        s = self.settings
        most = s.batch_max_records
        if tp in self._warming:
            most = min(most, FIRST_TRANSACTION_RECORDS)
        total = 0
        patients: set[bytes] = set()
        in_course = self._by_patient and self._decides(tp)
        for i, r in enumerate(records[:most]):
            total += len(r.value or b"") + len(r.key or b"")
            if i > 0 and total > s.batch_max_bytes:
                return i
            if in_course and r.key is not None:
                if r.key in patients:
                    return i
                patients.add(r.key)
        return min(len(records), most)

    async def _process(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], polled: float
    ) -> None:
        """Decide a partition's fetched records, one work-sized transaction after another,
        for at most ``batch_deadline_s``; what is left is fetched again, so that a waiting
        rebalance gets the lock."""
        began = time.monotonic()
        while records:
            size = self._transaction_size(tp, records)
            deadline = time.monotonic() + self.settings.batch_deadline_s
            done = await self._process_transaction(tp, records[:size], deadline, polled)
            polled = time.perf_counter()  # the rest waited for this transaction, not the poll
            if not done:
                return  # the failed batch was rewound; what follows it is read again
            records = records[done:]
            if records and time.monotonic() - began >= self.settings.batch_deadline_s:
                consumer = self._require_consumer()
                if tp in consumer.assignment():
                    consumer.seek(tp, records[0].offset)
                return

    async def _process_transaction(
        self,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
        deadline: float,
        polled: float | None = None,
    ) -> int:
        """Decide (or repartition) a prefix of the records in one transaction: how many
        were committed."""
        p = tp.partition
        decides = self._decides(tp)
        producer = self._producers.get(tp)
        try:
            if producer is None:
                if tp not in self._require_consumer().assignment():
                    return 0  # revoked since the fetch: the new owner reads these again
                # Owned, but its producer was dropped after an error: a new one (which
                # resolves whatever the old one left open) before the state is read.
                producer = self._producers[tp] = await open_producer(self.settings, tp)
            if decides and not all(store.restored(p) for store in self.stores):
                await self._restore(p)  # dropped after fencing, or its restore failed
        except KafkaError as exc:
            await self._on_transient_error(tp, records, exc)
            return 0
        inputs = [r.headers for r in records]
        with self.tracing.transaction(tp.topic, p, inputs, records[0].offset) as txn:
            return await self._traced(tp, records, deadline, producer, txn, polled)

    async def _traced(
        self,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
        deadline: float,
        producer: AIOKafkaProducer,
        txn: Transaction,
        polled: float | None,
    ) -> int:
        p = tp.partition
        decides = self._decides(tp)
        began = time.perf_counter()
        decisions: list[tuple[int, Decision]] = []
        corrections: list[Decision] = []
        findings: Counter[tuple[str, str]] = Counter()
        with txn.decide():
            if decides:
                records, decisions, corrections, writes, findings = await self._decide(
                    tp, records, deadline, txn
                )
            else:
                writes = await self._repartitioned(tp, records, txn)
        decided = time.perf_counter()
        try:
            with txn.commit(len(records)):
                await write_transaction(
                    producer, writes, {tp: records[-1].offset + 1}, self.settings.group_id
                )
        except ProducerFenced:
            txn.aborted("ProducerFenced")
            await self._on_fenced(tp)
            return 0
        except KafkaError as exc:
            txn.aborted(type(exc).__name__)
            await self._on_transient_error(tp, records, exc)
            return 0
        committed = time.perf_counter()
        self._failures.pop(tp, None)
        self._warming.discard(tp)
        self._next_offsets[tp] = records[-1].offset + 1
        if not decides:
            self.repartitioned += len(records)
            return len(records)
        for store in self.stores:
            store.committed(p)  # only now: an aborted batch leaves the state where it was
        everything = (*(d for _, d in decisions), *corrections)
        outcomes = Counter(d.outcome.value for d in everything)
        dead = Counter(d.reasons[0].value for d in everything if d.outcome is Outcome.DEAD_LETTER)
        for _ in records:  # per record: the pool decides a transaction's records together
            self.metrics.decided((decided - began) / len(records))
        self.metrics.committed(
            tp.topic,
            p,
            outcomes,
            dead,
            findings,
            committed - (polled or began),
            committed - decided,
        )
        self.stats.committed(len(records), outcomes, committed)
        decision_log.batch_committed(
            tp, records, decisions, outcomes, decided - began, committed - decided,
            refs=self._refs if self.settings.log_decisions else None,
        )  # fmt: skip
        return len(records)

    async def _repartitioned(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], txn: Transaction
    ) -> list[OutRecord | StateRecord]:
        """The by-patient copies of submitted records (claims, or with the MAR join the MAR),
        in order: a JSON claim's on the loop, what must be parsed first in the pool."""
        is_mar = tp.topic == self.topology.mar_submitted.name
        items: list[SplitItem | OutRecord] = []
        for r in records:
            source = f"{tp.topic}:{tp.partition}:{r.offset}"
            kept = [(k, v) for k, v in r.headers or () if k not in ("traceparent", "tracestate")]
            headers = (*kept, *txn.headers_for(r.headers))
            if repartition.needs_reading(r.value, headers, is_mar):
                items.append(SplitItem(r.value, r.key, headers, source, is_mar))
            else:
                items.append(
                    repartition.by_patient(
                        self.topology.by_patient.name, r.value, r.key, headers, source
                    )
                )
        parsed = iter(await self.pool.split([i for i in items if isinstance(i, SplitItem)]))
        out: list[OutRecord | StateRecord] = []
        for item in items:
            out.extend(next(parsed) if isinstance(item, SplitItem) else (item,))
        return out

    def _patient_item(
        self, p: int, r: ConsumerRecord[Any, Any], decided_at: datetime
    ) -> PatientItem:
        # The by-patient record is keyed by patient; its decisions take the key it was
        # submitted with.
        headers = r.headers or ()
        return PatientItem(
            raw=r.value,
            key=repartition.submitted_key(headers),
            content_type=repartition.content_type(headers),
            is_mar=(RECORD_KIND, MAR_KIND) in headers,
            course=None if r.key is None or not self._courses_on else self._courses.get(p, r.key),
            mar=None if r.key is None or not self.settings.mar_join else self._mar.get(p, r.key),
            as_of=decided_at.date(),
            origin=f"{r.topic}:{p}:{r.offset}",
        )

    async def _judged(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]], deadline: float,
        decided_at: datetime,
    ) -> list[PatientJudged]:  # fmt: skip
        if not self._by_patient:
            items = [(r.value, r.key, repartition.content_type(r.headers or ())) for r in records]
            judged = await self.pool.judge_records(items, deadline)
            return [PatientJudged(j, (False,) * len(j), None, False, None, ()) for j in judged]
        patients = [self._patient_item(tp.partition, r, decided_at) for r in records]
        return await self.pool.judge_patients(patients, deadline)

    async def _decide(
        self,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
        deadline: float,
        txn: Transaction,
    ) -> tuple[
        list[ConsumerRecord[Any, Any]],
        list[tuple[int, Decision]],
        list[Decision],
        list[OutRecord | StateRecord],
        Counter[tuple[str, str]],
    ]:
        """The records decided before the deadline, their decisions (one per claim, with its
        record's offset), the corrections they caused (course and MAR), and everything the
        transaction writes (in chain order)."""
        p = tp.partition
        decided_at = datetime.now(UTC)
        judged = await self._judged(tp, records, deadline, decided_at)
        records = records[: len(judged)]
        head = self._chain_heads.head(p)
        decisions: list[tuple[int, Decision]] = []
        corrections: list[Decision] = []
        chained: list[Decision] = []
        findings: Counter[tuple[str, str]] = Counter()
        worker_id = self.settings.worker_id
        for r, patient in zip(records, judged, strict=True):
            source = SourceRef(topic=tp.topic, partition=p, offset=r.offset)
            published = datetime.fromtimestamp(r.timestamp / 1000, UTC)
            linked = link_patient(
                patient, source, self.topology, worker_id, decided_at, head, published,
                txn.traceparent_for(r.headers),
            )  # fmt: skip
            head = linked.head
            for claim in (*patient.claims, *(fix.judged for fix in patient.corrections)):
                findings.update((rule, sev.value) for rule, sev in claim.judgement.findings)
            decisions.extend((r.offset, d) for d in linked.decisions)
            corrections.extend(linked.corrections)
            chained.extend((*linked.decisions, *linked.corrections))
            if r.key is None:
                continue
            if patient.course is not None:
                if patient.course.state is None:
                    self._courses.delete(p, r.key)
                else:
                    self._courses.put(p, r.key, patient.course.state)
            if patient.mar_changed:
                if patient.mar_state is None:
                    self._mar.delete(p, r.key)
                else:
                    self._mar.put(p, r.key, patient.mar_state)
        if self._courses_on:
            touched = {r.key for r in records if r.key is not None}
            self._sweep.sweep(p, decided_at.date(), touched)
        self._chain_heads.advance(p, head)
        # A transaction that chained nothing (a MAR record: state only) moves no chain head:
        # no checkpoint, and none could pin a chain that has no event yet.
        pin = (
            (checkpoint(self.topology, p, head, self.settings.worker_id, decided_at),)
            if chained
            else ()
        )
        writes: list[OutRecord | StateRecord] = [
            *(out for d in chained for out in d.records),
            *pin,
            *(w for store in self.stores for w in store.pending_records(p)),
        ]
        return records, decisions, corrections, writes, findings

    async def _on_fenced(self, tp: TopicPartition) -> None:
        # A newer producer owns this partition's transactional id: this worker is a
        # zombie for it. Stop writing, stop reading; the group reassigns it.
        self.stats.fenced += 1
        self.metrics.fenced()
        log.error("producer_fenced", partition=tp.partition)
        producer = self._producers.pop(tp, None)
        self._drop_state([tp])  # another owner may move it on from now
        self._report_owned()
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
        self.metrics.aborted()
        self._failures[tp] += 1
        if self._decides(tp):
            for store in self.stores:
                store.discard(tp.partition)
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

    def _drop_state(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            if not self._decides(tp):
                continue  # a repartitioned partition keeps no state
            self._sweep.drop(tp.partition)
            for store in self.stores:
                store.drop(tp.partition)

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("the processor is not started")
        return self._consumer


__all__ = ["ClaimProcessor"]
