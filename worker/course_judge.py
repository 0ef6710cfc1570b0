"""Deciding a claim within its patient's radiation-oncology courses (issue 13).

The course store keeps, per patient, what every claim version contributed to the patient's
courses (``schemas.course.PatientCourses``). A record is judged against the state as it
stands before it (``context``), in a pool process like any other record; what comes back
is the decision, the state after it, and a correction for every earlier claim of the
course whose course findings the new claim changed. The processor puts the state in the
store and publishes the corrections in the record's transaction.

Replay decides a record again from its audit event: the input and the ``context`` it
carries give the same decision and the same corrections, so the state itself never needs
to be replayed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from rules import ENGINE_VERSION, Assessment, assess
from rules.courses import InCourse, assess_in_course, expire
from rules.pack import RulePack
from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.claim import SubmittedClaim
from schemas.course import CourseCorrection, PatientCourses
from schemas.decision import (
    CourseChange,
    ReasonCode,
    ReviewReason,
    ReviewRequest,
    RulePackRef,
)
from worker.audit.chain import ChainHead, sha256_hex
from worker.decide import Decision, DecisionContext, Judging, judge, link
from worker.judgement import Judgement
from worker.repartition import patient_key
from worker.topology import Topology


@dataclass(frozen=True, slots=True)
class CourseOutcome:
    """What deciding one claim did to its patient's courses."""

    context: bytes | None  # the state the claim was judged against (kept in its audit event)
    state: bytes | None  # the state after it; None: the patient has no course left (delete)
    corrections: tuple[CourseCorrection, ...]


def decode(context: bytes | None) -> PatientCourses | None:
    """The state a context holds; none for b"" (within courses, no state yet)."""
    return PatientCourses.model_validate_json(context) if context else None


def judge_against(
    raw: bytes | None, key: bytes | None, judging: Judging, context: bytes | None
) -> tuple[Judgement, CourseOutcome | None]:
    """Judge a record against its patient's course state as given. The outcome is None when
    the claim takes no part in a course (not readable, no radiation-oncology service) or when
    the rules could not decide it: the courses stay as they were. Replay calls this with the
    context its audit event kept."""
    state = decode(context)
    seen: list[InCourse] = []

    def assess_fn(claim: SubmittedClaim, pack: RulePack) -> Assessment:
        result = assess_in_course(claim, assess(claim, pack), pack, state)
        seen.append(result)
        return result.assessment

    judgement = judge(raw, key, judging, assess_fn)
    decided_by_rules = not set(judgement.reasons) - {ReasonCode.FINDING}
    if not seen or seen[-1].state is None or not decided_by_rules:
        return judgement, None
    after = seen[-1].state
    return judgement, CourseOutcome(
        context=context,
        state=after.model_dump_json().encode(),
        corrections=seen[-1].corrections,
    )


def judge_in_course(
    raw: bytes | None,
    key: bytes | None,
    judging: Judging,
    context: bytes | None,
    as_of: date,
    retention_days: int,
) -> tuple[Judgement, CourseOutcome | None]:
    """Expire what the patient's state holds past its retention, then judge against it.
    The context kept for replay is the state after expiry, so replay needs no retention."""
    state = decode(context)
    if state is not None:
        kept = expire(state, as_of, retention_days)
        if kept != state:
            context = None if kept is None else kept.model_dump_json().encode()
            judgement, outcome = judge_against(raw, key, judging, context)
            # Expiry alone changes the store, even for a claim outside any course.
            return judgement, outcome or CourseOutcome(context, context, ())
    return judge_against(raw, key, judging, context)


