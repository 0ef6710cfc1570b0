"""One claim through the worker, on a real broker, read back with read_committed."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from deploy.kafkatools import InProcessWorker, claim_items, produce, wait_for_decisions
from schemas import AuditEvent, Outcome, ReviewRequest, ScrubbedClaim
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
    # Event time is the input record's timestamp; the decision comes after it.
    assert audit.event_time is not None and audit.event_time <= audit.decided_at
    # The audit event sits on the audit partition that mirrors the input partition.
    assert out.audit[0].partition == audit.source.partition
    assert json.loads(out.audit[0].value)["worker_id"] == "w-inproc"


async def test_the_engine_decides_end_to_end_lines_to_scrubbed_findings_to_review(
    kafka_bootstrap: str, topics: Topics
) -> None:
    clean = example_claim(11, administrations=5)
    flagged = example_claim(24, administrations=1)
    flagged["administrations"][0].update(
        drug={"name": "denosumab", "hcpcs": "J0897", "dose": "120", "dose_unit": "mg"},
        route="SQ", documented_technique="INJECTION", access_site_id=None, purpose="TREATMENT",
    )  # fmt: skip
    flagged["administrations"][0]["stop"] = flagged["administrations"][0]["start"]
    flagged["service_lines"] = [{"line_number": 1, "code": "J0897", "units": "120",
                                 "date_of_service": flagged["statement_from"]}]  # fmt: skip
    await produce(kafka_bootstrap, topics.submitted, claim_items([clean, flagged]))

    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=60)

    [scrubbed_record] = out.scrubbed
    scrubbed = ScrubbedClaim.model_validate_json(scrubbed_record.value)
    assert scrubbed.claim_id == clean["claim_id"]
    assert [line.code for line in scrubbed.computed_lines][:1] == ["96413"]
    assert all(line.reason and line.rule_ids for line in scrubbed.computed_lines)

    [review_record] = out.review
    review = ReviewRequest.model_validate_json(review_record.value)
    assert review.claim_id == flagged["claim_id"]
    assert [r.rule_id for r in review.reasons] == ["ADM-U2"]
    assert [line.code for line in review.computed_lines] == ["96372"]
    audits = [AuditEvent.model_validate_json(r.value) for r in out.audit]
    assert {a.rule_pack.content_sha256 for a in audits} == {scrubbed.rule_pack.content_sha256}
