"""Counting what a worker committed downstream as it grows, each record read once.

At the full size a topic holds gigabytes (every audit event carries its input), so the
tests neither read the topics again on each poll nor keep the records: each is summarised
as it arrives, read_committed, from a group-less consumer that keeps its position.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from deploy.kafkatools import connection
from schemas import AuditEvent, Outcome, ReasonCode, ReviewRequest
from worker.committed_reader import FETCH_BYTES, start_reader
from worker.topic_admin import partitions_of
from worker.topology import Topics


@dataclass(frozen=True)
class DecisionSeen:
    topic: str
    key: bytes | None
    sha256: str
    reason_headers: int  # x-reason headers on a dead letter
    review_reasons: int  # reasons of a review request


@dataclass(frozen=True)
class EventSeen:
    event_id: str
    claim_id: str | None
    outcome: Outcome
    reasons: tuple[ReasonCode, ...]
    output_topic: str
    output_sha256: str
    worker_id: str


@dataclass
class Tally:
    bootstrap: str
    topics: Topics
    decisions: list[DecisionSeen] = field(default_factory=list)
    events: list[EventSeen] = field(default_factory=list)
    _consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> Tally:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=FETCH_BYTES,
            fetch_max_bytes=4 * FETCH_BYTES,
        )
        await start_reader(self._consumer)
        t = self.topics
        tps = [
            tp
            for name in (t.scrubbed, t.review, t.dead_letter, t.audit)
            for tp in await partitions_of(connection(self.bootstrap), name)
        ]
        self._consumer.assign(tps)
        for tp, first in (await self._consumer.beginning_offsets(tps)).items():
            self._consumer.seek(tp, first)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    def _take(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        if topic == self.topics.audit:
            e = AuditEvent.model_validate_json(value)
            self.events.append(EventSeen(e.event_id, e.claim_id, e.outcome, e.reasons,
                                         e.output_topic, e.output_sha256, e.worker_id))  # fmt: skip
            return
        reviews = 0
        if topic == self.topics.review:
            reviews = len(ReviewRequest.model_validate_json(value).reasons)
        self.decisions.append(DecisionSeen(
            topic, key, hashlib.sha256(value).hexdigest(),
            sum(1 for name, _ in headers if name == "x-reason"), reviews,
        ))  # fmt: skip

    async def until(
        self, expected: int, alive: Callable[[], bool], timeout: float, what: str = ""
    ) -> None:
        """Read on until ``expected`` decisions and audit events; ``alive`` must hold."""
        consumer = self._consumer
        assert consumer is not None
        deadline = time.monotonic() + timeout
        while len(self.decisions) < expected or len(self.events) < expected:
            assert alive(), what
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(self.decisions)} decisions and {len(self.events)} audit events "
                    f"of {expected} after {timeout} s"
                )
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for r in records:
                    self._take(tp.topic, r.key, r.value, list(r.headers))
            await asyncio.sleep(0)


async def count_records(bootstrap: str, topic: str, isolation: str) -> int:
    """Records in the topic up to its end as ``isolation`` sees it, counted, not kept."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        isolation_level=isolation, auto_offset_reset="earliest",
        max_partition_fetch_bytes=FETCH_BYTES, fetch_max_bytes=4 * FETCH_BYTES,
    )  # fmt: skip
    await start_reader(consumer)
    try:
        tps = await partitions_of(connection(bootstrap), topic)
        consumer.assign(tps)
        for tp, first in (await consumer.beginning_offsets(tps)).items():
            consumer.seek(tp, first)
        ends = await consumer.end_offsets(tps)
        counted = 0
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500)
            counted += sum(len(rs) for rs in batches.values())
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return counted
    finally:
        await consumer.stop()


async def aborted_records(bootstrap: str, topic: str) -> int:
    """Records only a read_uncommitted reader sees: those of aborted transactions."""
    seen_all = await count_records(bootstrap, topic, "read_uncommitted")
    return seen_all - await count_records(bootstrap, topic, "read_committed")
