"""One patient's MAR entries, as a MAR Bundle gives them (``worker.ingest.fhir``): kept apart
from the FHIR reader so that the join and the MAR store need not load the FHIR models."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.claim import Administration, Encounter


@dataclass(frozen=True, slots=True)
class PatientMar:
    """One patient's MAR entries from a MAR Bundle, keyed for the join with their claims."""

    patient_ref: str
    administrations: tuple[Administration, ...]
    encounters: tuple[Encounter, ...]
