"""From one input record to the records that decide it. Pure: no Kafka, no clock.

The transactional loop (``worker.processor``) feeds records in and writes what
comes out; batch mode and replay call the same function, so all three decide alike.
Where each record goes comes from the topology.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from rules import ENGINE_VERSION, Assessment, assess
from rules.pack import RulePack, current_pack
from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.base import Identifier
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
from worker.audit.chain import GENESIS, ChainHead, sha256_hex
from worker.topology import Headers, OutRecord, Topology

_identifier: TypeAdapter[str] = TypeAdapter(Identifier)


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
class DecisionContext:
    topology: Topology
    worker_id: str
    max_claim_bytes: int
    pack: RulePack | None = None  # None: the pack shipped with the engine


def _claim_id_of(raw: bytes) -> tuple[str | None, int | None]:
    """Best-effort claim id and version of a schema-invalid JSON object, for keying and review."""
    try:
        doc = json.loads(raw)
        claim_id = _identifier.validate_python(doc.get("claim_id"))
    except (ValueError, AttributeError, ValidationError):
        return None, None
    version = doc.get("claim_version")
    return claim_id, version if isinstance(version, int) and version >= 1 else None


def _rejection(raw: bytes) -> tuple[ReasonCode, str] | None:
    """Why the bytes cannot even be read as a JSON object, or None if they can."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return ReasonCode.NOT_UTF8_JSON, "the message is not UTF-8 JSON"
    if not isinstance(doc, dict):
        return ReasonCode.NOT_AN_OBJECT, "the message is JSON but not an object"
    return None


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


def _judge(value: bytes, max_claim_bytes: int, pack: RulePack) -> _Verdict:
    if len(value) > max_claim_bytes:
        too_big = f"message of {len(value)} bytes exceeds the limit of {max_claim_bytes}"
        return _Verdict(
            Outcome.DEAD_LETTER, (ReviewReason(code=ReasonCode.OVERSIZED, message=too_big),)
        )
    try:
        claim = SubmittedClaim.model_validate_json(value)
    except ValidationError as exc:
        rejected = _rejection(value)
        if rejected is not None:
            return _Verdict(
                Outcome.DEAD_LETTER, (ReviewReason(code=rejected[0], message=rejected[1]),)
            )
        claim_id, claim_version = _claim_id_of(value)
        return _Verdict(Outcome.NEEDS_REVIEW, review_reasons(exc), claim_id, claim_version)
    try:
        assessment = assess(claim, pack)
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


def _decision_body(
    verdict: _Verdict, value: bytes, input_b64: str | None, pack_ref: RulePackRef
) -> bytes:
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
    return (
        ReviewRequest(
            claim_id=verdict.claim_id,
            claim_version=verdict.claim_version,
            reasons=verdict.reasons,
            claim=verdict.claim,
            original_b64=None if verdict.claim is not None else input_b64,
            computed_lines=assessment.computed_lines if assessment else (),
            findings=assessment.findings if assessment else (),
            corrections=assessment.corrections if assessment else (),
            rule_pack=pack_ref,
            engine_version=ENGINE_VERSION,
        )
        .model_dump_json()
        .encode()
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
    value = raw or b""
    pack = ctx.pack or current_pack()
    verdict = _judge(value, ctx.max_claim_bytes, pack)
    # An oversized input stays whole in the dead-letter record; the audit keeps its digest.
    oversized = ReasonCode.OVERSIZED in (r.code for r in verdict.reasons)
    input_b64 = None if oversized else base64.b64encode(value).decode()
    body = _decision_body(verdict, value, input_b64, pack.ref)
    out = ctx.topology.route(verdict.outcome)
    origin = f"{source.topic}:{source.partition}:{source.offset}"
    headers: Headers = ()
    if verdict.outcome is Outcome.DEAD_LETTER:
        headers = (
            ("x-reason", verdict.reasons[0].code.value.encode()),
            ("x-reason-detail", verdict.reasons[0].message.encode()),
            ("x-source", origin.encode()),
            ("x-engine-version", ENGINE_VERSION.encode()),
        )
    findings = verdict.assessment.findings if verdict.assessment else ()
    reason_codes = tuple(r.code for r in verdict.reasons)
    audit = AuditEvent(
        seq=chain.seq,
        prev_hash=chain.prev_hash,
        event_id=origin,
        claim_id=verdict.claim_id,
        claim_version=verdict.claim_version,
        source=source,
        input_sha256=sha256_hex(value),
        input_b64=input_b64,
        outcome=verdict.outcome,
        output_topic=out.name,
        output_sha256=sha256_hex(body),
        reasons=reason_codes,
        rule_ids=tuple(sorted({f.rule_id for f in findings})),
        rule_pack=pack.ref,
        engine_version=ENGINE_VERSION,
        worker_id=ctx.worker_id,
        event_time=event_time,
        decided_at=decided_at,
    )
    out_key = verdict.claim_id.encode() if verdict.claim_id is not None else key
    audit_bytes = audit.model_dump_json().encode()
    return Decision(
        outcome=verdict.outcome,
        claim_id=verdict.claim_id,
        reasons=reason_codes,
        decision=out.record(out_key, body, source.partition, headers),
        audit=ctx.topology.audit.record(out_key, audit_bytes, source.partition),
        chain_after=chain.after(audit_bytes),
    )
