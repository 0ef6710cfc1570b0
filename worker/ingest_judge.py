"""One input record in any of the three forms -> one judgement per claim. Pure; runs in the
pool processes like ``worker.decide.judge``, and never raises either.

* JSON v1: ``judge`` as it is, same bytes, same decision;
* X12: each claim of the interchange, in order. A readable claim is decided from its v1
  JSON; its decision also carries, when scrubbed, the corrected 837 (``corrected_x12``) and,
  when sent to review with findings, where each finding points in the 837
  (``x12_locations``). A claim that cannot be read goes to review alone
  (``x12_claim_invalid``, located reasons, its one-claim interchange as ``original_b64``);
* FHIR: the claim Bundle's one claim, its MAR inside, decided from its v1 JSON;
* a record that cannot be read at all (envelope or syntax of an interchange, an invalid
  Bundle, an unknown form, no patient key): one dead letter, the record as its body.

Replay (``worker.audit.replay``) decides an event again with ``judge_claim`` from what the
event kept: the v1 JSON and the claim as it came.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rules.pack import current_pack
from schemas.audit import Outcome
from schemas.decision import (
    Finding,
    ReasonCode,
    ReviewReason,
    ReviewRequest,
    ScrubbedClaim,
    X12Location,
)
from worker import limits
from worker.decide import (
    AssessFn,
    Judging,
    dead_letter,
    guarded,
    judge,
    review_of_unreadable,
)
from worker.ingest.reasons import LocatedReason
from worker.ingest.record import (
    ClaimInput,
    IngestOptions,
    RecordFailure,
    claims_of_record,
    one_claim_source,
    x12_claim_input,
)
from worker.ingest.sniff import InputFormat, sniff
from worker.judgement import Judgement

if TYPE_CHECKING:  # the X12 models load on the first 837, not at import (a worker of JSON
    # claims starts without them)
    from worker.ingest.x12_out import OutEnvelope
    from worker.ingest.x12_split import ClaimSource

__all__ = ["ClaimJudgement", "judge_claim", "judge_record", "original_input"]

_EPOCH = datetime(2000, 1, 1)
# Replay re-reads an unreadable claim to get its reasons again; the patient reference is
# never part of a reason, so any key of the right length reads it alike.
_REPLAY_KEY = b"replay: no patient reference is made or kept here"


@dataclass(frozen=True, slots=True)
class ClaimJudgement:
    judgement: Judgement
    decided: bytes  # what the audit event keeps as input_b64 (v1 JSON, or the raw record)
    original: bytes | None  # kept in the audit event as source_b64 (None for JSON v1)


def _detail(reasons: tuple[LocatedReason, ...]) -> str:
    return "; ".join(f"{r.location}: {r.message}" for r in reasons[:3])


def out_envelope(original: bytes, source: ClaimSource) -> OutEnvelope:
    """The corrected 837's envelope, from its input alone (never a clock): the control number
    a digest of the one-claim interchange (one per claim, stable on replay), the creation
    time that of the interchange received (ISA09/10)."""
    from worker.ingest.x12_out import OutEnvelope

    digest = int.from_bytes(hashlib.sha256(original).digest()[:8], "big")
    try:
        created = datetime.strptime(source.isa.get(9) + source.isa.get(10), "%y%m%d%H%M")
    except ValueError:
        created = _EPOCH
    return OutEnvelope(control_number=digest % 999_999_999 + 1, created=created)


def _with_x12(j: Judgement, original: bytes) -> Judgement:
    """A decision of an 837 claim with the corrected 837 or where its findings point."""
    from worker.ingest.x12_out import X12WriteError, corrected_837

    source = one_claim_source(original)
    if j.outcome is Outcome.SCRUBBED:
        scrubbed = ScrubbedClaim.model_validate_json(j.body)
        try:
            text = corrected_837(
                source,
                scrubbed.claim,
                scrubbed.computed_lines,
                scrubbed.corrections,
                out_envelope(original, source),
            )
        except X12WriteError as exc:
            reason = ReviewReason(
                code=ReasonCode.X12_CLAIM_INVALID,
                message=f"the corrected 837 cannot be written: {exc}",
                location="loop 2400",
            )
            review = ReviewRequest(
                claim_id=scrubbed.claim_id,
                claim_version=scrubbed.claim_version,
                reasons=(reason,),
                claim=scrubbed.claim,
                computed_lines=scrubbed.computed_lines,
                findings=scrubbed.findings,
                corrections=scrubbed.corrections,
                rule_pack=scrubbed.rule_pack,
                engine_version=scrubbed.engine_version,
                x12_locations=_locations(source, scrubbed.findings),
            )
            return dataclasses.replace(
                j,
                outcome=Outcome.NEEDS_REVIEW,
                reasons=(ReasonCode.X12_CLAIM_INVALID,),
                detail=reason.message,
                body=review.model_dump_json().encode(),
            )
        body = scrubbed.model_copy(update={"corrected_x12": text}).model_dump_json().encode()
        return dataclasses.replace(j, body=body)
    if j.outcome is Outcome.NEEDS_REVIEW:
        request = ReviewRequest.model_validate_json(j.body)
        if request.claim is None or not request.findings:
            return j
        located = request.model_copy(update={"x12_locations": _locations(source, request.findings)})
        return dataclasses.replace(j, body=located.model_dump_json().encode())
    return j


def _locations(source: ClaimSource, found: tuple[Finding, ...]) -> tuple[X12Location, ...]:
    from worker.ingest.x12_out import finding_locations

    return tuple(
        X12Location(
            rule_id=f.rule_id,
            loop=where.loop,
            segment=where.segment,
            position=where.position,
            element=where.element,
        )
        for f, where in zip(found, finding_locations(source, found), strict=True)
    )


def _fits(j: Judgement, decided: bytes, original: bytes | None, judging: Judging) -> bool:
    kept = limits.base64_bytes(len(decided)) + (
        limits.base64_bytes(len(original)) if original is not None else 0
    )
    return len(j.body) <= judging.max_decision_bytes and (
        limits.AUDIT_FIXED + kept <= judging.max_decision_bytes
    )


def judge_claim(
    claim: ClaimInput, key: bytes | None, judging: Judging, assess_fn: AssessFn | None = None
) -> ClaimJudgement:
    """One claim of an X12 or FHIR record. Never raises."""
    pack = judging.pack or current_pack()
    decided = claim.decided if claim.decided is not None else claim.original
    try:
        if claim.decided is None:
            reasons = tuple(r.review_reason(ReasonCode.X12_CLAIM_INVALID) for r in claim.reasons)
            if not reasons:
                reasons = (
                    ReviewReason(
                        code=ReasonCode.X12_CLAIM_INVALID,
                        message="the claim cannot be read",
                        location="<claim>",
                    ),
                )
            j = review_of_unreadable(decided, key, pack.ref, claim.claim_id, reasons)
        else:
            j = judge(claim.decided, key, judging, assess_fn)
            if claim.form is InputFormat.X12:
                j = _with_x12(j, claim.original)
    except Exception as exc:  # contained to this claim: it goes to review, the others proceed
        j = guarded(
            decided, key, judging, pack.ref, ReasonCode.ENGINE_ERROR,
            f"deciding failed: {type(exc).__name__}",
        )  # fmt: skip
    if j.outcome is not Outcome.DEAD_LETTER and not _fits(j, decided, claim.original, judging):
        j = guarded(decided, key, judging, pack.ref, ReasonCode.DECISION_TOO_LARGE)
    return ClaimJudgement(j, decided, claim.original)


def judge_record(
    raw: bytes | None,
    key: bytes | None,
    content_type: bytes | str | None,
    judging: Judging,
    options: IngestOptions,
    assess_fn: AssessFn | None = None,
) -> tuple[ClaimJudgement, ...]:
    """Every claim of one record, in order, judged. Never raises."""
    value = raw or b""
    if len(value) > judging.max_claim_bytes:
        # Oversized in any form: judge dead-letters it with the size, unread.
        return (ClaimJudgement(judge(value, key, judging, assess_fn), value, None),)
    try:
        found = claims_of_record(value, content_type, options)
    except Exception as exc:  # a parser bug: the record goes to a person, not lost
        pack = judging.pack or current_pack()
        j = guarded(
            value, key, judging, pack.ref, ReasonCode.ENGINE_ERROR,
            f"reading the record failed: {type(exc).__name__}",
        )  # fmt: skip
        return (ClaimJudgement(j, value, None),)
    if found is None:
        return (ClaimJudgement(judge(value, key, judging, assess_fn), value, None),)
    if isinstance(found, RecordFailure):
        pack = judging.pack or current_pack()
        j = dead_letter(value, key, pack.ref, found.code, _detail(found.reasons))
        return (ClaimJudgement(j, value, None),)
    return tuple(judge_claim(c, key, judging, assess_fn) for c in found)


def original_input(decided: bytes, original: bytes) -> ClaimInput:
    """What replay decides again, from an audit event's ``input_b64`` and ``source_b64``:
    no patient key needed (the v1 JSON decided is kept; an unreadable 837 claim is read
    again only for its reasons)."""
    form = sniff(original)
    if form is InputFormat.X12 and sniff(decided) is InputFormat.X12:
        from worker.ingest.x12 import X12Options

        return x12_claim_input(one_claim_source(original), X12Options(_REPLAY_KEY))
    return ClaimInput(decided, original, (), None, form)
