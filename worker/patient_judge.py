"""Deciding a by-patient record with the patient's state: courses and the MAR. Pure; runs in
the pool processes.

With the course store or the MAR join on, every record of a patient reaches one partition,
in order (``worker.repartition``): claims in any form (JSON v1, a one-claim 837, a FHIR claim
Bundle) and the patient's MAR (a ``schemas.mar.MarRecord`` cut from a MAR Bundle). The
processor hands each record over with the patient's two store values and takes back:

* a claim record: its decisions (``worker.ingest_judge``), each judged against the
  patient's courses (``worker.course_judge``) and joined to the patient's MAR
  (``worker.ingest.mar_state``). A claim whose drug dates have no MAR yet is decided without
  it (finding MAR-W1) and kept awaiting it;
* a MAR record: the MAR kept, and a correction for each awaiting claim it completes: the
  claim decided again with its MAR, superseding its earlier decision.

The audit event of each decision keeps what replay needs to decide it again exactly: the
course state, whether it awaited its MAR, the decision it supersedes.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import ValidationError

from rules import Assessment, assess
from rules.checks.mar import without_mar
from rules.courses import InCourse, assess_in_course
from rules.courses import expire as expire_courses
from rules.pack import RulePack, current_pack
from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.claim import SubmittedClaim
from schemas.course import PatientCourses
from schemas.decision import ReasonCode, ReviewRequest, ScrubbedClaim
from schemas.mar import MarState
from worker.audit.chain import ChainHead
from worker.course_judge import CourseOutcome, decode, link_correction
from worker.decide import AssessFn, Decision, Judging, dead_letter, judge, link
from worker.ingest.mar_state import (
    add_mar,
    awaiting,
    join_or_wait,
    read_mar_record,
)
from worker.ingest.mar_state import expire as expire_mar
from worker.ingest.reasons import IngestError
from worker.ingest.record import ClaimInput, IngestOptions, RecordFailure, claims_of_record
from worker.ingest.sniff import InputFormat
from worker.ingest_judge import ClaimJudgement, judge_claim, judge_record
from worker.judgement import Judgement
from worker.topology import Topology


@dataclass(frozen=True, slots=True)
class PatientOptions:
    """What the pool processes need besides the rule pack (pickles)."""

    courses: bool
    mar_join: bool
    course_retention_days: int = 400
    mar_keep_days: int = 60
    ingest: IngestOptions = dataclasses.field(default_factory=lambda: IngestOptions(None))


@dataclass(frozen=True, slots=True)
class PatientItem:
    raw: bytes | None
    key: bytes | None  # the key its decisions take (the submitted record's)
    content_type: bytes | None
    is_mar: bool
    course: bytes | None  # the course store's value for the patient
    mar: bytes | None  # the MAR store's value for the patient
    as_of: date  # the day it is decided
    origin: str  # the record's topic:partition:offset (its decisions' event ids start so)


@dataclass(frozen=True, slots=True)
class Correction:
    """A claim decided again with its MAR, superseding the decision ``supersedes``."""

    judged: ClaimJudgement
    supersedes: str


@dataclass(frozen=True, slots=True)
class PatientJudged:
    claims: tuple[ClaimJudgement, ...]  # the record's own decisions (none for a MAR record)
    awaiting_mar: tuple[bool, ...]  # per claim: decided without (all of) its MAR
    course: CourseOutcome | None
    mar_changed: bool
    mar_state: bytes | None  # the MAR store's new value (None: delete) when changed
    corrections: tuple[Correction, ...]


def claim_index(n: int, count: int, as_it_came: bool) -> int | None:
    """The place (from 1) a claim's event id names: the claims of a record holding several,
    or that came as X12/FHIR (``as_it_came``), have one; a JSON claim is its record."""
    return n + 1 if count > 1 or as_it_came else None


def event_id(origin: str, index: int | None) -> str:
    return origin if index is None else f"{origin}#claim:{index}"


def superseding(j: Judgement, supersedes: str) -> Judgement:
    """The judgement with its body saying which decision it replaces."""
    model: type[ScrubbedClaim] | type[ReviewRequest]
    model = ScrubbedClaim if j.outcome is Outcome.SCRUBBED else ReviewRequest
    body = model.model_validate_json(j.body).model_copy(update={"supersedes": supersedes})
    return dataclasses.replace(j, body=body.model_dump_json().encode())


def assessing(
    state: PatientCourses | None, courses: bool, waited: bool, seen: list[InCourse]
) -> AssessFn:
    """The engine, then the claim's courses (when kept), then MAR-W1 (when it waited)."""

    def fn(claim: SubmittedClaim, pack: RulePack) -> Assessment:
        assessment = assess(claim, pack)
        if courses:
            result = assess_in_course(claim, assessment, pack, state)
            seen.append(result)
            assessment = result.assessment
        if waited:
            assessment = without_mar(assessment, claim, pack)
        return assessment

    return fn


