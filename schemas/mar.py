"""A patient's MAR as the worker keeps it beside their 837 claims (issue 14).

A platform that sends 837s publishes the MAR separately (FHIR R4 MedicationAdministration
Bundles on ``mar.submitted``). Each Bundle is cut into one ``MarRecord`` per patient, which
travels on the by-patient topic among that patient's claims. The worker keeps one
``MarState`` per patient in a compacted changelog store: the MAR entries of recent days and
the claims decided before their MAR arrived (``AwaitingClaim``), which a MAR record later
releases for a correction decision.

No count bounds on these tuples: a record is bounded by the topic's largest message and the
state by the days it keeps (``worker.ingest.mar_state.expire``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.base import SCHEMA_VERSION, ClaimVersion, Identifier, PlausibleDate, WireModel
from schemas.claim import Administration, Encounter

# "<topic>:<partition>:<offset>" of the record a decision was made for (schemas.audit).
EventId = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class MarEntries(WireModel):
    """One patient's MAR entries as kept: each administration once (by ``admin_id``) and
    the visits they name."""

    administrations: tuple[Administration, ...] = ()
    encounters: tuple[Encounter, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if len({a.admin_id for a in self.administrations}) != len(self.administrations):
            raise ValueError("administration ids repeat")
        if len({e.encounter_id for e in self.encounters}) != len(self.encounters):
            raise ValueError("encounter ids repeat")
        return self


class MarRecord(WireModel):
    """One patient's MAR cut from a MAR Bundle: the by-patient record's value. ``kind``
    tells it from a claim on the same topic; ``patient_ref`` is its key, as a claim's."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    kind: Literal["mar"] = "mar"
    patient_ref: Identifier
    administrations: tuple[Administration, ...] = ()
    encounters: tuple[Encounter, ...] = ()


class AwaitingClaim(WireModel):
    """A claim decided without its MAR, kept until the MAR for its dates arrives (then a
    correction decision is made from ``claim_json``) or it expires."""

    claim_id: Identifier
    claim_version: ClaimVersion
    statement_from: PlausibleDate
    statement_to: PlausibleDate
    decided_at: PlausibleDate
    claim_json: str  # the v1 claim JSON it was decided from, as read (before any join)
    event_id: EventId  # the audit event of that decision: the correction's trigger points here
    # The claim as it came when it came as X12 (a one-claim 837, base64): its correction
    # carries the corrected 837 too. Absent for a JSON claim.
    original_b64: str | None = Field(default=None, exclude_if=lambda v: v is None)


class MarState(WireModel):
    """The store's value for one patient."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    patient_ref: Identifier
    entries: MarEntries = MarEntries()
    awaiting: tuple[AwaitingClaim, ...] = ()

    @model_validator(mode="after")
    def _one_entry_per_claim(self) -> Self:
        if len({c.claim_id for c in self.awaiting}) != len(self.awaiting):
            raise ValueError("a claim awaits its MAR more than once")
        return self
