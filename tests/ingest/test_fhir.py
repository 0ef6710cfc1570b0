"""FHIR R4 in: claim Bundles onto v1 claims with their MAR, MAR Bundles by patient."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from schemas.claim import SubmittedClaim
from schemas.examples import example_claim
from tests.ingest.conftest import KEY, sample
from tests.ingest.fhir_builder import claim_bundle, mar_bundle
from tests.ingest.x12_builder import PEOPLE, interchange, phi_strings
from worker.ingest.fhir import (
    FhirBundleError,
    FhirOptions,
    NotABundleError,
    operation_outcome,
    parse_claim_bundle,
    parse_mar_bundle,
)
from worker.ingest.patient_ref import patient_reference
from worker.ingest.x12 import X12Options, parse_837

SAMPLES = [
    "01-facility-chemo.json",
    "02-office-visit.json",
    "03-injection-only.json",
    "10-health-net-z51-resequenced.json",
    "11-radiation-imrt-plan.json",
    "13-nurse-visit-with-chemo.json",
]


def _expected(doc: dict[str, Any]) -> SubmittedClaim:
    payer = {**doc["payer"], "name": "PAYER"}
    member = patient_reference(KEY, {"MEDICARE": "01112"}.get(payer["payer_id"], "68069"),
                               PEOPLE[0].member_id)  # fmt: skip
    return SubmittedClaim.model_validate({**doc, "payer": payer, "patient_ref": member})


@pytest.mark.parametrize("name", SAMPLES)
def test_a_claim_bundle_reads_as_the_claim_with_its_mar(
    name: str, fhir_options: FhirOptions
) -> None:
    doc = sample(name)
    claim = parse_claim_bundle(claim_bundle(doc), fhir_options)
    assert claim == _expected(doc)
    assert len(claim.administrations) == len(doc.get("administrations") or [])


def test_generated_claims_read_from_bundles(fhir_options: FhirOptions) -> None:
    for n in range(80):
        doc = example_claim(n)
        assert parse_claim_bundle(claim_bundle(doc).encode(), fhir_options) == _expected(doc)


def test_holds_pumps_and_extensions_survive(fhir_options: FhirOptions) -> None:
    doc = sample("01-facility-chemo.json")
    infusions = [a for a in doc["administrations"] if a.get("stop") and a["stop"] > a["start"]]
    first, second = infusions[0], infusions[1]
    first["holds"] = [{"start": first["start"], "stop": first["start"]}]
    first.update(bag_id="BAG-7", separate_site_reason="second line needed", primary_reason=True)
    second.update(pump={"kind": "PORTABLE", "planned_hours": "46", "supplied_by": "PROVIDER"})
    second.update(purpose="VEHICLE", lesion_count=3)
    want = SubmittedClaim.model_validate(doc)
    claim = parse_claim_bundle(claim_bundle(doc), fhir_options)
    assert claim.administrations == want.administrations
    assert claim.administrations[doc["administrations"].index(second)].pump is not None


def test_a_mar_bundle_meets_the_837_claim_on_the_patient_reference(
    fhir_options: FhirOptions,
) -> None:
    doc = sample("13-nurse-visit-with-chemo.json")
    (read,) = parse_837(interchange([doc], "P"), X12Options(patient_key=KEY))
    (mar,) = parse_mar_bundle(mar_bundle(doc), fhir_options)
    assert read.claim is not None and mar.patient_ref == read.claim.patient_ref
    want = SubmittedClaim.model_validate(doc)
    assert mar.administrations == want.administrations
    assert mar.encounters == want.encounters


def test_a_dependent_gets_the_same_reference_from_both_formats(fhir_options: FhirOptions) -> None:
    docs = [sample("02-office-visit.json"), sample("13-nurse-visit-with-chemo.json")]
    reads = parse_837(interchange(docs, "P", dependents=(0,)), X12Options(patient_key=KEY))
    claim = parse_claim_bundle(claim_bundle(docs[0], dependent=True), fhir_options)
    assert reads[0].claim is not None and claim.patient_ref == reads[0].claim.patient_ref
    assert claim.patient_ref != patient_reference(KEY, "01112", PEOPLE[0].member_id)


def test_a_mar_bundle_with_a_logical_subject(fhir_options: FhirOptions) -> None:
    doc = sample("03-injection-only.json")
    bundle = json.loads(mar_bundle(doc))
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] not in
                       ("Patient", "Coverage", "Organization")]  # fmt: skip
    member = {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                             "code": "MB"}]},
        "value": PEOPLE[0].member_id,
        "assigner": {"identifier": {"value": "01112"}},
    }  # fmt: skip
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "MedicationAdministration":
            e["resource"]["subject"] = {"identifier": member}
    (mar,) = parse_mar_bundle(json.dumps(bundle), fhir_options)
    assert mar.patient_ref == patient_reference(KEY, "01112", PEOPLE[0].member_id)


def test_entries_not_given_are_left_out(fhir_options: FhirOptions) -> None:
    doc = sample("02-office-visit.json")
    bundle = json.loads(mar_bundle(doc))
    mas = [
        e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    mas[0]["resource"]["status"] = "not-done"
    (mar,) = parse_mar_bundle(json.dumps(bundle), fhir_options)
    assert len(mar.administrations) == len(doc["administrations"]) - 1


def _fails(data: str | bytes, options: FhirOptions, mar: bool = False) -> list[tuple[str, str]]:
    with pytest.raises(FhirBundleError) as caught:
        (parse_mar_bundle if mar else parse_claim_bundle)(data, options)
    reasons = [(r.location, r.message) for r in caught.value.reasons]
    text = " ".join([str(caught.value), *(f"{a} {b}" for a, b in reasons)])
    assert not [v for v in phi_strings() if v.lower() in text.lower()]
    return reasons


def _entry(bundle: dict[str, Any], kind: str, n: int = 0) -> tuple[int, dict[str, Any]]:
    found = [(i, e["resource"]) for i, e in enumerate(bundle["entry"])
             if e["resource"]["resourceType"] == kind]  # fmt: skip
    return found[n]


def test_invalid_bundles_have_located_reasons(fhir_options: FhirOptions) -> None:
    doc = sample("02-office-visit.json")
    assert _fails(b"\xff", fhir_options) == [("<root>", "the message is not UTF-8 JSON")]
    with pytest.raises(NotABundleError):
        parse_claim_bundle(b"[]", fhir_options)
    assert _fails('{"resourceType": "Patient"}', fhir_options)[0][1] == "resourceType is not Bundle"
    bundle = json.loads(claim_bundle(doc))
    bundle["entry"].append({"resource": {"resourceType": "QUIXBURY"}})
    n = len(bundle["entry"]) - 1
    assert _fails(json.dumps(bundle), fhir_options) == [
        (f"Bundle.entry[{n}].resource.resourceType", "not a FHIR R4 resource type")
    ]
    bundle = json.loads(claim_bundle(doc))
    i, ma = _entry(bundle, "MedicationAdministration", 1)
    ma["effectivePeriod"]["start"] = "ZEPHRINE QUIXBURY"
    i2, patient = _entry(bundle, "Patient")
    patient["birthDate"] = PEOPLE[0].born + "X"
    reasons = _fails(json.dumps(bundle), fhir_options)
    locations = {loc for loc, _ in reasons}
    assert f"Bundle.entry[{i}].resource.effectivePeriod.start" in locations
    assert f"Bundle.entry[{i2}].resource.birthDate" in locations


def test_unmappable_and_invalid_claims_are_located(fhir_options: FhirOptions) -> None:
    doc = sample("02-office-visit.json")
    bundle = json.loads(claim_bundle(doc))
    i, ma = _entry(bundle, "MedicationAdministration", 0)
    ma["dosage"]["route"] = {"text": "by mouth"}
    j, claim = _entry(bundle, "Claim")
    claim["insurance"][0]["focal"] = False
    reasons = dict(_fails(json.dumps(bundle), fhir_options))
    assert reasons[f"Bundle.entry[{i}].resource.dosage.route"].startswith("no route coded")
    assert reasons[f"Bundle.entry[{j}].resource.insurance"] == "no focal Coverage in the Bundle"

    bundle = json.loads(claim_bundle(doc))
    i, ma = _entry(bundle, "MedicationAdministration", 2)
    ma["effectivePeriod"]["end"] = "2020-01-01T00:00:00-05:00"  # before its start
    (reason,) = _fails(json.dumps(bundle), fhir_options)
    assert reason[0].startswith(f"Bundle.entry[{i}].resource")
    assert "stop is before its start" in reason[1]


def test_a_mar_bundle_without_a_patient_is_located(fhir_options: FhirOptions) -> None:
    bundle = json.loads(mar_bundle(sample("03-injection-only.json")))
    i, ma = _entry(bundle, "MedicationAdministration")
    ma["subject"] = {"display": "somebody"}
    assert _fails(json.dumps(bundle), fhir_options, mar=True)[0][0] == (
        f"Bundle.entry[{i}].resource.subject"
    )


def test_reasons_become_an_operation_outcome(fhir_options: FhirOptions) -> None:
    with pytest.raises(FhirBundleError) as caught:
        parse_claim_bundle('{"resourceType": "Bundle", "type": "collection"}', fhir_options)
    outcome = operation_outcome(caught.value.reasons)
    parsed = OperationOutcome.model_validate(outcome)
    assert [i.expression for i in parsed.issue] == [["Bundle.entry"]]
