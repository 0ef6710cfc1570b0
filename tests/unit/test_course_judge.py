"""The worker side of the course store: records repartitioned by patient, judged against the
patient's state, corrections linked into the audit chain, and replay from the kept context."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.claim import SubmittedClaim
from schemas.course import PatientCourses
from schemas.decision import ReasonCode, ReviewRequest
from tests.rules.course_builder import START, claim, days, fx, on
from worker.audit.chain import GENESIS
from worker.course_judge import CourseBook, judge_against
from worker.decide import Decision, DecisionContext
from worker.repartition import by_patient, patient_key, submitted_key
from worker.topology import BY_PATIENT_KEY, BY_PATIENT_SOURCE, declare

TOPOLOGY = declare()
CTX = DecisionContext(topology=TOPOLOGY, worker_id="w", max_claim_bytes=1_000_000)
AT = datetime(2025, 7, 1, 12, tzinfo=UTC)  # within the course gap of the last service


def raw(c: SubmittedClaim) -> bytes:
    return c.model_dump_json().encode()


def decide_all(claims: list[bytes]) -> tuple[CourseBook, list[Decision]]:
    book = CourseBook()
    head, out = GENESIS, []
    for n, value in enumerate(claims):
        source = SourceRef(topic=TOPOLOGY.by_patient.name, partition=0, offset=n)
        decisions = book.decide(value, None, source, CTX, AT, head)
        head = decisions[-1].chain_after
        out += decisions
    return book, out


def events(decisions: list[Decision]) -> list[AuditEvent]:
    return [AuditEvent.model_validate_json(d.audit.value) for d in decisions]


PLAN = claim("plan", on("77263", START), on("77290", START), on("77295", START))
DELIVERY = claim("delivery", *fx("77412", days(START, 20)[5], 10))


def test_the_patient_reference_keys_the_copy_and_the_submitted_key_travels_beside_it() -> None:
    value = raw(PLAN)
    copy = by_patient(
        TOPOLOGY.by_patient.name, value, b"claim-key", [("traceparent", b"t")], "s:1:5"
    )
    assert copy.key == PLAN.patient_ref.encode() == patient_key(value)
    assert copy.value == value and copy.partition is None and copy.topic == TOPOLOGY.by_patient.name
    assert dict(copy.headers)[BY_PATIENT_SOURCE] == b"s:1:5"
    assert submitted_key(copy.headers) == b"claim-key"
    assert dict(copy.headers)["traceparent"] == b"t"


def test_unreadable_input_keeps_its_own_key() -> None:
    for value in (b"\xff", b"[1]", b'{"patient_ref": 7}', b""):
        copy = by_patient(TOPOLOGY.by_patient.name, value, b"k", [], "s:0:0")
        assert copy.key == b"k" and patient_key(value) is None
        assert BY_PATIENT_KEY in dict(copy.headers)


def test_delivery_before_its_plan_is_reviewed_then_corrected_when_the_plan_arrives() -> None:
    book, decisions = decide_all([raw(DELIVERY), raw(PLAN)])
    first, *later = events(decisions)
    assert first.claim_id == "delivery" and first.outcome is Outcome.NEEDS_REVIEW
    assert "RO-CC2" in first.rule_ids
    corrections = [e for e in later if ReasonCode.COURSE_CORRECTION in e.reasons]
    assert [e.claim_id for e in corrections] == ["delivery"]
    [fix] = corrections
    plan_event = next(e for e in later if e.claim_id == "plan" and not e.trigger_event_id)
    assert fix.trigger_event_id == plan_event.event_id
    body = ReviewRequest.model_validate_json(decisions[-1].decision.value)
    assert body.course_change is not None and body.claim is None
    assert "RO-CC2" in {f.rule_id for f in body.course_change.before}
    assert "RO-CC2" not in {f.rule_id for f in body.findings}
    # The chain holds every event in order, corrections included.
    assert [e.seq for e in events(decisions)] == list(range(len(decisions)))
    state = PatientCourses.model_validate_json(book.states[PLAN.patient_ref.encode()])
    assert {c.claim_id for c in state.claims} == {"plan", "delivery"}


def test_in_order_the_same_course_needs_no_correction() -> None:
    _, decisions = decide_all([raw(PLAN), raw(DELIVERY)])
    assert not [e for e in events(decisions) if e.trigger_event_id]
    assert "RO-CC2" not in events(decisions)[-1].rule_ids


def test_replay_from_the_kept_context_gives_the_same_bytes() -> None:
    _, decisions = decide_all([raw(PLAN), raw(DELIVERY)])
    for d in decisions:
        event = AuditEvent.model_validate_json(d.audit.value)
        context = (
            None if event.course_context_b64 is None else base64.b64decode(event.course_context_b64)
        )
        assert event.input_b64 is not None
        again, _ = judge_against(base64.b64decode(event.input_b64), None, CTX.judging, context)
        assert again.body == d.decision.value
    assert events(decisions)[1].course_context_b64 is not None


def test_a_new_version_replaces_its_predecessor_contribution() -> None:
    v2 = DELIVERY.model_copy(update={"claim_version": 2})
    book, _ = decide_all([raw(PLAN), raw(DELIVERY), raw(v2)])
    state = PatientCourses.model_validate_json(book.states[PLAN.patient_ref.encode()])
    [delivery] = [c for c in state.claims if c.claim_id == "delivery"]
    assert delivery.claim_version == 2
    assert sum(len(c.services) for c in state.claims if c.claim_id == "delivery") == 10


def test_a_claim_outside_any_course_leaves_the_state_alone() -> None:
    from schemas.examples import example_claim

    book, decisions = decide_all([json.dumps(example_claim(1)).encode()])
    assert book.states == {} and events(decisions)[0].course_context_b64 is None


def test_audit_replay_proves_course_decisions_and_their_corrections() -> None:
    from worker.audit.chain import AuditRecord
    from worker.audit.replay import replay

    fx_late = claim(
        "fx-late", *fx("77412", days(START, 30)[20], 3), on("77427", days(START, 30)[22])
    )
    _, decisions = decide_all([raw(DELIVERY), raw(PLAN), raw(fx_late)])
    records = [AuditRecord(0, n, d.audit.value) for n, d in enumerate(decisions)]
    assert any(AuditEvent.model_validate_json(bytes(r.value)).trigger_event_id for r in records)
    report = replay(records, topology=TOPOLOGY)
    assert report.replayed == len(decisions) and report.identical == len(decisions)
    assert not report.differing and not report.not_replayable
    # A correction altered after the fact no longer matches what its trigger derives.
    fix = next(
        n for n, d in enumerate(decisions)
        if AuditEvent.model_validate_json(d.audit.value).trigger_event_id
    )  # fmt: skip
    forged = AuditEvent.model_validate_json(decisions[fix].audit.value).model_copy(
        update={"output_sha256": "0" * 64}
    )
    records[fix] = AuditRecord(0, fix, forged.model_dump_json().encode())
    assert replay(records, topology=TOPOLOGY).differing == [forged.event_id]


def test_course_show_renders_the_timeline_of_a_patient() -> None:
    from rules.courses import timeline
    from worker.cli_course import render

    book, _ = decide_all([raw(PLAN), raw(DELIVERY)])
    state = PatientCourses.model_validate_json(book.states[PLAN.patient_ref.encode()])
    shown = render(timeline(state))
    assert "fractions delivered: 10" in shown
    assert "clinical treatment planning" in shown and "delivery" in shown
    assert "plan v1" in shown and "delivery v1" in shown
    assert all(len(line) <= 100 for line in shown.splitlines())
