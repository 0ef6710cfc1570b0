"""Two workers decide a stream of claims of 500 MAR entries without a rebalance storm:
deciding runs off the event loop, so heartbeats keep going, and transactions are sized by
bytes, so a rebalance never waits long for the lock."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from deploy.kafkatools import WorkerProcess, claim_items, connection, produce
from schemas import ReasonCode
from schemas.examples import max_size_claim
from tests.fault.conftest import Scale
from tests.fault.tally import Tally
from worker.audit.chain import verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.topology import Topics

pytestmark = [pytest.mark.broker, pytest.mark.fault]

# What a storm looks like in aiokafka's and the worker's logs.
STORM = ("Heartbeat session expired", "producer_fenced", "member_id was not recognized")


def owns_partitions(worker: WorkerProcess) -> bool:
    """The worker's latest assignment is not empty."""
    assigned = [json.loads(line)["partitions"] for line in worker.log_lines()
                if '"partitions_assigned"' in line]  # fmt: skip
    return bool(assigned and assigned[-1])


async def test_two_workers_decide_maximum_size_claims_without_a_rebalance_storm(
    kafka_bootstrap: str, topics: Topics, scale: Scale, tmp_path: Path
) -> None:
    claims = [max_size_claim(n) for n in range(scale.heavy_claims)]
    assert all(len(c["administrations"]) == 500 for c in claims)
    ids = [c["claim_id"] for c in claims]
    began = time.monotonic()
    first = WorkerProcess(kafka_bootstrap, topics, "heavy-1", tmp_path)
    second = WorkerProcess(kafka_bootstrap, topics, "heavy-2", tmp_path)
    try:
        # Both in the group before the claims arrive, so that both get a share to decide.
        async with asyncio.timeout(300):
            while not all(owns_partitions(w) for w in (first, second)):
                assert first.alive() and second.alive()
                await asyncio.sleep(0.2)
        await produce(kafka_bootstrap, topics.submitted, claim_items(claims))
        async with Tally(kafka_bootstrap, topics) as seen:
            await seen.until(len(ids), lambda: first.alive() and second.alive(), timeout=3600)
    finally:
        assert first.terminate(120) == 0
        assert second.terminate(120) == 0
    took = time.monotonic() - began

    decided = Counter(d.key.decode() for d in seen.decisions if d.key is not None)
    assert set(decided) == set(ids) and all(n == 1 for n in decided.values())
    assert len(seen.events) == len(ids)
    assert not [e for e in seen.events if ReasonCode.OVER_TIME_BUDGET in e.reasons]
    records = [r async for r in records_from_topic(connection(kafka_bootstrap), topics.audit)]
    report = verify(
        records, await checkpoints_from_topic(connection(kafka_bootstrap), topics.audit_checkpoints)
    )
    assert report.ok, report.breaks[:3]

    logs = {w: w.log_lines() for w in (first, second)}
    for worker, lines in logs.items():
        storm = [line for line in lines if any(s in line for s in STORM)]
        assert not storm, (worker.worker_id, storm[:3])
        # Assigned on joining, and once more when the other joins or leaves: no churn.
        assignments = sum('"partitions_assigned"' in line for line in lines)
        assert assignments <= 3, (worker.worker_id, assignments)
        committed = [json.loads(line) for line in lines if '"batch_committed"' in line]
        assert committed, worker.worker_id  # both took a share of the work
    per_second = len(ids) / took
    print(f"\nheavy claims: {len(ids)} claims of 500 MAR entries, two workers, {took:.0f} s "
          f"({per_second:.1f} claims/s end to end)")  # fmt: skip
