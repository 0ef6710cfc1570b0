"""Replay: decide recorded audit events again, to prove a decision or to compare a pack."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from rules.courses import InCourse
from rules.pack import RulePack, current_pack
from schemas.audit import AuditEvent
from schemas.course import CourseCorrection
from schemas.decision import ReasonCode, ReviewRequest, ScrubbedClaim
from worker import limits
from worker.audit.chain import AuditRecord, sha256_hex
from worker.course_judge import correction_body, decode
from worker.decide import Decision, DecisionContext, guarded, judge, link
from worker.ingest_judge import judge_claim, original_input
from worker.patient_judge import assessing, superseding
from worker.topology import DEFAULT_MAX_DECISION_BYTES, Topology, declare

# Reasons whose decision the worker's guards gave, which replay rebuilds from the reason.
_GUARDS = frozenset({ReasonCode.OVER_TIME_BUDGET, ReasonCode.DECIDER_LOST})


class UnreadableEventError(ValueError):
    """A record of the log is not an audit event: the message locates it, never quotes it."""


def _aware(moment: datetime | None) -> datetime | None:
    # Recorded times are aware; a bound without a zone is read as UTC.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _claim_index(event_id: str) -> int | None:
    """The claim's place in its record (``<origin>#claim:<n>``), None for a one-claim record."""
    _, sep, tail = event_id.rpartition("#claim:")
    return int(tail) if sep and tail.isdigit() else None


@dataclass(frozen=True, slots=True)
class Selection:
    claim_ids: frozenset[str] = frozenset()
    since: datetime | None = None  # naive: UTC
    until: datetime | None = None
    min_offset: int | None = None
    max_offset: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", _aware(self.since))
        object.__setattr__(self, "until", _aware(self.until))

    def wants(self, record: AuditRecord, event: AuditEvent) -> bool:
        return (
            (not self.claim_ids or event.claim_id in self.claim_ids)
            and (self.since is None or event.decided_at >= self.since)
            and (self.until is None or event.decided_at <= self.until)
            and (self.min_offset is None or record.offset >= self.min_offset)
            and (self.max_offset is None or record.offset <= self.max_offset)
        )


@dataclass(frozen=True, slots=True)
class Change:
    event_id: str
    claim_id: str | None
    recorded_outcome: str
    new_outcome: str
    codes_before: tuple[str, ...]
    codes_after: tuple[str, ...]
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]


@dataclass
class ReplayReport:
    replayed: int = 0
    identical: int = 0
    not_replayable: Counter[str] = field(default_factory=Counter)
    differing: list[str] = field(default_factory=list)  # event ids whose bytes differ
    changes: list[Change] = field(default_factory=list)  # with another pack


def _codes(body: bytes, topic: str, topology: Topology) -> tuple[str, ...]:
    if topic == topology.scrubbed.name:
        lines = ScrubbedClaim.model_validate_json(body).computed_lines
    elif topic == topology.review.name:
        lines = ReviewRequest.model_validate_json(body).computed_lines
    else:
        return ()
    return tuple(f"{line.code}x{line.units}" for line in lines)


