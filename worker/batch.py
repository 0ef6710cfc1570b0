"""Batch mode: scrub a file of claims without Kafka, with the worker's own decision step.

Input: one JSON claim, a JSON array of claims, or JSON Lines; FHIR claim Bundles the same
way; or an X12 837 interchange (one record holding any number of claims). Each record is
decided with ``worker.ingest_judge.judge_record``, as the worker does. Output: one decision
per claim, one per line (the exact message the worker would publish; a dead-lettered input as
a ``{"dead_letter": ...}`` line) and, optionally, the audit events with the same hash chain
as one audit partition, and the corrected 837s of the scrubbed claims that came as X12. The
chain's head at the end is in the summary, for the checkpoint that seals the audit file
(``worker.audit.seal``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

import jiter

from rules.pack import RulePack
from schemas.audit import AuditEvent, Outcome, SourceRef
from schemas.decision import ScrubbedClaim
from worker.audit.chain import GENESIS, ChainHead
from worker.decide import Decision, DecisionContext, link
from worker.ingest.record import IngestOptions
from worker.ingest_judge import judge_record
from worker.patient_judge import PatientItem, PatientOptions, judge_patient, link_patient
from worker.repartition import SplitItem, split
from worker.repartition import content_type as repartition_content_type
from worker.topology import declare

NO_KEY = IngestOptions(None)  # JSON v1 only: X12 and FHIR records are dead-lettered


def split_inputs(data: bytes) -> Iterator[bytes]:
    """Each claim's bytes: a JSON array's elements, a single JSON value, or JSON Lines."""
    text = data.strip()
    if not text:
        return
    try:
        # jiter: nesting is bounded (200 levels) without Python recursion, so a hostile
        # file falls through to JSON Lines, where each line is decided with a reason.
        whole = jiter.from_json(text)
    except ValueError:
        whole = None
    if isinstance(whole, list):
        for item in whole:
            yield json.dumps(item).encode()
        return
    if whole is not None:
        yield text
        return
    for line in data.splitlines():
        if line.strip():
            yield line.strip()


@dataclass
class Summary:
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    head: ChainHead = GENESIS  # where the audit chain stands after the last claim

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def scrub(
    inputs: Iterable[bytes],
    source_name: str,
    decisions_out: BinaryIO,
    audit_out: BinaryIO | None = None,
    worker_id: str = "batch",
    decided_at: datetime | None = None,
    max_claim_bytes: int = 1_000_000,
    pack: RulePack | None = None,
    options: IngestOptions = NO_KEY,
    content_type: str | None = "application/json",
    x12_out: BinaryIO | None = None,
    courses: bool = False,
) -> Summary:
    """Decide every record of ``inputs``. ``content_type``: the form of every record (as the
    worker's header; None: each record's own is sniffed; JSON v1 by default). ``options``:
    the patient key and payer aliases X12 and FHIR input need. ``x12_out``: receives the
    corrected 837 of each scrubbed claim that came as X12, one interchange after another."""
    ctx = DecisionContext(
        topology=declare(), worker_id=worker_id, max_claim_bytes=max_claim_bytes, pack=pack
    )
    at = decided_at or datetime.now(UTC)
    summary = Summary()
    book = CourseBook(ctx, at, options) if courses else None
    for offset, raw in enumerate(inputs):
        source = SourceRef(topic=source_name, partition=0, offset=offset)
        if book is not None:
            made, summary.head = book.decide(raw, content_type, source, summary.head)
        else:
            made, summary.head = _decided(raw, content_type, source, ctx, at, options, summary.head)
        for d in made:
            if d.outcome is Outcome.DEAD_LETTER:
                headers = {k: v.decode() for k, v in d.decision.headers}
                line = json.dumps({"dead_letter": {
                    "reason": headers["x-reason"], "detail": headers["x-reason-detail"],
                    "source": headers["x-source"], "size_bytes": len(raw),
                }}).encode()  # fmt: skip
            else:
                line = d.decision.value
            decisions_out.write(line + b"\n")
            if audit_out is not None:
                audit_out.write(d.audit.value + b"\n")
            if x12_out is not None and d.outcome is Outcome.SCRUBBED:
                corrected = ScrubbedClaim.model_validate_json(d.decision.value).corrected_x12
                if corrected is not None:
                    x12_out.write(corrected.encode())
            event = AuditEvent.model_validate_json(d.audit.value)
            summary.outcomes[d.outcome.value] += 1
            summary.findings.update(event.rule_ids)
            summary.reasons.update(r.value for r in d.reasons)
    return summary


def _decided(
    raw: bytes,
    content_type: str | None,
    source: SourceRef,
    ctx: DecisionContext,
    at: datetime,
    options: IngestOptions,
    head: ChainHead,
) -> tuple[list[Decision], ChainHead]:
    """A record's decisions, one per claim, chained from ``head``."""
    claims = judge_record(raw, None, content_type, ctx.judging, options)
    several = len(claims) > 1 or claims[0].original is not None
    out = []
    for n, claim in enumerate(claims, start=1):
        d = link(
            claim.judgement, claim.decided, source, ctx.topology, ctx.worker_id, at, head,
            original=claim.original, claim_index=n if several else None,
        )  # fmt: skip
        head = d.chain_after
        out.append(d)
    return out, head


class CourseBook:
    """Batch mode with the course store (``--courses``): the file's records cut per patient
    and decided with each patient's courses, in memory, exactly as the worker decides its
    by-patient records; corrections come in the file's order after their trigger."""

    def __init__(self, ctx: DecisionContext, at: datetime, options: IngestOptions) -> None:
        self.ctx = ctx
        self.at = at
        self.options = PatientOptions(courses=True, mar_join=False, ingest=options)
        self.states: dict[bytes | None, bytes | None] = {}

    def decide(
        self, raw: bytes, content_type: str | None, source: SourceRef, head: ChainHead
    ) -> tuple[list[Decision], ChainHead]:
        origin = f"{source.topic}:{source.partition}:{source.offset}"
        headers = () if content_type is None else (("content-type", content_type.encode()),)
        item = SplitItem(raw, None, headers, origin, is_mar=False)
        pieces = split(self.ctx.topology.by_patient.name, item, self.options.ingest)
        out: list[Decision] = []
        for n, piece in enumerate(pieces):
            # Each piece is its own by-patient record; its decisions keep the file's offset.
            at = source if len(pieces) == 1 else source.model_copy(
                update={"topic": f"{source.topic}#{n + 1}"}
            )  # fmt: skip
            judged = judge_patient(
                PatientItem(
                    raw=piece.value,
                    key=None,
                    content_type=repartition_content_type(piece.headers),
                    is_mar=False,
                    course=self.states.get(piece.key),
                    mar=None,
                    as_of=self.at.date(),
                    origin=f"{at.topic}:{at.partition}:{at.offset}",
                ),
                self.ctx.judging,
                self.options,
            )
            linked = link_patient(judged, at, self.ctx.topology, self.ctx.worker_id, self.at, head)
            head = linked.head
            out += [*linked.decisions, *linked.corrections]
            if judged.course is not None and piece.key is not None:
                self.states[piece.key] = judged.course.state
        return out, head