def _mar_state(value: bytes | None) -> MarState | None:
    return MarState.model_validate_json(value) if value else None


def _encoded(state: MarState | None) -> bytes | None:
    return None if state is None else state.model_dump_json().encode()


def judge_patient(item: PatientItem, judging: Judging, options: PatientOptions) -> PatientJudged:
    """Decide one by-patient record. Never raises for bad input: a record the rules cannot
    read is decided like any other (review or dead letter), the state left as it was."""
    pack = judging.pack or current_pack()
    mar_before = _mar_state(item.mar)
    mar = mar_before
    if mar is not None:
        mar = expire_mar(mar, item.as_of, options.mar_keep_days)
    if item.is_mar:
        return _mar_record(item, judging, pack, mar, mar != mar_before)
    course_context = item.course
    state = decode(course_context)
    if state is not None:
        kept = expire_courses(state, item.as_of, options.course_retention_days)
        if kept != state:
            state = kept
            course_context = None if kept is None else kept.model_dump_json().encode()
    raw = item.raw or b""
    try:
        found = None if len(raw) > judging.max_claim_bytes else (
            claims_of_record(raw, item.content_type, options.ingest)
        )  # fmt: skip
    except Exception:  # a parser bug: judge_record contains it and says so
        found = RecordFailure(ReasonCode.ENGINE_ERROR, ())
    if isinstance(found, RecordFailure):
        judged = judge_record(item.raw, item.key, item.content_type, judging, options.ingest)
        changed = mar != mar_before
        return PatientJudged(judged, (False,) * len(judged), None, changed, _encoded(mar), ())
    inputs = found or (ClaimInput(item.raw, b"", (), None, InputFormat.JSON_V1),)
    out: list[ClaimJudgement] = []
    waits: list[bool] = []
    course: CourseOutcome | None = None
    for n, ci in enumerate(inputs):
        claim = _claim(ci.decided)
        decided, waited = ci.decided, False
        if claim is not None and options.mar_join:
            joined = join_or_wait(claim, mar, pack)
            mar, waited = joined.state, joined.waited
            if joined.claim is not claim:
                decided = joined.claim.model_dump_json().encode()
        seen: list[InCourse] = []
        assess_fn = assessing(state, options.courses, waited, seen)
        if ci.form is InputFormat.JSON_V1:
            j = judge(decided, item.key, judging, assess_fn)
            cj = ClaimJudgement(j, decided or b"", None)
        else:
            cj = judge_claim(dataclasses.replace(ci, decided=decided), item.key, judging, assess_fn)
        ruled = not set(cj.judgement.reasons) - {ReasonCode.FINDING}
        if seen and seen[-1].state is not None and ruled:
            state = seen[-1].state
            course = CourseOutcome(
                context=course_context or b"",
                state=state.model_dump_json().encode(),
                corrections=seen[-1].corrections,
            )
            course_context = course.state
        waited = waited and ruled
        if waited and claim is not None and ci.decided is not None:
            index = claim_index(n, len(inputs), ci.form is not InputFormat.JSON_V1)
            mar = awaiting(
                mar, claim.patient_ref, ci.decided, claim, event_id(item.origin, index),
                item.as_of, None if ci.form is InputFormat.JSON_V1 else ci.original,
            )  # fmt: skip
        out.append(cj)
        waits.append(waited)
    if course is None and course_context != item.course:
        # Expiry alone changed the patient's courses.
        course = CourseOutcome(course_context, course_context, ())
    return PatientJudged(tuple(out), tuple(waits), course, mar != mar_before, _encoded(mar), ())


