"""Batch mode and the worker decide the same claims identically."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from deploy.kafkatools import InProcessWorker, produce, wait_for_decisions
from schemas.examples import example_claim
from worker.batch import scrub
from worker.topology import Topics

pytestmark = pytest.mark.broker
SAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "samples"


async def test_batch_and_worker_produce_byte_identical_decisions(
    kafka_bootstrap: str, topics: Topics
) -> None:
    inputs = [json.dumps(example_claim(n)).encode() for n in range(200)]
    inputs += [p.read_bytes() for p in sorted(SAMPLES.iterdir())]
    # One partition keeps the worker's order equal to the file's.
    await produce(kafka_bootstrap, topics.submitted, [(None, v) for v in inputs], partition=0)
    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, len(inputs), timeout=120)

    decisions = io.BytesIO()
    summary = scrub(inputs, "file:claims.jsonl", decisions)
    batch = [line for line in decisions.getvalue().splitlines()
             if not line.startswith(b'{"dead_letter"')]  # fmt: skip
    # Each audit event names its input offset and its decision's digest: worker order.
    offset_of = {json.loads(a.value)["output_sha256"]: json.loads(a.value)["source"]["offset"]
                 for a in out.audit}  # fmt: skip
    worker = [
        r.value
        for r in sorted(
            [*out.scrubbed, *out.review],
            key=lambda r: offset_of[hashlib.sha256(r.value).hexdigest()],
        )
    ]
    assert worker == batch
    assert summary.outcomes["dead_letter"] == len(out.dead_letter) == 1
    assert summary.outcomes["scrubbed"] == len(out.scrubbed)
