"""Each patient's MAR beside their 837 claims: the state the worker keeps, pure (issue 14).

The worker keeps one ``MarState`` per patient (``schemas.mar``) in a compacted changelog
store and calls these functions in its pool processes, in the order the patient's records
arrive on their by-patient partition:

    joined = join_or_wait(claim, state)             # a claim: decide joined.claim
    if joined.waited:                               # ... with MAR-W1 (rules.checks.mar)
        state = awaiting(joined.state, ref, claim_json, claim, event_id, today)
    released = add_mar(state, read_mar_record(value))  # a MAR record
    for kept, claim in released.claims: ...         # a correction decision for each
    state = expire(state, today, keep_days)

A claim waits for the MAR of each date its drug lines fall on (``dates_without_mar``): what
the state has for some of them is joined meanwhile, and the claim is released only once
every one of them has MAR, so that its correction is decided from the whole MAR at once.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import ValidationError

from rules.checks.mar import dates_without_mar, drug_lines
from rules.pack import RulePack
from schemas.claim import Administration, Encounter, SubmittedClaim
from schemas.mar import AwaitingClaim, MarEntries, MarRecord, MarState
from worker.ingest.mar_join import join_mar
from worker.ingest.patient_mar import PatientMar
from worker.ingest.reasons import IngestError, own_message, validation_reasons

__all__ = [
    "Joined",
    "MarRecordError",
    "Released",
    "add_mar",
    "awaiting",
    "expire",
    "join_or_wait",
    "mar_record",
    "read_mar_record",
    "wants_mar",
]


class MarRecordError(IngestError):
    """A by-patient MAR record that cannot be read: located reasons, never values."""


@dataclass(frozen=True, slots=True)
class Joined:
    """A claim as it is to be decided. ``waited``: some of its drug dates have no MAR yet
    (decide it with MAR-W1 and record it with ``awaiting``). ``state``: the patient's state
    after it (an earlier version's awaiting entry is dropped once a newer one is joined)."""

    claim: SubmittedClaim
    state: MarState | None
    waited: bool


@dataclass(frozen=True, slots=True)
class Released:
    """The state after a MAR record, and each awaiting claim the record completed, with the
    claim joined to the MAR for its correction decision."""

    state: MarState
    claims: tuple[tuple[AwaitingClaim, SubmittedClaim], ...]


def mar_record(mar: PatientMar) -> bytes:
    """A ``PatientMar`` as the by-patient record's value (JSON, keyed by its patient_ref)."""
    record = MarRecord(
        patient_ref=mar.patient_ref,
        administrations=mar.administrations,
        encounters=mar.encounters,
    )
    return record.model_dump_json(exclude_none=True).encode()


def read_mar_record(value: bytes) -> PatientMar:
    """The ``PatientMar`` a by-patient record holds. Raises ``MarRecordError``."""
    try:
        record = MarRecord.model_validate_json(value)
    except ValidationError as exc:
        reasons = validation_reasons(exc, _located, own_message)
        raise MarRecordError("the MAR record is not valid", reasons) from None
    return PatientMar(record.patient_ref, record.administrations, record.encounters)


def _located(loc: tuple[int | str, ...]) -> str:
    out = "mar"
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def wants_mar(claim: SubmittedClaim, pack: RulePack | None = None) -> bool:
    """The MAR matters: the claim has drug-administration or drug lines and no
    administrations of its own (an 837's claim). A claim that brings its MAR is decided on it."""
    return not claim.administrations and bool(drug_lines(claim, pack))


def _patient_mar(state: MarState) -> PatientMar:
    e = state.entries
    return PatientMar(state.patient_ref, e.administrations, e.encounters)


def _without(state: MarState | None, claim: SubmittedClaim) -> MarState | None:
    """``state`` without the claim's awaiting entry of this version or an older one."""
    if state is None:
        return None
    kept = tuple(
        c
        for c in state.awaiting
        if c.claim_id != claim.claim_id or c.claim_version > claim.claim_version
    )
    return state if kept == state.awaiting else state.model_copy(update={"awaiting": kept})


def _same_patient(state: MarState | None, patient_ref: str) -> None:
    # The key is the patient: another patient's record here is the caller's mistake.
    if state is not None and state.patient_ref != patient_ref:
        raise ValueError("the record's patient is not the state's")


def join_or_wait(
    claim: SubmittedClaim, state: MarState | None, pack: RulePack | None = None
) -> Joined:
    """The claim joined to the patient's MAR on its dates. ``waited``: a date of its drug
    lines has no MAR (none at all: the claim is as it came). A claim that does not want the
    MAR is as it came, not waiting."""
    _same_patient(state, claim.patient_ref)
    if not wants_mar(claim, pack):
        return Joined(claim, _without(state, claim), waited=False)
    joined = claim if state is None else join_mar(claim, [_patient_mar(state)])
    if dates_without_mar(joined, pack):
        return Joined(joined, state, waited=True)
    return Joined(joined, _without(state, claim), waited=False)


def awaiting(
    state: MarState | None,
    patient_ref: str,
    claim_json: bytes,
    claim: SubmittedClaim,
    event_id: str,
    decided_on: date,
    original: bytes | None = None,
) -> MarState:
    """``state`` with the claim recorded as decided without (all of) its MAR. A new version
    of the same claim replaces its earlier entry; an older version leaves a newer one."""
    _same_patient(state, patient_ref)
    if claim.patient_ref != patient_ref:
        raise ValueError("the claim's patient is not the record's")
    base = state or MarState(patient_ref=patient_ref)
    earlier = next((c for c in base.awaiting if c.claim_id == claim.claim_id), None)
    if earlier is not None and earlier.claim_version > claim.claim_version:
        return base
    entry = AwaitingClaim(
        claim_id=claim.claim_id,
        claim_version=claim.claim_version,
        statement_from=claim.statement_from,
        statement_to=claim.statement_to,
        decided_at=decided_on,
        claim_json=claim_json.decode(),
        event_id=event_id,
        original_b64=None if original is None else base64.b64encode(original).decode(),
    )
    others = tuple(c for c in base.awaiting if c.claim_id != claim.claim_id)
    return base.model_copy(update={"awaiting": (*others, entry)})


def _merged(entries: MarEntries, mar: PatientMar) -> MarEntries:
    admins: dict[str, Administration] = {a.admin_id: a for a in entries.administrations}
    visits: dict[str, Encounter] = {e.encounter_id: e for e in entries.encounters}
    admins.update((a.admin_id, a) for a in mar.administrations)
    visits.update((e.encounter_id, e) for e in mar.encounters)
    return MarEntries(administrations=tuple(admins.values()), encounters=tuple(visits.values()))


def add_mar(state: MarState | None, mar: PatientMar, pack: RulePack | None = None) -> Released:
    """The MAR merged into the patient's entries (an entry sent again, same ``admin_id``,
    replaces the earlier one), and every awaiting claim whose drug dates all have MAR now
    released: removed from the state, returned joined for its correction decision."""
    _same_patient(state, mar.patient_ref)
    base = state or MarState(patient_ref=mar.patient_ref)
    after = base.model_copy(update={"entries": _merged(base.entries, mar)})
    mine = _patient_mar(after)
    released: list[tuple[AwaitingClaim, SubmittedClaim]] = []
    still: list[AwaitingClaim] = []
    for kept in after.awaiting:
        joined = join_mar(SubmittedClaim.model_validate_json(kept.claim_json), [mine])
        if dates_without_mar(joined, pack):
            still.append(kept)
        else:
            released.append((kept, joined))
    return Released(after.model_copy(update={"awaiting": tuple(still)}), tuple(released))


def expire(state: MarState, as_of: date, keep_days: int) -> MarState | None:
    """``state`` without administrations given, and awaiting claims decided, more than
    ``keep_days`` before ``as_of`` (visits go with their last administration); None when
    nothing is left (delete the patient's entry)."""
    cutoff = as_of - timedelta(days=keep_days)
    admins = tuple(a for a in state.entries.administrations if a.start.date() >= cutoff)
    used = {a.encounter_id for a in admins}
    visits = tuple(e for e in state.entries.encounters if e.encounter_id in used)
    waiting = tuple(c for c in state.awaiting if c.decided_at >= cutoff)
    if not admins and not waiting:
        return None
    kept = MarState(
        patient_ref=state.patient_ref,
        entries=MarEntries(administrations=admins, encounters=visits),
        awaiting=waiting,
    )
    return state if kept == state else kept
