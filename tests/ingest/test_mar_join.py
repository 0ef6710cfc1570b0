"""An 837 claim joined with its patient's MAR by patient reference and service dates."""

from __future__ import annotations

from datetime import timedelta

from rules import assess
from schemas.claim import SubmittedClaim
from tests.ingest.conftest import KEY, sample
from tests.ingest.fhir_builder import mar_bundle
from tests.ingest.x12_builder import PEOPLE, interchange
from worker.ingest.fhir import FhirOptions, PatientMar, parse_mar_bundle
from worker.ingest.mar_join import join_mar
from worker.ingest.x12 import X12Options, parse_837


def test_the_joined_claim_decides_as_the_json_claim_with_its_mar() -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    (read,) = parse_837(interchange([doc], "P"), X12Options(patient_key=KEY))
    mar = parse_mar_bundle(mar_bundle(doc), FhirOptions(patient_key=KEY))
    assert read.claim is not None and read.claim.administrations == ()
    joined = join_mar(read.claim, mar)
    original = SubmittedClaim.model_validate(doc)
    assert joined.administrations == original.administrations
    assert joined.encounters == original.encounters
    assert assess(joined).computed_lines == assess(original).computed_lines
    assert assess(read.claim).computed_lines == ()  # decided before the MAR: no MAR codes


def test_other_patients_and_other_dates_are_not_joined() -> None:
    doc = sample("02-office-visit.json")
    (read,) = parse_837(interchange([doc], "P"), X12Options(patient_key=KEY))
    assert read.claim is not None
    (mar,) = parse_mar_bundle(mar_bundle(doc, PEOPLE[1]), FhirOptions(patient_key=KEY))
    assert join_mar(read.claim, [mar]).administrations == ()  # another member id
    (mar,) = parse_mar_bundle(mar_bundle(doc, PEOPLE[1]), FhirOptions(patient_key=KEY))
    mine = PatientMar(read.claim.patient_ref, mar.administrations, mar.encounters)
    later = read.claim.model_copy(
        update={
            "statement_from": read.claim.statement_from + timedelta(days=1),
            "statement_to": read.claim.statement_to + timedelta(days=1),
        }
    )
    assert join_mar(later, [mine]).administrations == ()
    resent = join_mar(read.claim, [mine, mine])
    assert len(resent.administrations) == len(doc["administrations"])