class CourseBook:
    """Batch mode's course store: patients' course states in memory, judged exactly as the
    worker judges them, so a file of claims spanning a course is decided with one state."""

    def __init__(self, retention_days: int = 400) -> None:
        self.retention_days = retention_days
        self.states: dict[bytes, bytes] = {}

    def decide(
        self,
        raw: bytes | None,
        key: bytes | None,
        source: SourceRef,
        ctx: DecisionContext,
        decided_at: datetime,
        chain: ChainHead,
        event_time: datetime | None = None,
    ) -> list[Decision]:
        """The record's decision, then a correction for each earlier claim it changes."""
        patient = patient_key(raw)
        context = None if patient is None else self.states.get(patient)
        judgement, course = judge_in_course(
            raw, key, ctx.judging, context, decided_at.date(), self.retention_days
        )
        decision = link(
            judgement, raw, source, ctx.topology, ctx.worker_id, decided_at, chain, event_time,
            # Within courses even with no state yet (b""): replay then judges it so too.
            None if course is None else course.context or b"",
        )  # fmt: skip
        out = [decision]
        if course is None or patient is None:
            return out
        if course.state is None:
            self.states.pop(patient, None)
        else:
            self.states[patient] = course.state
        head = decision.chain_after
        if course.corrections:
            trigger = AuditEvent.model_validate_json(decision.audit.value)
            for c in course.corrections:
                out.append(
                    link_correction(c, trigger, ctx.topology, ctx.worker_id, decided_at, head)
                )
                head = out[-1].chain_after
        return out


def correction_message(c: CourseCorrection) -> str:
    """Fixed words and rule ids only: no claim content."""
    before = ", ".join(sorted({f.rule_id for f in c.before})) or "none"
    after = ", ".join(sorted({f.rule_id for f in c.after})) or "none"
    return (
        "a later claim of the same radiation-oncology course changed this claim's course "
        f"findings (before: {before}; now: {after}): review the course"
    )


def correction_body(c: CourseCorrection, pack_ref: RulePackRef) -> bytes:
    return (
        ReviewRequest(
            claim_id=c.claim_id,
            claim_version=c.claim_version,
            reasons=(
                ReviewReason(code=ReasonCode.COURSE_CORRECTION, message=correction_message(c)),
            ),
            findings=c.after,
            rule_pack=pack_ref,
            engine_version=ENGINE_VERSION,
            course_change=CourseChange(
                course_id=c.course_id,
                trigger_claim_id=c.trigger_claim_id,
                trigger_claim_version=c.trigger_claim_version,
                before=c.before,
            ),
        )
        .model_dump_json()
        .encode()
    )


def link_correction(
    c: CourseCorrection,
    trigger: AuditEvent,
    topology: Topology,
    worker_id: str,
    decided_at: datetime,
    chain: ChainHead,
) -> Decision:
    """A correction's records: a review request for the corrected claim and its audit event,
    chained after the decision that triggered it (same transaction)."""
    body = correction_body(c, trigger.rule_pack)
    key = c.claim_id.encode()
    source: SourceRef = trigger.source
    audit = AuditEvent(
        seq=chain.seq,
        prev_hash=chain.prev_hash,
        event_id=f"{trigger.event_id}#course:{c.claim_id}",
        claim_id=c.claim_id,
        claim_version=c.claim_version,
        source=source,
        input_sha256=trigger.input_sha256,
        input_b64=None,
        outcome=Outcome.NEEDS_REVIEW,
        output_topic=topology.review.name,
        output_sha256=sha256_hex(body),
        reasons=(ReasonCode.COURSE_CORRECTION,),
        rule_ids=tuple(sorted({f.rule_id for f in c.after} | {f.rule_id for f in c.before})),
        rule_pack=trigger.rule_pack,
        engine_version=ENGINE_VERSION,
        worker_id=worker_id,
        decided_at=decided_at,
        trigger_event_id=trigger.event_id,
    )
    audit_bytes = audit.model_dump_json().encode()
    return Decision(
        outcome=Outcome.NEEDS_REVIEW,
        claim_id=c.claim_id,
        reasons=(ReasonCode.COURSE_CORRECTION,),
        decision=topology.review.record(key, body, source.partition),
        audit=topology.audit.record(key, audit_bytes, source.partition),
        chain_after=chain.after(audit_bytes),
    )


def context_b64(context: bytes | None) -> str | None:
    return None if context is None else base64.b64encode(context).decode()
