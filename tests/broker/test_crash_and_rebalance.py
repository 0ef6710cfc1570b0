"""Exactly once across a rebalance, with real worker processes (kill -9 storms and a broker
restart: tests/fault/test_kill_storm.py)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from deploy.kafkatools import (
    Cluster,
    Outputs,
    WorkerProcess,
    claim_items,
    connection,
    produce,
    wait_for_decisions,
)
from schemas import AuditEvent
from schemas.examples import example_claim
from worker.audit.chain import verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.topology import Topics

pytestmark = pytest.mark.broker

# Small batches mean many transactions, so a kill lands inside one. The session is the
# default's 10 s: on two cores shared with a broker and a second worker starting its pool,
# a shorter one lets the group evict a live member whose heartbeats were starved.
SMALL_BATCHES = {
    "ONCOSCRUB_BATCH_MAX_RECORDS": "50",
    "ONCOSCRUB_SESSION_TIMEOUT_MS": "10000",
    "ONCOSCRUB_HEARTBEAT_INTERVAL_MS": "1000",
}


async def assert_chain_intact(cluster: Cluster, topics: Topics, events: int) -> None:
    """The audit hash chain of every partition verifies against its checkpoints."""
    conn = connection(cluster)
    records = [r async for r in records_from_topic(conn, topics.audit)]
    checkpoints = await checkpoints_from_topic(conn, topics.audit_checkpoints)
    report = verify(records, checkpoints)
    assert report.ok, report.breaks[:3]
    assert report.events == events and sum(h.seq for h in report.heads.values()) == events
    assert report.checkpoints_checked >= len(report.heads)


def assert_exactly_once(out: Outputs, claim_ids: list[str]) -> None:
    events = [AuditEvent.model_validate_json(r.value) for r in out.audit]
    decided = Counter(r.key.decode() for r in out.decisions if r.key is not None)
    duplicated = {k for k, n in decided.items() if n > 1}
    # On failure, say which worker decided what from where: that is what finds the race.
    where = sorted(
        (e.worker_id, e.source.partition, e.source.offset)
        for e in events
        if e.claim_id in duplicated
    )[:12]
    assert not duplicated, f"{len(duplicated)} claims decided more than once: {where}"
    assert set(decided) == set(claim_ids), "claims missing or unexpected downstream"
    assert len(events) == len(claim_ids)
    assert len({e.event_id for e in events}) == len(claim_ids)


async def test_a_worker_joining_and_leaving_under_load_loses_and_duplicates_nothing(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    claims = [example_claim(n) for n in range(20_000, 30_000)]
    ids = [c["claim_id"] for c in claims]
    items = claim_items(claims)

    async def publish_steadily() -> None:
        for start in range(0, len(items), 500):
            await produce(kafka_bootstrap, topics.submitted, items[start : start + 500])
            await asyncio.sleep(0.25)

    first = WorkerProcess(kafka_bootstrap, topics, "first", tmp_path, SMALL_BATCHES)
    publishing = asyncio.create_task(publish_steadily())
    await asyncio.sleep(2)
    second = WorkerProcess(kafka_bootstrap, topics, "second", tmp_path, SMALL_BATCHES)
    # Let the second worker take partitions and commit work, then leave.
    async with asyncio.timeout(120):
        while not any('"batch_committed"' in line for line in second.log_lines()):
            await asyncio.sleep(0.2)
    assert second.terminate() == 0
    await publishing
    try:
        out = await wait_for_decisions(kafka_bootstrap, topics, len(claims), timeout=300)
    finally:
        assert first.terminate() == 0

    assert_exactly_once(out, ids)
    await assert_chain_intact(kafka_bootstrap, topics, len(claims))
    workers = Counter(json.loads(r.value)["worker_id"] for r in out.audit)
    assert set(workers) == {"first", "second"}
