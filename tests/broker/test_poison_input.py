"""Bad input is routed with a reason, inside the transaction, and the partition keeps moving."""

from __future__ import annotations

import base64
import json

import pytest

from deploy.kafkatools import InProcessWorker, produce, wait_for_decisions
from schemas import AuditEvent, Outcome, ReasonCode, ReviewRequest
from schemas.examples import example_claim
from worker.topology import Topics

pytestmark = pytest.mark.broker

SENTINEL = "Jane Q Sentinel"  # must never come back in a reason


async def test_poison_is_routed_with_a_reason_and_the_partition_keeps_moving(
    kafka_bootstrap: str, topics: Topics
) -> None:
    wrong_types = example_claim(2)
    wrong_types["service_lines"][0]["units"] = "lots"
    wrong_types["patient_ref"] = SENTINEL
    wrong_types["claim_version"] = "two"
    garbage = bytes(range(256)) * 4
    huge = b'{"claim_id": "CLM-HUGE", "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    inputs = [
        json.dumps(example_claim(1)).encode(),
        garbage,
        json.dumps(wrong_types).encode(),
        b"[1, 2, 3]",
        huge,
        json.dumps(example_claim(3)).encode(),
    ]
    # All on one partition, in this order: a poison record must not block those after it.
    await produce(kafka_bootstrap, topics.submitted, [(None, v) for v in inputs], partition=0)

    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=len(inputs), timeout=90)

    assert len(out.audit) == len(inputs)
    assert sorted(r.key for r in out.scrubbed) == [b"CLM-00000001", b"CLM-00000003"]

    dead = {dict(r.headers)["x-reason"].decode(): r for r in out.dead_letter}
    assert set(dead) == {ReasonCode.NOT_UTF8_JSON, ReasonCode.NOT_AN_OBJECT, ReasonCode.OVERSIZED}
    assert dead[ReasonCode.NOT_UTF8_JSON].value == garbage
    assert dead[ReasonCode.NOT_AN_OBJECT].value == b"[1, 2, 3]"
    assert dead[ReasonCode.OVERSIZED].value == huge  # the original bytes, whole
    assert dict(dead[ReasonCode.OVERSIZED].headers)["x-source"].startswith(
        f"{topics.submitted}:0:".encode()
    )

    [review_record] = out.review
    review = ReviewRequest.model_validate_json(review_record.value)
    assert review.claim_id == wrong_types["claim_id"]
    assert review_record.key == wrong_types["claim_id"].encode()
    assert {r.code for r in review.reasons} == {ReasonCode.SCHEMA_INVALID}
    locations = {r.location for r in review.reasons}
    assert {"claim_version", "patient_ref", "service_lines.0.units"} <= locations
    assert base64.b64decode(review.original_b64 or "") == json.dumps(wrong_types).encode()
    reasons_text = json.dumps([r.model_dump() for r in review.reasons])
    assert SENTINEL not in reasons_text and "lots" not in reasons_text

    events = [AuditEvent.model_validate_json(r.value) for r in out.audit]
    by_offset = {e.source.offset: e for e in events}
    assert [by_offset[o].outcome for o in sorted(by_offset)] == [
        Outcome.SCRUBBED, Outcome.DEAD_LETTER, Outcome.NEEDS_REVIEW,
        Outcome.DEAD_LETTER, Outcome.DEAD_LETTER, Outcome.SCRUBBED,
    ]  # fmt: skip
    oversized = next(e for e in events if ReasonCode.OVERSIZED in e.reasons)
    assert oversized.input_b64 is None  # kept in the dead-letter topic; the digest proves it


async def test_a_claim_just_under_the_size_limit_is_still_routed(
    kafka_bootstrap: str, topics: Topics
) -> None:
    # 900 KB in: its review request carries the original in base64 (+33%), past the
    # broker's default 1 MB message limit. The decision topics must take it.
    big = example_claim(4)
    big["diagnoses"] = []  # schema-invalid: goes to review with the original bytes
    big["pad"] = "x" * 900_000
    after = example_claim(5)
    await produce(kafka_bootstrap, topics.submitted,
                  [(None, json.dumps(big).encode()), (None, json.dumps(after).encode())],
                  partition=0)  # fmt: skip
    async with InProcessWorker(kafka_bootstrap, topics):
        out = await wait_for_decisions(kafka_bootstrap, topics, expected=2, timeout=60)
    [review] = out.review
    assert len(review.value) > 1_000_000
    assert (
        base64.b64decode(ReviewRequest.model_validate_json(review.value).original_b64 or "")
        == json.dumps(big).encode()
    )
    assert [r.key for r in out.scrubbed] == [b"CLM-00000005"]
