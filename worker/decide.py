"""From one input record to the records that decide it. Pure: no Kafka, no clock.

Two halves, so that the CPU work can leave the event loop:

* ``judge`` — read the bytes (bounded: ``worker.intake``), validate, run the rules, build
  the decision's body and measure it. Its arguments and its ``Judgement``
  (``worker.judgement``) pickle, so the worker runs it in a process pool
  (``worker.deciders``). It never raises: any failure
  deciding one record becomes that record's decision, with a reason;
* ``link`` — the audit event, chained to the partition's head. Cheap and sequential.

``decide`` is both in one call: batch mode and replay use it, the worker the halves, so
all three decide alike. Where each record goes comes from the topology; how large any
record may be, from ``worker.limits``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from rules import ENGINE_VERSION, Assessment, assess
from rules.pack import RulePack, current_pack
from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.claim import SubmittedClaim
from schemas.decision import (
    ReasonCode,
    ReviewReason,
    ReviewRequest,
    RulePackRef,
    ScrubbedClaim,
    Severity,
)
from schemas.errors import review_reasons
from worker import intake, limits, record_headers
from worker.audit.chain import GENESIS, ChainHead, sha256_hex
from worker.judgement import Judgement
from worker.topology import DEFAULT_MAX_DECISION_BYTES, Headers, OutRecord, Topology

# How a valid claim is assessed: the engine alone, or (``worker.course_judge``) the engine
# and the claim's radiation-oncology course.
AssessFn = Callable[[SubmittedClaim, RulePack], Assessment]

# What a person reads when the worker's guards, not the rules, decided. Fixed sentences:
# replay rebuilds these decisions from the recorded reason and must get the same bytes.
GUARD_MESSAGES = {
    ReasonCode.OVER_TIME_BUDGET: "deciding took longer than the worker's time budget per "
    "record: a person decides instead",
    ReasonCode.DECIDER_LOST: "the process deciding this claim stopped: a person decides instead",
    ReasonCode.DECISION_TOO_LARGE: "the decision would exceed the largest record its topic "
    "takes: the claim is sent with its original bytes only",
}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    claim_id: str | None
    reasons: tuple[ReasonCode, ...]
    decision: OutRecord
    audit: OutRecord
    chain_after: ChainHead  # the audit partition's head once this decision is committed

    @property
    def records(self) -> tuple[OutRecord, OutRecord]:
        return (self.decision, self.audit)


@dataclass(frozen=True, slots=True)
class Judging:
    """What ``judge`` needs: the limits and the rule pack (None: the shipped pack)."""

    max_claim_bytes: int
    max_decision_bytes: int = DEFAULT_MAX_DECISION_BYTES
    pack: RulePack | None = None

    def __post_init__(self) -> None:
        least = limits.smallest_decision_cap(self.max_claim_bytes)
        if self.max_decision_bytes < least:
            raise ValueError(
                f"max_decision_bytes {self.max_decision_bytes} cannot hold a review request "
                f"carrying a claim of max_claim_bytes {self.max_claim_bytes}: at least {least}"
            )


@dataclass(frozen=True, slots=True)
class DecisionContext:
    topology: Topology
    worker_id: str
    max_claim_bytes: int
    pack: RulePack | None = None  # None: the pack shipped with the engine
    max_decision_bytes: int = DEFAULT_MAX_DECISION_BYTES

    @property
    def judging(self) -> Judging:
        return Judging(self.max_claim_bytes, self.max_decision_bytes, self.pack)


@dataclass(frozen=True, slots=True)
class _Verdict:
    outcome: Outcome
    reasons: tuple[ReviewReason, ...] = ()
    claim_id: str | None = None
    claim_version: int | None = None
    claim: SubmittedClaim | None = None
    assessment: Assessment | None = None

    @classmethod
    def of_claim(
        cls,
        outcome: Outcome,
        claim: SubmittedClaim,
        reasons: tuple[ReviewReason, ...] = (),
        assessment: Assessment | None = None,
    ) -> _Verdict:
        return cls(outcome, reasons, claim.claim_id, claim.claim_version, claim, assessment)


def _dead_letter(code: ReasonCode, message: str) -> _Verdict:
    return _Verdict(Outcome.DEAD_LETTER, (ReviewReason(code=code, message=message),))


def _oversized(value: bytes, max_claim_bytes: int) -> _Verdict | None:
    if len(value) <= max_claim_bytes:
        return None
    too_big = f"message of {len(value)} bytes exceeds the limit of {max_claim_bytes}"
    return _dead_letter(ReasonCode.OVERSIZED, too_big)


def _judge_bytes(
    value: bytes, max_claim_bytes: int, pack: RulePack, assess_fn: AssessFn = assess
) -> _Verdict:
    oversized = _oversized(value, max_claim_bytes)
    if oversized is not None:
        return oversized
    doc = intake.read_object(value)
    if isinstance(doc, intake.Unreadable):
        return _dead_letter(doc.code, doc.message)
    if isinstance(doc, intake.DuplicateKeys):
        claim_id, claim_version = intake.identity(doc.doc)
        repeated = tuple(
            ReviewReason(
                code=ReasonCode.SCHEMA_INVALID,
                message="duplicate_key: a key appears twice in one object; which value is "
                "meant is ambiguous",
                location=where[:200],
            )
            for where in doc.locations
        )
        # A repeated claim id leaves the claim without one.
        return _Verdict(
            Outcome.NEEDS_REVIEW,
            repeated,
            None if "claim_id" in doc.locations else claim_id,
            claim_version,
        )
    try:
        claim = SubmittedClaim.model_validate_json(value)
    except ValidationError as exc:
        claim_id, claim_version = intake.identity(doc)
        return _Verdict(Outcome.NEEDS_REVIEW, review_reasons(exc), claim_id, claim_version)
    try:
        assessment = assess_fn(claim, pack)
    except Exception as exc:  # a rule bug must not stall the partition: a person looks instead
        reason = ReviewReason(
            code=ReasonCode.ENGINE_ERROR, message=f"the rule engine failed: {type(exc).__name__}"
        )
        return _Verdict.of_claim(Outcome.NEEDS_REVIEW, claim, (reason,))
    if assessment.needs_review:
        reasons = tuple(
            ReviewReason(code=ReasonCode.FINDING, message=f.message, rule_id=f.rule_id)
            for f in assessment.findings
            if f.severity is Severity.ERROR
        )
        return _Verdict.of_claim(Outcome.NEEDS_REVIEW, claim, reasons, assessment)
    return _Verdict.of_claim(Outcome.SCRUBBED, claim, assessment=assessment)


def _body(verdict: _Verdict, value: bytes, pack_ref: RulePackRef) -> bytes:
    assessment = verdict.assessment
    if verdict.outcome is Outcome.DEAD_LETTER:
        return value
    if verdict.outcome is Outcome.SCRUBBED and verdict.claim is not None and assessment:
        return (
            ScrubbedClaim(
                claim_id=verdict.claim.claim_id,
                claim_version=verdict.claim.claim_version,
                claim=verdict.claim,
                computed_lines=assessment.computed_lines,
                findings=assessment.findings,
                corrections=assessment.corrections,
                rule_pack=assessment.rule_pack,
                engine_version=ENGINE_VERSION,
            )
            .model_dump_json()
            .encode()
        )
    return _review_body(
        verdict.claim_id,
        verdict.claim_version,
        verdict.reasons,
        pack_ref,
        claim=verdict.claim,
        original=None if verdict.claim is not None else value,
        assessment=assessment,
    )


def _review_body(
    claim_id: str | None,
    claim_version: int | None,
    reasons: tuple[ReviewReason, ...],
    pack_ref: RulePackRef,
    claim: SubmittedClaim | None = None,
    original: bytes | None = None,
    assessment: Assessment | None = None,
) -> bytes:
    return (
        ReviewRequest(
            claim_id=claim_id,
            claim_version=claim_version,
            reasons=reasons,
            claim=claim,
            original_b64=None if original is None else base64.b64encode(original).decode(),
            computed_lines=assessment.computed_lines if assessment else (),
            findings=assessment.findings if assessment else (),
            corrections=assessment.corrections if assessment else (),
            rule_pack=pack_ref,
            engine_version=ENGINE_VERSION,
        )
        .model_dump_json()
        .encode()
    )


def _out_key(claim_id: str | None, key: bytes | None) -> bytes | None:
    return claim_id.encode() if claim_id is not None else limits.bounded_key(key)


def _audit_bound(value: bytes, judgement: Judgement) -> int:
    """An upper bound of the audit event's size (``limits.AUDIT_FIXED`` and the parts that
    grow: the input in base64, the reason codes and the rule ids)."""
    kept = limits.base64_bytes(len(value)) if judgement.input_kept else 0
    grows = sum(len(r.value) + 3 for r in judgement.reasons)
    grows += sum(len(r) + 3 for r in judgement.rule_ids)
    return limits.AUDIT_FIXED + kept + grows


def guarded(
    value: bytes,
    key: bytes | None,
    judging: Judging,
    pack_ref: RulePackRef,
    code: ReasonCode,
    message: str | None = None,
) -> Judgement:
    """The decision when the rules could not give one: review, with the original bytes
    (base64) and the reason. Its size follows from ``max_claim_bytes`` alone."""
    oversized = _oversized(value, judging.max_claim_bytes)
    if oversized is not None:
        return _judgement(oversized, value, key, pack_ref)
    claim_id, claim_version = intake.identity_of(value)
    reason = ReviewReason(code=code, message=message or GUARD_MESSAGES[code])
    return Judgement(
        outcome=Outcome.NEEDS_REVIEW,
        claim_id=claim_id,
        claim_version=claim_version,
        reasons=(code,),
        detail=reason.message,
        rule_ids=(),
        body=_review_body(claim_id, claim_version, (reason,), pack_ref, original=value),
        key=_out_key(claim_id, key),
        input_kept=True,
        pack_ref=pack_ref,
    )


def dead_letter(
    value: bytes, key: bytes | None, pack_ref: RulePackRef, code: ReasonCode, detail: str
) -> Judgement:
    """A record dead-lettered whole for ``code`` (an unreadable interchange or Bundle, an
    unknown form): its body is the record itself, ``detail`` says where and why."""
    verdict = _dead_letter(code, detail[:500] or code.value)
    return _judgement(verdict, value, key, pack_ref)


def review_of_unreadable(
    value: bytes,
    key: bytes | None,
    pack_ref: RulePackRef,
    claim_id: str | None,
    reasons: tuple[ReviewReason, ...],
) -> Judgement:
    """A claim that could not be read goes to review with its reasons and its bytes."""
    return _judgement(_Verdict(Outcome.NEEDS_REVIEW, reasons, claim_id), value, key, pack_ref)


def _judgement(
    verdict: _Verdict, value: bytes, key: bytes | None, pack_ref: RulePackRef
) -> Judgement:
    findings = verdict.assessment.findings if verdict.assessment else ()
    dead = verdict.outcome is Outcome.DEAD_LETTER
    tally = tuple((f.rule_id, f.severity) for f in findings)
    return Judgement(
        outcome=verdict.outcome,
        claim_id=verdict.claim_id,
        claim_version=verdict.claim_version,
        reasons=tuple(r.code for r in verdict.reasons),
        detail=verdict.reasons[0].message if verdict.reasons else "",
        rule_ids=tuple(sorted({f.rule_id for f in findings})),
        body=_body(verdict, value, pack_ref),
        # A dead letter keeps the input's key whole, as it keeps its value.
        key=key if dead else _out_key(verdict.claim_id, key),
        # An oversized input stays whole in the dead-letter record; the audit keeps its digest.
        input_kept=ReasonCode.OVERSIZED not in (r.code for r in verdict.reasons),
        pack_ref=pack_ref,
        payer=verdict.claim.payer.payer_id if verdict.claim is not None else None,
        severity=record_headers.highest(s for _, s in tally),
        findings=tally,
    )


def judge(
    raw: bytes | None, key: bytes | None, judging: Judging, assess_fn: AssessFn | None = None
) -> Judgement:
    """Decide one record's outcome and body. Never raises for any input. ``assess_fn``: how
    a valid claim is assessed (None: the engine alone)."""
    value = raw or b""
    pack = judging.pack or current_pack()
    try:
        # The engine looked up at the call, not bound at definition: a test may replace it.
        verdict = _judge_bytes(value, judging.max_claim_bytes, pack, assess_fn or assess)
        judgement = _judgement(verdict, value, key, pack.ref)
    except Exception as exc:  # contained to this record: it is routed, the partition moves on
        return guarded(
            value, key, judging, pack.ref, ReasonCode.ENGINE_ERROR,
            f"deciding failed: {type(exc).__name__}",
        )  # fmt: skip
    too_large = judgement.outcome is not Outcome.DEAD_LETTER and (
        len(judgement.body) > judging.max_decision_bytes
        or _audit_bound(value, judgement) > judging.max_decision_bytes
    )
    if too_large:
        return guarded(value, key, judging, pack.ref, ReasonCode.DECISION_TOO_LARGE)
    return judgement


def link(
    judgement: Judgement,
    raw: bytes | None,
    source: SourceRef,
    topology: Topology,
    worker_id: str,
    decided_at: datetime,
    chain: ChainHead = GENESIS,
    event_time: datetime | None = None,
    course_context: bytes | None = None,
    traceparent: str | None = None,
    original: bytes | None = None,
    claim_index: int | None = None,
    awaiting_mar: bool = False,
    supersedes: str | None = None,
) -> Decision:
    """The decision's records: its body on the topic its outcome routes to, and its audit
    event linked to ``chain``, the head of the input partition's audit chain.
    ``course_context``: the course state the claim was decided against (``worker.course_judge``).
    ``traceparent``: the W3C trace context the decision record carries (``worker.record_headers``);
    headers never change a record's value, so the audit event is the same with or without.
    ``original``: the claim as it came when it came as X12 or FHIR (``worker.ingest_judge``),
    kept beside the v1 JSON decided (``raw``). ``claim_index``: the claim's place (from 1) in a
    record holding several (an X12 interchange): its event id is ``<origin>#claim:<n>``, so
    each claim's event has its own. ``awaiting_mar``: decided without (all of) its MAR;
    ``supersedes``: the event id of the decision this one replaces (``worker.patient_judge``)."""
    j = judgement
    value = raw or b""
    out = topology.route(j.outcome)
    origin = f"{source.topic}:{source.partition}:{source.offset}"
    event_id = origin if claim_index is None else f"{origin}#claim:{claim_index}"
    headers: Headers
    if j.outcome is Outcome.DEAD_LETTER:
        headers = record_headers.dead_letter(
            j.reasons[0].value, j.detail, source.topic, source.partition, source.offset,
            worker_id, ENGINE_VERSION, traceparent,
        )  # fmt: skip
    else:
        headers = record_headers.decision(j.outcome, j.payer, j.rule_ids, j.severity, traceparent)
    # Every part is computed here or was validated where it came from (the claim's id, the
    # pack, settings, the record's coordinates): built without validating again, as the
    # engine's lines are; tests/golden proves the bytes.
    if decided_at.tzinfo is None or (event_time is not None and event_time.tzinfo is None):
        raise ValueError("an audit event's times must carry their UTC offset")
    audit = AuditEvent.trusted(
        seq=chain.seq,
        prev_hash=chain.prev_hash,
        event_id=event_id,
        claim_id=j.claim_id,
        claim_version=j.claim_version,
        source=source,
        input_sha256=sha256_hex(value),
        input_b64=base64.b64encode(value).decode() if j.input_kept else None,
        outcome=j.outcome,
        output_topic=out.name,
        output_sha256=sha256_hex(j.body),
        reasons=j.reasons,
        rule_ids=j.rule_ids,
        rule_pack=j.pack_ref,
        engine_version=ENGINE_VERSION,
        worker_id=worker_id,
        event_time=event_time,
        decided_at=decided_at,
        course_context_b64=None
        if course_context is None
        else base64.b64encode(course_context).decode(),
        source_b64=None if original is None else base64.b64encode(original).decode(),
        awaiting_mar=True if awaiting_mar else None,
        supersedes=supersedes,
    )
    audit_key = _out_key(j.claim_id, j.key) if j.outcome is Outcome.DEAD_LETTER else j.key
    audit_bytes = audit.model_dump_json().encode()
    return Decision(
        outcome=j.outcome,
        claim_id=j.claim_id,
        reasons=j.reasons,
        decision=out.record(j.key, j.body, source.partition, headers),
        audit=topology.audit.record(audit_key, audit_bytes, source.partition),
        chain_after=chain.after(audit_bytes),
    )


def decide(
    raw: bytes | None,
    key: bytes | None,
    source: SourceRef,
    ctx: DecisionContext,
    decided_at: datetime,
    chain: ChainHead = GENESIS,
    event_time: datetime | None = None,
) -> Decision:
    """Route one input record: scrubbed, needs-review or dead-letter, plus its audit event,
    linked to ``chain``, the head of the input partition's audit chain."""
    judgement = judge(raw, key, ctx.judging)
    return link(judgement, raw, source, ctx.topology, ctx.worker_id, decided_at, chain, event_time)