def replay(
    records: Iterable[AuditRecord],
    packs: Sequence[RulePack] = (),
    against: RulePack | None = None,
    selection: Selection = Selection(),
    topology: Topology | None = None,
) -> ReplayReport:
    """Re-decide recorded events.

    Without ``against``: with the pack each event names (the current pack or one of
    ``packs``, matched by version and hash), and prove the decision's bytes are
    identical to what was decided (their SHA-256 is in the event). With ``against``:
    decide with that pack and report what would change. A record that is not an audit
    event raises ``UnreadableEventError``.
    """
    known = {(p.ref.version, p.ref.content_sha256): p for p in (current_pack(), *packs)}
    report = ReplayReport()
    topology = topology or declare()

    def redecide(event: AuditEvent, raw: bytes, pack: RulePack) -> Decision:
        # Events with their input were within the size limit when decided: no limit here.
        ctx = DecisionContext(
            topology=topology,
            worker_id=event.worker_id,
            max_claim_bytes=len(raw) + 1,
            pack=pack,
            max_decision_bytes=max(
                DEFAULT_MAX_DECISION_BYTES, limits.smallest_decision_cap(len(raw) + 1)
            ),
        )
        if len(event.reasons) == 1 and event.reasons[0] in _GUARDS:
            # Decided by the worker's guard (time budget, a lost process), not by the rules:
            # the guard's decision is a function of the input and the reason alone.
            judgement = guarded(raw, None, ctx.judging, pack.ref, event.reasons[0])
            return link(
                judgement, raw, event.source, topology, event.worker_id, event.decided_at,
                event_time=event.event_time,
            )  # fmt: skip
        # Decided within the patient's courses (the state its event kept), without its MAR
        # (MAR-W1), as it came (X12, FHIR: the corrected 837 and finding locations again, no
        # patient key needed), superseding an earlier decision: each as the event says.
        kept = None
        if event.course_context_b64 is not None:
            kept = base64.b64decode(event.course_context_b64)
        seen: list[InCourse] = []
        assess_fn = assessing(decode(kept), kept is not None, bool(event.awaiting_mar), seen)
        original = None
        if event.source_b64 is not None:
            original = base64.b64decode(event.source_b64)
            judged = judge_claim(original_input(raw, original), None, ctx.judging, assess_fn)
            judgement = judged.judgement
        else:
            judgement = judge(raw, None, ctx.judging, assess_fn)
        if seen and seen[-1].state is not None:
            triggers[event.event_id] = (seen[-1].corrections, pack)
        if event.supersedes is not None:
            judgement = superseding(judgement, event.supersedes)
        return link(
            judgement, raw, event.source, topology, event.worker_id, event.decided_at,
            event_time=event.event_time, course_context=kept, original=original,
            claim_index=_claim_index(event.event_id), awaiting_mar=bool(event.awaiting_mar),
            supersedes=event.supersedes,
        )  # fmt: skip

    # The corrections each course decision re-derives, by its event id: a correction event
    # follows its trigger in the same chain and is checked against what replay derived.
    triggers: dict[str, tuple[tuple[CourseCorrection, ...], RulePack]] = {}

    def correction_matches(event: AuditEvent) -> bool | None:
        """None when the trigger was not replayed (outside the selection, say)."""
        derived = triggers.get(event.trigger_event_id or "")
        if derived is None:
            return None
        corrections, pack = derived
        for c in corrections:
            if (c.claim_id, c.claim_version) == (event.claim_id, event.claim_version):
                return sha256_hex(correction_body(c, pack.ref)) == event.output_sha256
        return False

    for record in records:
        try:
            event = AuditEvent.model_validate_json(bytes(record.value))
        except ValidationError:
            where = record.where or f"partition {record.partition} offset {record.offset}"
            raise UnreadableEventError(
                f"{where}: not an audit event ({record.damage or 'it does not parse as one'})"
            ) from None
        if not selection.wants(record, event):
            continue
        if event.trigger_event_id is not None and against is None:
            matches = correction_matches(event)
            if matches is None:
                report.not_replayable["course correction whose trigger was not replayed"] += 1
                continue
            report.replayed += 1
            if matches:
                report.identical += 1
            else:
                report.differing.append(event.event_id)
            continue
        if event.trigger_event_id is not None:
            report.not_replayable["course correction (compared with the pack it was made by)"] += 1
            continue
        if event.input_b64 is None:
            report.not_replayable["input kept only in the dead-letter topic (oversized)"] += 1
            continue
        recorded = known.get((event.rule_pack.version, event.rule_pack.content_sha256))
        if recorded is None and against is None:
            report.not_replayable[f"rule pack {event.rule_pack.version} not available"] += 1
            continue
        raw = base64.b64decode(event.input_b64)
        report.replayed += 1
        if against is None:
            assert recorded is not None
            again = redecide(event, raw, recorded)
            if sha256_hex(again.decision.value) == event.output_sha256:
                report.identical += 1
            else:
                report.differing.append(event.event_id)
            continue
        after = redecide(event, raw, against)
        after_event = AuditEvent.model_validate_json(after.audit.value)
        codes_after = _codes(after.decision.value, after.decision.topic, topology)
        codes_before = codes_after
        if recorded is not None:
            before = redecide(event, raw, recorded)
            codes_before = _codes(before.decision.value, before.decision.topic, topology)
        if (after_event.outcome, after_event.rule_ids, codes_after) != (
            event.outcome,
            event.rule_ids,
            codes_before,
        ):
            report.changes.append(
                Change(
                    event_id=event.event_id,
                    claim_id=event.claim_id,
                    recorded_outcome=event.outcome.value,
                    new_outcome=after_event.outcome.value,
                    codes_before=codes_before,
                    codes_after=codes_after,
                    rules_before=event.rule_ids,
                    rules_after=after_event.rule_ids,
                )
            )
        else:
            report.identical += 1
    return report
