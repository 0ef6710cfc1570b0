"""One claim through the worker, on a real broker, read back with read_committed."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from deploy.kafkatools import InProcessWorker, claim_items, produce, wait_for_decisions
from schemas import AuditEvent, Outcome, ReviewRequest, ScrubbedClaim
from schemas.examples import example_claim
from worker.topology import Topics

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


async def test_claim_rules_route_end_to_end_corrections_to_scrubbed_errors_to_review(
    kafka_bootstrap: str, topics: Topics
) -> None:
    """Issue 4 on the broker: a payer policy's resequencing and a certain NCCI removal travel
    on the scrubbed claim; a guideline deviation without a policy goes to review with every
    finding with its citations."""
    health_net = example_claim(3, administrations=4)
    health_net["payer"] = {"payer_id": "HEALTHNET-CA", "name": "Health Net California"}
    health_net["diagnoses"] = ["C50.911", "Z51.11"]
    medicare = json.loads(json.dumps(health_net))
    medicare["claim_id"] = "CLM-MEDICARE-SEQ"
    medicare["payer"] = {"payer_id": "MEDICARE", "name": "Medicare Part B"}
    radiation = {
        **{k: health_net[k] for k in ("schema_version", "claim_version", "patient_ref")},
        "claim_id": "CLM-RT-1", "claim_type": "institutional", "bill_type": "0131",
        "place_of_service": "22", "setting": "hospital_outpatient",
        "payer": {"payer_id": "MEDICARE", "name": "Medicare"},
        "statement_from": "2026-05-04", "statement_to": "2026-05-04",
        "diagnoses": ["Z51.0", "C61"],
        "service_lines": [
            {"line_number": 1, "code": "77301", "units": "1", "date_of_service": "2026-05-04"},
            {"line_number": 2, "code": "77290", "units": "1", "date_of_service": "2026-05-04"},
        ],
    }  # fmt: skip
    assert "Z51.11" in str(health_net["diagnoses"]) and health_net["administrations"]
    await produce(kafka_bootstrap, topics.submitted, claim_items([health_net, medicare, radiation]))

    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=3, timeout=60)

    scrubbed = {
        s.claim_id: s for s in (ScrubbedClaim.model_validate_json(r.value) for r in out.scrubbed)
    }
    assert set(scrubbed) == {health_net["claim_id"], "CLM-RT-1"}
    [reseq] = scrubbed[health_net["claim_id"]].corrections
    assert reseq.diagnoses[:2] == ("Z51.11", "C50.911") and reseq.policy_id == "HNCA-2021-Z51"
    [removed] = scrubbed["CLM-RT-1"].corrections
    assert (removed.rule_id, removed.line_numbers) == ("NCCI-PTP", (2,))

    [review_record] = out.review
    review = ReviewRequest.model_validate_json(review_record.value)
    assert review.claim_id == "CLM-MEDICARE-SEQ"
    assert [r.rule_id for r in review.reasons] == ["DX-S1"] and not review.corrections
    [dx] = [f for f in review.findings if f.rule_id == "DX-S1"]
    assert dx.suggested_correction == "move Z51.11 to first position" and dx.citations
    audits = {a.claim_id: a for a in (AuditEvent.model_validate_json(r.value) for r in out.audit)}
    assert "DX-S1" in audits["CLM-MEDICARE-SEQ"].rule_ids
