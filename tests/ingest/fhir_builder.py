"""Synthetic FHIR R4 Bundles written from v1 claims (no real patient), for tests and benches.

Every element of the v1 claim and its MAR is written the way docs/ingest-mapping.md says
a platform sends it, so reading the Bundle back must give the claim again.
"""

from __future__ import annotations

import json
from typing import Any

from tests.ingest.x12_builder import DEPENDENT, PEOPLE, Person
from worker.ingest.fhir import CODE_SYSTEM, EXTENSION, ICD10CM, NDC, POS, REVENUE

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
PAYERS = {"MEDICARE": "01112", "HEALTHNET-CA": "68069"}


def _procedure_system(code: str) -> str:
    return CPT if code[0].isdigit() else HCPCS


def _ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": EXTENSION + name, **value}


def patient_and_coverage(
    person: Person, payer_id: str, plan: str | None, dependent: Person | None = None
) -> list[dict[str, Any]]:
    """Patient (the subscriber, or the dependent), the payer Organization, the Coverage."""
    who = dependent or person
    patient = {
        "resourceType": "Patient",
        "id": "pat-1",
        "name": [{"family": who.last, "given": [who.first]}],
        "birthDate": f"{who.born[:4]}-{who.born[4:6]}-{who.born[6:]}",
        "address": [{"line": [who.street], "city": "SPRINGFIELD", "state": "IL"}],
    }
    if dependent is None:
        patient["identifier"] = [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MB"}
                    ]
                },
                "value": person.member_id,
            }
        ]
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "beneficiary": {"reference": "Patient/pat-1"},
        "subscriberId": person.member_id,
        "relationship": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                    "code": "child" if dependent else "self",
                }
            ]
        },
        "payor": [{"reference": "Organization/payer-1"}],
    }
    if plan:
        coverage["class"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                            "code": "plan",
                        }
                    ]
                },
                "value": plan,
            }
        ]
    payer = {
        "resourceType": "Organization",
        "id": "payer-1",
        "identifier": [{"value": PAYERS.get(payer_id, payer_id)}],
        "name": "PAYER",
    }
    return [patient, coverage, payer]


def administration(a: dict[str, Any]) -> list[dict[str, Any]]:
    """A MedicationAdministration with its Medication (and Device for a pump)."""
    drug = a["drug"]
    codings = [{"system": HCPCS, "code": drug["hcpcs"]}] if drug.get("hcpcs") else []
    if drug.get("ndc"):
        codings.append({"system": NDC, "code": drug["ndc"]})
    medication = {
        "resourceType": "Medication",
        "id": f"med-{a['admin_id']}",
        "code": {"text": drug["name"], "coding": codings},
    }
    dosage: dict[str, Any] = {
        "route": {"coding": [{"system": CODE_SYSTEM + "route", "code": a["route"]}]},
        "dose": {"value": float(drug["dose"]), "unit": drug["dose_unit"]},
    }
    if a.get("documented_technique"):
        dosage["method"] = {
            "coding": [{"system": CODE_SYSTEM + "technique", "code": a["documented_technique"]}]
        }
    if a.get("access_site_id"):
        dosage["site"] = {"coding": [{"system": CODE_SYSTEM + "site", "code": a["access_site_id"]}]}
    ext = [
        _ext("infusion-hold", valuePeriod={"start": h["start"], "end": h["stop"]})
        for h in a.get("holds") or []
    ]
    if a.get("purpose", "TREATMENT") != "TREATMENT":
        ext.append(_ext("administration-purpose", valueCode=a["purpose"]))
    for name, key, kind in (
        ("bag-id", "bag_id", "valueString"),
        ("separate-site-reason", "separate_site_reason", "valueString"),
        ("lesion-count", "lesion_count", "valueInteger"),
    ):
        if a.get(key) is not None:
            ext.append(_ext(name, **{kind: a[key]}))
    if a.get("primary_reason"):
        ext.append(_ext("primary-reason", valueBoolean=True))
    period = {"start": a["start"]}
    if a.get("stop"):
        period["end"] = a["stop"]
    ma: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": a["admin_id"],
        "status": "completed",
        "medicationReference": {"reference": f"Medication/med-{a['admin_id']}"},
        "subject": {"reference": "Patient/pat-1"},
        "context": {"reference": f"Encounter/{a['encounter_id']}"},
        "effectivePeriod": period,
        "dosage": dosage,
    }
    if ext:
        ma["extension"] = ext
    if a.get("order_present"):
        ma["request"] = {"reference": f"MedicationRequest/rx-{a['admin_id']}"}
    if a.get("indication_present"):
        ma["reasonCode"] = [{"text": "chemotherapy cycle"}]
    out = [ma, medication]
    pump = a.get("pump")
    if pump:
        device: dict[str, Any] = {
            "resourceType": "Device",
            "id": f"pump-{a['admin_id']}",
            "type": {"coding": [{"system": CODE_SYSTEM + "pump-kind", "code": pump["kind"]}]},
        }
        dext = []
        if pump.get("planned_hours") is not None:
            dext.append(_ext("pump-planned-hours", valueDecimal=float(pump["planned_hours"])))
        if pump.get("supplied_by"):
            dext.append(_ext("pump-supplied-by", valueCode=pump["supplied_by"]))
        if dext:
            device["extension"] = dext
        ma["device"] = [{"reference": f"Device/pump-{a['admin_id']}"}]
        out.append(device)
    return out


