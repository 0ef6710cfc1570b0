"""The deciding pool: real processes, the same bytes as deciding in-process, a time budget
per record, a lost process contained, and a deadline that cuts a batch to a prefix."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from schemas import Outcome, ReasonCode, ReviewRequest, SourceRef
from schemas.examples import crowded_claim, example_claim
from tests.golden.record import INPUTS
from worker.audit.chain import GENESIS
from worker.decide import DecisionContext, decide, link
from worker.deciders import CHUNK_BYTES, DecidingPool, PoolSpec, chunks
from worker.topology import DEFAULT_MAX_DECISION_BYTES, declare

TOPOLOGY = declare()
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SPEC = PoolSpec(max_claim_bytes=1_000_000, max_decision_bytes=DEFAULT_MAX_DECISION_BYTES)


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[DecidingPool]:
    started = DecidingPool(SPEC, processes=2, budget_s=30.0)
    await started.start()
    try:
        yield started
    finally:
        await started.close()


async def test_the_pool_decides_the_golden_inputs_byte_for_byte_as_in_process(
    pool: DecidingPool,
) -> None:
    inputs = INPUTS.read_bytes().splitlines()
    judged = await pool.judge_prefix([(raw, None) for raw in inputs], time.monotonic() + 600)
    ctx = DecisionContext(topology=TOPOLOGY, worker_id="w", max_claim_bytes=1_000_000)
    head = here = GENESIS
    assert len(judged) == len(inputs)
    for offset, (raw, judgement) in enumerate(zip(inputs, judged, strict=True)):
        source = SourceRef(topic="golden", partition=0, offset=offset)
        pooled = link(judgement, raw, source, TOPOLOGY, "w", AT, head)
        local = decide(raw, None, source, ctx, AT, here)
        assert pooled == local
        head, here = pooled.chain_after, local.chain_after


async def test_a_record_over_its_budget_goes_to_review_and_the_pool_goes_on() -> None:
    tight = DecidingPool(SPEC, processes=1, budget_s=0.05)
    await tight.start()
    try:
        # Over a second to decide (pure; ~0.2 s without the holds, since issue 16's second
        # round), many times the budget and the pool's 0.1 s clock.
        heavy = json.dumps(crowded_claim(1, holds=3)).encode()
        light = json.dumps(example_claim(2)).encode()
        judged = await tight.judge_prefix([(heavy, b"k"), (light, None)], time.monotonic() + 60)
    finally:
        await tight.close()
    assert [j.reasons for j in judged] == [(ReasonCode.OVER_TIME_BUDGET,), ()]
    review = ReviewRequest.model_validate_json(judged[0].body)
    assert review.claim_id == "CLM-00000001" and review.claim is None
    assert base64.b64decode(review.original_b64 or "") == heavy
    assert review.reasons[0].code is ReasonCode.OVER_TIME_BUDGET
    assert judged[1].outcome is Outcome.SCRUBBED  # after a new process loaded the pack
    assert tight.over_budget == 1


async def test_a_process_that_dies_mid_record_is_contained(pool: DecidingPool) -> None:
    # A record that takes seconds, so that it is still being decided when its process is
    # killed (the max-size claim decides in under 0.1 s since issue 16's second round).
    heavy = json.dumps(crowded_claim(3, holds=3)).encode()
    task = asyncio.create_task(pool.judge(heavy, None))
    # Kill the process that took the record, once it has: pebble records the taker's pid
    # on the task when the process acknowledges it.
    tasks = pool._pool._pool_manager.task_manager.tasks  # type: ignore[union-attr]
    async with asyncio.timeout(30):
        while not (taken := [t.worker_id for t in list(tasks.values()) if t.started]):
            await asyncio.sleep(0.01)
    os.kill(taken[0], signal.SIGKILL)
    judgement = await task
    assert judgement.reasons == (ReasonCode.DECIDER_LOST,)
    assert judgement.outcome is Outcome.NEEDS_REVIEW
    again = await pool.judge(json.dumps(example_claim(4)).encode(), None)
    assert again.outcome is Outcome.SCRUBBED


async def test_a_pool_that_breaks_is_replaced_and_the_record_decided(pool: DecidingPool) -> None:
    restarts = pool.restarts
    # What pebble does when a process dies holding the pool's channel: refuse every task.
    pool._pool.stop()  # type: ignore[union-attr]
    raw = json.dumps(example_claim(5)).encode()
    judged = await pool.judge_prefix([(raw, None)] * 3, time.monotonic() + 60)
    assert [j.outcome for j in judged] == [Outcome.SCRUBBED] * 3
    assert pool.restarts == restarts + 1


async def test_a_passed_deadline_cuts_the_batch_to_a_prefix_of_at_least_one_chunk(
    pool: DecidingPool,
) -> None:
    items = [(json.dumps(example_claim(n)).encode(), None) for n in range(400)]
    judged = await pool.judge_prefix(items, deadline=time.monotonic())
    assert 1 <= len(judged) < len(items)
    assert [j.claim_id for j in judged] == [f"CLM-{n:08d}" for n in range(len(judged))]


def test_small_records_travel_together_and_a_large_one_alone() -> None:
    small = (b"x" * 1000, None)
    large = (b"y" * (CHUNK_BYTES + 1), None)
    groups = chunks([small] * 40 + [large] + [small] * 3)
    assert [len(g) for g in groups] == [32, 8, 1, 3]
    assert [i for g in groups for i in g] == list(range(44))
