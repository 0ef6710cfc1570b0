"""One claim through the worker, on a real broker, read back with read_committed."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from deploy.kafkatools import InProcessWorker, claim_items, produce, wait_for_decisions
from schemas import AuditEvent, Outcome, ScrubbedClaim
from schemas.examples import example_claim
from worker.settings import Topics

pytestmark = pytest.mark.broker


async def test_one_claim_gives_one_decision_and_one_audit_event(
    kafka_bootstrap: str, topics: Topics
) -> None:
    claim = example_claim(7)
    [(key, value)] = claim_items([claim])
    await produce(kafka_bootstrap, topics.submitted, [(key, value)])

    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=1, timeout=60)

    assert (len(out.scrubbed), len(out.review), len(out.dead_letter), len(out.audit)) == (
        1,
        0,
        0,
        1,
    )
    decision = out.scrubbed[0]
    assert decision.key == claim["claim_id"].encode()
    scrubbed = ScrubbedClaim.model_validate_json(decision.value)
    assert scrubbed.claim_id == claim["claim_id"]
    assert scrubbed.claim.administrations[0].admin_id == claim["administrations"][0]["admin_id"]

    audit = AuditEvent.model_validate_json(out.audit[0].value)
    assert audit.outcome is Outcome.SCRUBBED
    assert audit.claim_id == claim["claim_id"]
    assert audit.output_topic == topics.scrubbed
    assert audit.input_sha256 == hashlib.sha256(value).hexdigest()
    assert base64.b64decode(audit.input_b64 or "") == value
    assert audit.output_sha256 == hashlib.sha256(decision.value).hexdigest()
    # The audit event sits on the audit partition that mirrors the input partition.
    assert out.audit[0].partition == audit.source.partition
    assert json.loads(out.audit[0].value)["worker_id"] == "w-inproc"