def _claim(decided: bytes | None) -> SubmittedClaim | None:
    if decided is None:
        return None
    try:
        return SubmittedClaim.model_validate_json(decided)
    except (ValidationError, ValueError):
        return None  # judge reviews it with its located reasons


def _mar_record(
    item: PatientItem, judging: Judging, pack: RulePack, mar: MarState | None, expired: bool
) -> PatientJudged:
    raw = item.raw or b""
    try:
        record = read_mar_record(raw)
        released = add_mar(mar, record, pack)
    except (IngestError, ValueError) as exc:
        detail = str(exc) if isinstance(exc, IngestError) else "the MAR names another patient"
        j = dead_letter(raw, item.key, pack.ref, ReasonCode.FHIR_INVALID, detail[:200])
        return PatientJudged(
            (ClaimJudgement(j, raw, None),), (False,), None, expired, _encoded(mar), ()
        )
    corrections = []
    for waited, joined in released.claims:
        decided = joined.model_dump_json().encode()
        key = waited.claim_id.encode()
        if waited.original_b64 is None:
            cj = ClaimJudgement(judge(decided, key, judging), decided, None)
        else:
            original = base64.b64decode(waited.original_b64)
            ci = ClaimInput(decided, original, (), waited.claim_id, InputFormat.X12)
            cj = judge_claim(ci, key, judging)
        if cj.judgement.outcome is not Outcome.DEAD_LETTER:
            cj = dataclasses.replace(cj, judgement=superseding(cj.judgement, waited.event_id))
        corrections.append(Correction(cj, waited.event_id))
    return PatientJudged((), (), None, True, _encoded(released.state), tuple(corrections))


@dataclass(frozen=True, slots=True)
class Linked:
    """A by-patient record's decisions, linked into the audit chain in order: the record's own
    (one per claim), then course corrections, then MAR corrections."""

    decisions: tuple[Decision, ...]
    corrections: tuple[Decision, ...]
    head: ChainHead


def link_patient(
    judged: PatientJudged,
    source: SourceRef,
    topology: Topology,
    worker_id: str,
    decided_at: datetime,
    head: ChainHead,
    published: datetime | None = None,
    traceparent: str | None = None,
) -> Linked:
    """The records of one judged record, chained from ``head`` (the worker and batch mode)."""
    course = judged.course
    context = None if course is None else course.context or b""
    decisions: list[Decision] = []
    corrections: list[Decision] = []
    count = len(judged.claims)
    for n, (claim, waited) in enumerate(zip(judged.claims, judged.awaiting_mar, strict=True)):
        made = link(
            claim.judgement, claim.decided, source, topology, worker_id, decided_at, head,
            published, context, traceparent, claim.original,
            claim_index(n, count, claim.original is not None), waited,
        )  # fmt: skip
        head = made.chain_after
        decisions.append(made)
    if course is not None and course.corrections and decisions:
        trigger = AuditEvent.model_validate_json(decisions[-1].audit.value)
        for c in course.corrections:
            made = link_correction(c, trigger, topology, worker_id, decided_at, head)
            head = made.chain_after
            corrections.append(made)
    for n, fix in enumerate(judged.corrections):
        cj = fix.judged
        made = link(
            cj.judgement, cj.decided, source, topology, worker_id, decided_at, head, published,
            None, traceparent, cj.original, n + 1, supersedes=fix.supersedes,
        )  # fmt: skip
        head = made.chain_after
        corrections.append(made)
    return Linked(tuple(decisions), tuple(corrections), head)
