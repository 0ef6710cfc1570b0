"""The pure decision step: bytes in, the decision record and its audit event out."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from schemas import AuditEvent, Outcome, ReasonCode, ReviewRequest, ScrubbedClaim, SourceRef
from schemas.examples import example_claim
from worker.decide import DecisionContext, decide
from worker.topology import Topics, declare

TOPICS = Topics()
CTX = DecisionContext(topology=declare(TOPICS), worker_id="w-test", max_claim_bytes=64_000)
AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SRC = SourceRef(topic=TOPICS.submitted, partition=2, offset=41)


def run(raw: bytes, key: bytes | None = b"k"):  # type: ignore[no-untyped-def]
    return decide(raw, key, SRC, CTX, AT)


def test_valid_claim_is_scrubbed_keyed_by_claim_id_with_a_matching_audit_event() -> None:
    raw = json.dumps(example_claim(9)).encode()
    d = run(raw)
    assert d.outcome is Outcome.SCRUBBED
    assert (d.decision.topic, d.decision.key) == (TOPICS.scrubbed, b"CLM-00000009")
    assert ScrubbedClaim.model_validate_json(d.decision.value).claim_id == "CLM-00000009"
    audit = AuditEvent.model_validate_json(d.audit.value)
    assert (d.audit.topic, d.audit.partition, d.audit.key) == (TOPICS.audit, 2, b"CLM-00000009")
    assert audit.event_id == f"{TOPICS.submitted}:2:41"
    assert audit.input_sha256 == hashlib.sha256(raw).hexdigest()
    assert base64.b64decode(audit.input_b64 or "") == raw
    assert audit.output_sha256 == hashlib.sha256(d.decision.value).hexdigest()
    assert audit.decided_at == AT and audit.worker_id == "w-test"


def test_the_same_input_gives_byte_identical_records() -> None:
    raw = json.dumps(example_claim(10)).encode()
    assert run(raw) == run(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe\x00garbage", ReasonCode.NOT_UTF8_JSON),
        (b"{not json", ReasonCode.NOT_UTF8_JSON),
        (b"", ReasonCode.NOT_UTF8_JSON),
        (b'"a string"', ReasonCode.NOT_AN_OBJECT),
        (b"[1]", ReasonCode.NOT_AN_OBJECT),
        (b"{" + b'"x":"' + b"y" * 70_000 + b'"}', ReasonCode.OVERSIZED),
    ],
)
def test_unreadable_input_is_dead_lettered_whole_with_its_reason(
    raw: bytes, reason: ReasonCode
) -> None:
    d = run(raw, key=b"orig-key")
    assert d.outcome is Outcome.DEAD_LETTER
    assert (d.decision.topic, d.decision.key, d.decision.value) == (
        TOPICS.dead_letter, b"orig-key", raw,
    )  # fmt: skip
    headers = dict(d.decision.headers)
    assert headers["x-reason"] == reason.value.encode()
    assert headers["x-source"] == f"{TOPICS.submitted}:2:41".encode()
    audit = AuditEvent.model_validate_json(d.audit.value)
    assert audit.reasons == (reason,)
    assert (audit.input_b64 is None) == (reason is ReasonCode.OVERSIZED)


def test_a_schema_invalid_claim_goes_to_review_with_located_reasons_and_its_bytes() -> None:
    claim = example_claim(11)
    claim["diagnoses"] = []
    claim["service_lines"][0]["date_of_service"] = "yesterday"
    raw = json.dumps(claim).encode()
    d = run(raw)
    assert d.outcome is Outcome.NEEDS_REVIEW
    assert (d.decision.topic, d.decision.key) == (TOPICS.review, b"CLM-00000011")
    review = ReviewRequest.model_validate_json(d.decision.value)
    assert {r.location for r in review.reasons} == {"diagnoses", "service_lines.0.date_of_service"}
    assert review.claim is None and base64.b64decode(review.original_b64 or "") == raw


def test_an_invalid_claim_with_an_unusable_id_keeps_the_record_key() -> None:
    claim = example_claim(12)
    claim["claim_id"] = "has spaces and / slashes"
    d = run(json.dumps(claim).encode(), key=b"platform-key")
    assert d.outcome is Outcome.NEEDS_REVIEW
    assert d.decision.key == b"platform-key" and d.claim_id is None


def test_an_engine_failure_sends_the_claim_to_review_instead_of_stalling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise ZeroDivisionError("a rule bug")

    monkeypatch.setattr("worker.decide.assess", broken)
    d = run(json.dumps(example_claim(13)).encode())
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reasons == (ReasonCode.ENGINE_ERROR,)
    review = ReviewRequest.model_validate_json(d.decision.value)
    assert review.claim is not None and review.reasons[0].message.endswith("ZeroDivisionError")


def test_computed_lines_ride_on_the_scrubbed_claim() -> None:
    d = run(json.dumps(example_claim(14)).encode())
    scrubbed = ScrubbedClaim.model_validate_json(d.decision.value)
    assert d.outcome is Outcome.SCRUBBED
    assert scrubbed.computed_lines, "the engine's lines travel with the claim"
    assert all(line.rule_ids and line.reason for line in scrubbed.computed_lines)
    assert (
        scrubbed.rule_pack.content_sha256
        == AuditEvent.model_validate_json(d.audit.value).rule_pack.content_sha256
    )


def test_an_error_finding_sends_the_claim_to_review_with_its_reasons() -> None:
    claim = example_claim(15, administrations=1)
    claim["administrations"][0]["drug"] = {
        "name": "denosumab",
        "hcpcs": "J0897",
        "dose": "120",
        "dose_unit": "mg",
    }
    claim["administrations"][0]["route"] = "SQ"
    claim["administrations"][0]["documented_technique"] = "INJECTION"
    claim["service_lines"] = [
        {
            "line_number": 1,
            "code": "J0897",
            "units": "120",
            "date_of_service": claim["statement_from"],
        }
    ]
    d = run(json.dumps(claim).encode())
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reasons == (ReasonCode.FINDING,)
    review = ReviewRequest.model_validate_json(d.decision.value)
    assert [r.rule_id for r in review.reasons] == ["ADM-U2"]
    assert [line.code for line in review.computed_lines] == ["96372"]
    assert review.claim is not None and review.original_b64 is None
    audit = AuditEvent.model_validate_json(d.audit.value)
    assert audit.rule_ids == ("ADM-U2",)


def test_corrections_travel_on_the_scrubbed_claim_and_all_findings_on_review() -> None:
    claim = example_claim(3, administrations=4)
    claim["payer"] = {"payer_id": "HEALTHNET-CA", "name": "Health Net California"}
    claim["diagnoses"] = ["C61", "Z51.11"]
    d = run(json.dumps(claim).encode())
    scrubbed = ScrubbedClaim.model_validate_json(d.decision.value)
    assert d.outcome is Outcome.SCRUBBED
    assert [c.diagnoses for c in scrubbed.corrections] == [("Z51.11", "C61")]
    assert AuditEvent.model_validate_json(d.audit.value).rule_ids == ("DX-S1",)

    claim["payer"] = {"payer_id": "MEDICARE", "name": "Medicare"}
    d = run(json.dumps(claim).encode())
    review = ReviewRequest.model_validate_json(d.decision.value)
    assert d.outcome is Outcome.NEEDS_REVIEW and not review.corrections
    assert [r.rule_id for r in review.reasons] == ["DX-S1"]
