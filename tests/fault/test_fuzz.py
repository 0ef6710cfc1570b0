"""Thousands of hostile inputs through a real worker process: each is routed exactly once
with a reason, the worker never exits, and no patient-like string reaches a log line."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from deploy.kafkatools import WorkerProcess
from schemas import Outcome
from tests.fault.conftest import Scale
from tests.fault.hostile import MARKERS, Hostile, hostile_inputs
from tests.fault.tally import Tally
from worker.settings import Settings
from worker.topology import Topics

pytestmark = [pytest.mark.broker, pytest.mark.fault]


async def publish(bootstrap: str, topic: str, items: list[Hostile]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        max_request_size=17 * 1024 * 1024,
        max_batch_size=1024 * 1024,
        linger_ms=10,
    )
    await producer.start()
    try:
        sent = [
            await producer.send(topic, i.value, key=i.key, headers=list(i.headers) or None)
            for i in items
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def test_hostile_inputs_are_each_routed_once_with_a_reason_and_the_worker_lives(
    kafka_bootstrap: str, topics: Topics, scale: Scale, tmp_path: Path
) -> None:
    limit = Settings().max_claim_bytes
    items = hostile_inputs(scale.hostile_inputs, limit)
    await publish(kafka_bootstrap, topics.submitted, items)
    worker = WorkerProcess(kafka_bootstrap, topics, "fuzzed", tmp_path,
                           {"ONCOSCRUB_LOG_DECISIONS": "true"})  # fmt: skip
    began = time.monotonic()
    try:
        async with Tally(kafka_bootstrap, topics) as seen:
            await seen.until(len(items), worker.alive, timeout=3600,
                             what="\n".join(worker.log_lines()[-20:]))  # fmt: skip
        assert worker.alive()
    finally:
        assert worker.terminate(120) == 0
    took = time.monotonic() - began

    events = seen.events
    # Exactly once: one event per input record, one decision per event (matched by digest).
    assert len(events) == len(items) == len({e.event_id for e in events})
    written = Counter((d.topic, d.sha256) for d in seen.decisions)
    assert written == Counter((e.output_topic, e.output_sha256) for e in events)
    for e in events:
        if e.outcome is not Outcome.SCRUBBED:
            assert e.reasons, e.event_id  # a reason for everything not scrubbed
    for d in seen.decisions:
        if d.topic == topics.dead_letter:
            assert d.reason_headers == 1  # forged input headers are not copied
        if d.topic == topics.review:
            assert d.review_reasons >= 1
    outcomes = Counter(e.outcome.value for e in events)
    reasons = Counter(reason.value for e in events for reason in e.reasons)
    assert set(outcomes) == {"scrubbed", "needs_review", "dead_letter"}
    assert {"nested_too_deep", "not_json", "oversized", "schema_invalid"} <= set(reasons)

    # No marker reached a log line: claim ids are logged as keyed digests.
    decisions_logged = 0
    for log in tmp_path.glob("*.log"):
        for line in log.read_text(errors="replace").splitlines():
            event = json.loads(line)
            decisions_logged += event["message"] == "decision"
            assert not [m for m in MARKERS if m in line], line[:300]
    assert decisions_logged == len(items)
    print(f"\nfuzz: {len(items)} hostile inputs in {took:.0f} s; {dict(outcomes)}; "
          f"reasons {dict(reasons)}")  # fmt: skip