def encounter(e: dict[str, Any]) -> dict[str, Any]:
    period = {"start": e["start"]}
    if e.get("end"):
        period["end"] = e["end"]
    return {
        "resourceType": "Encounter",
        "id": e["encounter_id"],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "period": period,
    }


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n:012d}", "resource": r}
            for n, r in enumerate(resources)
        ],
    }


def claim_bundle(doc: dict[str, Any], person: Person = PEOPLE[0], dependent: bool = False) -> str:
    """The v1 claim ``doc`` as a FHIR claim Bundle."""
    professional = doc["claim_type"] == "professional"
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"dx-{n}",
            "subject": {"reference": "Patient/pat-1"},
            "code": {"coding": [{"system": ICD10CM, "code": code}]},
        }
        for n, code in enumerate(doc["diagnoses"], start=1)
    ]
    items = []
    for line in doc["service_lines"]:
        item: dict[str, Any] = {
            "sequence": line["line_number"],
            "productOrService": {
                "coding": [{"system": _procedure_system(line["code"]), "code": line["code"]}]
            },
            "quantity": {"value": float(line["units"])},
            "servicedDate": line["date_of_service"],
        }
        if line.get("modifiers"):
            item["modifier"] = [{"coding": [{"system": CPT, "code": m}]} for m in line["modifiers"]]
        if line.get("revenue_code"):
            item["revenue"] = {"coding": [{"system": REVENUE, "code": line["revenue_code"]}]}
        if line.get("diagnosis_pointers"):
            item["diagnosisSequence"] = line["diagnosis_pointers"]
        if professional:
            item["locationCodeableConcept"] = {
                "coding": [{"system": POS, "code": doc["place_of_service"]}]
            }
        items.append(item)
    claim: dict[str, Any] = {
        "resourceType": "Claim",
        "id": "claim-1",
        "identifier": [{"value": doc["claim_id"]}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": doc["claim_type"],
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": "Patient/pat-1"},
        "billablePeriod": {"start": doc["statement_from"], "end": doc["statement_to"]},
        "created": "2026-06-01",
        "provider": {"reference": "Organization/prov-1"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-1"}}],
        "diagnosis": [
            {"sequence": n, "diagnosisReference": {"reference": f"Condition/dx-{n}"}}
            for n in range(1, len(conditions) + 1)
        ],
        "item": items,
    }
    if doc.get("bill_type"):
        claim["supportingInfo"] = [
            {
                "sequence": 1,
                "category": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/"
                            "C4BBSupportingInfoType",
                            "code": "typeofbill",
                        }
                    ]
                },
                "code": {
                    "coding": [
                        {"system": "https://www.nubc.org/CodeSystem/TypeOfBill",
                         "code": doc["bill_type"]}
                    ]
                },
            }
        ]  # fmt: skip
    provider = {"resourceType": "Organization", "id": "prov-1", "name": "SYNTHETIC CANCER CENTER"}
    resources: list[dict[str, Any]] = [claim, provider]
    if professional:  # the place of service also when the claim has no line
        claim["facility"] = {"reference": "Location/loc-1"}
        resources.append(
            {
                "resourceType": "Location",
                "id": "loc-1",
                "type": [{"coding": [{"system": POS, "code": doc["place_of_service"]}]}],
            }
        )
    resources += patient_and_coverage(
        person, doc["payer"]["payer_id"], doc["payer"].get("plan"), DEPENDENT if dependent else None
    )
    resources += conditions
    resources += [encounter(e) for e in doc.get("encounters") or []]
    for a in doc.get("administrations") or []:
        resources += administration(a)
    return json.dumps(_bundle(resources))


def mar_bundle(doc: dict[str, Any], person: Person = PEOPLE[0]) -> str:
    """Only the claim's MAR (MedicationAdministration with Medication, Device, Encounter),
    and the Patient and Coverage naming the patient."""
    resources = patient_and_coverage(person, doc["payer"]["payer_id"], doc["payer"].get("plan"))
    resources += [encounter(e) for e in doc.get("encounters") or []]
    for a in doc.get("administrations") or []:
        resources += administration(a)
    return json.dumps(_bundle(resources))
