"""The MAR beside its 837 on the real broker (issue 14, ``ONCOSCRUB_MAR_JOIN``): an 837 claim
decided before its MAR is decided without it (MAR-W1) and corrected when the MAR arrives,
superseding its first decision; a claim whose MAR came first is decided once, joined."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from deploy.kafkatools import InProcessWorker, Outputs, connection, read_outputs, read_topic
from rules import assess
from schemas import AuditEvent, Outcome
from schemas.claim import SubmittedClaim
from schemas.decision import ReviewRequest, ScrubbedClaim
from tests.broker.test_crash_and_rebalance import assert_chain_intact
from tests.broker.test_x12_fhir import (
    FHIR,
    INGEST,
    X12,
    assert_nothing_identifying_logged,
    audit_events,
    capture_worker_logs,
    publish,
)
from tests.ingest.conftest import sample
from tests.ingest.fhir_builder import mar_bundle
from tests.ingest.x12_builder import interchange
from worker.topology import MAR_KIND, RECORD_KIND, Topics

pytestmark = pytest.mark.broker

MAR_JOIN: dict[str, Any] = {**INGEST, "mar_join": True, "courses": False}


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    capture_worker_logs(caplog)


def recent_chemo() -> dict[str, Any]:
    """Sample 13 (chemotherapy with its MAR) moved to last week: the worker keeps MAR for
    ``mar_keep_days`` before the day it decides, so a months-old MAR would be dropped."""
    doc = sample("13-nurse-visit-with-chemo.json")
    given = doc["statement_from"]
    week_ago = (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    moved: dict[str, Any] = json.loads(json.dumps(doc).replace(given, week_ago))
    return moved


def mar_codes(doc: dict[str, Any]) -> list[str]:
    """The lines the engine computes from the claim's MAR (the v1 claim as it came, MAR inside)."""
    codes = [x.code for x in assess(SubmittedClaim.model_validate(doc)).computed_lines]
    assert codes, "the sample's MAR computes no line: the test would prove nothing"
    return codes


def bodies(
    out: Outputs,
) -> list[tuple[ConsumerRecord[bytes, bytes], ScrubbedClaim | ReviewRequest]]:
    """Each decision with its body read by the topic it is on."""
    scrubbed = [(r, ScrubbedClaim.model_validate_json(r.value)) for r in out.scrubbed]
    review = [(r, ReviewRequest.model_validate_json(r.value)) for r in out.review]
    return [*scrubbed, *review]


async def wait_for_events(bootstrap: str, topics: Topics, n: int) -> list[AuditEvent]:
    async with asyncio.timeout(120):
        while len(events := audit_events(await read_outputs(bootstrap, topics))) < n:
            await asyncio.sleep(0.5)
    return events


async def test_a_claim_decided_before_its_mar_is_corrected_when_the_mar_arrives(
    kafka_bootstrap: str,
    topics: Topics,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = recent_chemo()
    text = interchange([doc], "P")
    async with InProcessWorker(kafka_bootstrap, topics, **MAR_JOIN):
        await publish(kafka_bootstrap, topics.submitted, [(b"837-1", text.encode(), X12)])
        [first] = await wait_for_events(kafka_bootstrap, topics, 1)
        await publish(
            kafka_bootstrap, topics.mar_submitted, [(b"mar-1", mar_bundle(doc).encode(), FHIR)]
        )
        events = await wait_for_events(kafka_bootstrap, topics, 2)
    out = await read_outputs(kafka_bootstrap, topics)

    # Decided without its MAR: said so, kept awaiting it, no line computed from a MAR.
    assert first.claim_id == doc["claim_id"] and first.source.topic == topics.by_patient
    assert "MAR-W1" in first.rule_ids and first.awaiting_mar is True
    assert first.supersedes is None and first.outcome is not Outcome.DEAD_LETTER
    assert len(events) == len(out.audit) == len(out.decisions) == 2
    decided = bodies(out)
    [(record, before)] = [b for b in decided if b[1].supersedes is None]
    assert record.key == doc["claim_id"].encode()
    assert [f.rule_id for f in before.findings if f.rule_id == "MAR-W1"] == ["MAR-W1"]
    assert not set(mar_codes(doc)) & {x.code for x in before.computed_lines}

    # The correction: the same claim, decided with its MAR, superseding the first decision.
    [fix] = [e for e in events if e.event_id != first.event_id]
    assert fix.claim_id == doc["claim_id"] and fix.supersedes == first.event_id
    assert "MAR-W1" not in fix.rule_ids and fix.awaiting_mar is None
    [(fix_record, after)] = [b for b in decided if b[1].supersedes is not None]
    assert fix_record.key == doc["claim_id"].encode()
    assert after.supersedes == first.event_id and after.claim_id == doc["claim_id"]
    assert "MAR-W1" not in {f.rule_id for f in after.findings}
    assert [x.code for x in after.computed_lines] == mar_codes(doc)
    assert after.claim is not None and len(after.claim.administrations) == len(
        doc["administrations"]
    )
    if isinstance(after, ScrubbedClaim):  # it came as an 837: it goes back as one
        assert after.corrected_x12 is not None and doc["claim_id"] in after.corrected_x12
    await assert_chain_intact(connection(kafka_bootstrap), topics, 2)
    assert_nothing_identifying_logged(capfd, caplog)


async def test_a_claim_whose_mar_came_first_is_decided_once_joined(
    kafka_bootstrap: str,
    topics: Topics,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = recent_chemo()
    async with InProcessWorker(kafka_bootstrap, topics, **MAR_JOIN):
        await publish(
            kafka_bootstrap, topics.mar_submitted, [(b"mar-1", mar_bundle(doc).encode(), FHIR)]
        )
        # The MAR is on the patient's by-patient partition before the claim is published:
        # the claim's copy lands behind it there.
        async with asyncio.timeout(60):
            while not any(
                (RECORD_KIND, MAR_KIND) in r.headers
                for r in await read_topic(kafka_bootstrap, topics.by_patient)
            ):
                await asyncio.sleep(0.3)
        text = interchange([doc], "P")
        await publish(kafka_bootstrap, topics.submitted, [(b"837-1", text.encode(), X12)])
        await wait_for_events(kafka_bootstrap, topics, 1)
    # The claim's decision and its offset commit are one transaction, and nothing came after
    # it: what is downstream now is all there will be.
    out = await read_outputs(kafka_bootstrap, topics)
    [event] = audit_events(out)
    assert out.dead_letter == []
    [(_, decided)] = bodies(out)
    assert event.claim_id == decided.claim_id == doc["claim_id"]
    assert "MAR-W1" not in event.rule_ids and event.awaiting_mar is None
    assert event.supersedes is None and decided.supersedes is None
    assert [x.code for x in decided.computed_lines] == mar_codes(doc)
    assert decided.claim is not None and len(decided.claim.administrations) == len(
        doc["administrations"]
    )
    await assert_chain_intact(connection(kafka_bootstrap), topics, 1)
    assert_nothing_identifying_logged(capfd, caplog)
