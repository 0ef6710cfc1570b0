"""FHIR R4 in: a claim Bundle onto a v1 claim with its MAR, and MAR-only Bundles by patient.

    claim = parse_claim_bundle(data, FhirOptions(patient_key=key))   # Claim + MAR
    mar = parse_mar_bundle(data, FhirOptions(patient_key=key))       # MAR for the join

Bundles are validated by ``fhir.resources`` (the R4B models: R4B changed none of the
resources read here) after a first look at the JSON, because an unknown
``resourceType`` inside a Bundle raises a bare ``KeyError`` there, not a validation
error. A Bundle that cannot be read raises ``FhirBundleError`` with located reasons
(FHIRPath-style: ``Bundle.entry[3].resource.dosage.route``), never values. What FHIR has
no element for (holds, purpose, pump kind ...) travels in the extensions and code
systems named below; the mapping is in docs/ingest-mapping.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from pydantic import ValidationError

from schemas.base import WireModel
from schemas.claim import Administration, Encounter, Setting, SubmittedClaim
from worker.ingest.patient_mar import PatientMar
from worker.ingest.patient_ref import MIN_KEY_BYTES, Dependent, normalise, patient_reference
from worker.ingest.reasons import (
    IngestError,
    LocatedReason,
    own_message,
    safe_message,
    validation_reasons,
)
from worker.ingest.x12 import FACILITY_POS, RADIATION_CENTRE_TAXONOMY, dotted

__all__ = [
    "CODE_SYSTEM",
    "EXTENSION",
    "FhirBundleError",
    "FhirOptions",
    "NotABundleError",
    "PatientMar",
    "operation_outcome",
    "parse_claim_bundle",
    "parse_mar_bundle",
]

# Where this product's own extensions and code systems live (.example: reserved, never
# resolved; a platform copies the URLs from here or docs/ingest-mapping.md).
EXTENSION = "https://oncoscrub.example/fhir/StructureDefinition/"
CODE_SYSTEM = "https://oncoscrub.example/fhir/CodeSystem/"

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
PROCEDURE_SYSTEMS = frozenset(
    {
        "http://www.ama-assn.org/go/cpt",
        "https://bluebutton.cms.gov/resources/codesystem/hcpcs",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
        "urn:oid:2.16.840.1.113883.6.285",  # HCPCS Level II
    }
)
HCPCS_SYSTEMS = PROCEDURE_SYSTEMS
NDC = "http://hl7.org/fhir/sid/ndc"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
NUCC = "http://nucc.org/provider-taxonomy"
SNOMED = "http://snomed.info/sct"
MEMBER_TYPE = "MB"  # HL7 v2-0203 identifier type: member number

# SNOMED CT routes; anything else uses CODE_SYSTEM + "route" with the v1 enum's codes.
SNOMED_ROUTES = {
    "47625008": "IV",
    "34206005": "SQ",
    "78421000": "IM",
    "58100008": "IA",
    "72607000": "INTRATHECAL_LP",
}
_GIVEN = frozenset({"completed", "stopped"})  # given, wholly or in part
_NOT_GIVEN = frozenset({"not-done", "entered-in-error"})
_SAFE_FHIR = re.compile(
    r"^Value error, (\w+ value string does not match spec regex\.|Expect any of field value "
    r"from this list \[[A-Za-z', ]+\]\.)$"
)


class _MarEntries(WireModel):
    """MAR entries validated as the v1 claim validates them, without a claim around them."""

    administrations: tuple[Administration, ...]
    encounters: tuple[Encounter, ...] = ()


class FhirBundleError(IngestError):
    """The Bundle fails FHIR validation, or its Claim or MAR cannot be mapped: located
    reasons (a claim Bundle goes to review with them)."""


class NotABundleError(FhirBundleError):
    """Not JSON, or not a FHIR Bundle at all (dead letter, like unreadable JSON)."""


@dataclass(frozen=True, slots=True)
class FhirOptions:
    patient_key: bytes  # the HMAC secret of the patient reference, from settings
    payer_aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.patient_key) < MIN_KEY_BYTES:
            raise ValueError(f"the patient reference key must be at least {MIN_KEY_BYTES} bytes")


def _fhir_message(loc: tuple[int | str, ...], err: Any) -> str:
    msg = str(err.get("msg", ""))
    if _SAFE_FHIR.match(msg):
        return f"{err['type']}: {msg.removeprefix('Value error, ')}"
    return safe_message(err)


def _path(loc: tuple[int | str, ...]) -> str:
    out = "Bundle"
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _bundle(data: bytes | str) -> Bundle:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise NotABundleError(
            "not a FHIR Bundle", [LocatedReason("<root>", "the message is not UTF-8 JSON")]
        ) from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise NotABundleError(
            "not a FHIR Bundle", [LocatedReason("<root>", "resourceType is not Bundle")]
        )
    reasons = []
    for i, entry in enumerate(doc.get("entry") or []):
        kind = entry.get("resource", {}).get("resourceType") if isinstance(entry, dict) else None
        try:
            get_fhir_model_class(str(kind))
        except ValueError:
            reasons.append(
                LocatedReason(
                    f"Bundle.entry[{i}].resource.resourceType", "not a FHIR R4 resource type"
                )
            )
    if reasons:
        raise FhirBundleError("the Bundle fails FHIR validation", reasons)
    try:
        return Bundle.model_validate(doc)
    except ValidationError as exc:
        raise FhirBundleError(
            "the Bundle fails FHIR validation", validation_reasons(exc, _path, _fhir_message)
        ) from None
    except Exception:  # fhir.resources raises more than ValidationError on odd input
        raise FhirBundleError(
            "the Bundle fails FHIR validation",
            [LocatedReason("Bundle", "the Bundle fails FHIR validation")],
        ) from None


@dataclass
class _Entries:
    """The Bundle's resources by type, each with its entry index, and references resolved."""

    bundle: Bundle
    by_ref: dict[str, tuple[int, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, entry in enumerate(self.bundle.entry or []):
            resource: Any = entry.resource
            if resource is None:
                continue
            kind = resource.get_resource_type()
            if resource.id:
                self.by_ref[f"{kind}/{resource.id}"] = (i, resource)
            if entry.fullUrl:
                self.by_ref[str(entry.fullUrl)] = (i, resource)

    def of(self, kind: str) -> list[tuple[int, Any]]:
        out = []
        for i, entry in enumerate(self.bundle.entry or []):
            resource: Any = entry.resource
            if resource is not None and resource.get_resource_type() == kind:
                out.append((i, resource))
        return out

    def resolve(self, reference: Any) -> tuple[int, Any] | None:
        if reference is None or not reference.reference:
            return None
        return self.by_ref.get(str(reference.reference))


class _Mapper:
    def __init__(self, entries: _Entries, options: FhirOptions) -> None:
        self.entries = entries
        self.options = options
        self.reasons: list[LocatedReason] = []

    def problem(self, where: str, message: str) -> None:
        self.reasons.append(LocatedReason(where, message))

    # helpers

    @staticmethod
    def code(concept: Any, systems: frozenset[str] | str) -> str | None:
        wanted = frozenset({systems}) if isinstance(systems, str) else systems
        for coding in (concept.coding or []) if concept is not None else []:
            if coding.system in wanted and coding.code:
                return str(coding.code)
        return None

    @staticmethod
    def extensions(resource: Any, name: str) -> list[Any]:
        return [x for x in resource.extension or [] if x.url == EXTENSION + name]

    def extension(self, resource: Any, name: str, attr: str) -> Any:
        found = self.extensions(resource, name)
        return getattr(found[0], attr) if found else None

    # the patient

    def patient_ref(
        self, patient: tuple[int, Any] | None, coverage: tuple[int, Any] | None, where: str
    ) -> str:
        """HMAC of payer and member id: the member id from Coverage.subscriberId, else a
        Patient identifier of type MB; the payer from Coverage.payor's identifier, else the
        member identifier's assigner."""
        member, payer, dependent = "", "", None
        if coverage is not None:
            cov = coverage[1]
            member = str(cov.subscriberId or "")
            payer = self.payer_id_of(cov)
            relation = self.code(
                cov.relationship, "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
            )
            if relation not in (None, "self") and patient is not None:
                p = patient[1]
                given = (p.name[0].given or [""])[0] if p.name else ""
                if p.birthDate is None or not normalise(given):
                    self.problem(
                        f"Bundle.entry[{patient[0]}].resource",
                        "a dependent's birthDate "
                        "and given name are needed for the patient reference",
                    )
                else:
                    dependent = Dependent(p.birthDate, given)
        if not member and patient is not None:
            for ident in patient[1].identifier or []:
                if (
                    self.code(ident.type, "http://terminology.hl7.org/CodeSystem/v2-0203")
                    == MEMBER_TYPE
                ):
                    member = str(ident.value or "")
                    if not payer and ident.assigner is not None and ident.assigner.identifier:
                        payer = str(ident.assigner.identifier.value or "")
        if not normalise(member):
            self.problem(
                where, "no member id (Coverage.subscriberId or a Patient identifier of type MB)"
            )
        if not normalise(payer):
            self.problem(
                where,
                "no payer id (Coverage.payor's identifier, or the member identifier's assigner)",
            )
        if not normalise(member) or not normalise(payer):
            return "PR1-unknown"
        return patient_reference(self.options.patient_key, payer, member, dependent)

    def subject_ref(self, subject: Any, where: str) -> str:
        """A logical subject: ``subject.identifier`` of type MB, its assigner the payer."""
        ident = subject.identifier if subject is not None else None
        member = str(ident.value or "") if ident is not None else ""
        payer = ""
        if ident is not None and ident.assigner is not None and ident.assigner.identifier:
            payer = str(ident.assigner.identifier.value or "")
        if not normalise(member) or not normalise(payer):
            self.problem(
                where,
                "the subject names no patient in the Bundle and no member "
                "identifier with its assigner (the payer)",
            )
            return "PR1-unknown"
        return patient_reference(self.options.patient_key, payer, member)

    def payer_id_of(self, coverage: Any) -> str:
        for ref in coverage.payor or []:
            found = self.entries.resolve(ref)
            if found is not None and found[1].identifier:
                return str(found[1].identifier[0].value or "")
            if ref.identifier is not None:
                return str(ref.identifier.value or "")
        return ""

    # the MAR

    def administration(self, i: int, ma: Any) -> dict[str, Any] | None:
        where = f"Bundle.entry[{i}].resource"
        if ma.status in _NOT_GIVEN:
            return None
        if ma.status not in _GIVEN:
            self.problem(f"{where}.status", "not final: completed or stopped expected")
            return None
        medication = self.medication(where, ma)
        dosage = ma.dosage
        if dosage is None or dosage.dose is None or dosage.dose.value is None:
            self.problem(f"{where}.dosage.dose", "the dose given is missing")
            return None
        route = self.code(dosage.route, CODE_SYSTEM + "route")
        snomed = self.code(dosage.route, SNOMED)
        route = route or (SNOMED_ROUTES.get(snomed) if snomed else None)
        if route is None:
            self.problem(
                f"{where}.dosage.route",
                f"no route coded in SNOMED CT (IV, SQ, IM, IA, intrathecal) or {CODE_SYSTEM}route",
            )
        period = ma.effectivePeriod
        start = period.start if period is not None else ma.effectiveDateTime
        stop = period.end if period is not None else None
        encounter = self.entries.resolve(ma.context)
        encounter_id = encounter[1].id if encounter else self.reference_id(ma.context, "Encounter")
        if encounter_id is None:
            self.problem(f"{where}.context", "no Encounter: the MAR entry's visit is needed")
        pump = None
        for ref in ma.device or []:
            device = self.entries.resolve(ref)
            kind = self.code(device[1].type, CODE_SYSTEM + "pump-kind") if device else None
            if device is not None and kind is not None:
                pump = {
                    "kind": kind,
                    "planned_hours": self.extension(
                        device[1], "pump-planned-hours", "valueDecimal"
                    ),
                    "supplied_by": self.extension(device[1], "pump-supplied-by", "valueCode"),
                }
        site = dosage.site
        return {
            "admin_id": ma.id or (ma.identifier[0].value if ma.identifier else None),
            "encounter_id": encounter_id,
            "drug": {
                **medication,
                "dose": dosage.dose.value,
                "dose_unit": dosage.dose.unit or dosage.dose.code,
            },
            "route": route,
            "documented_technique": self.code(dosage.method, CODE_SYSTEM + "technique"),
            "access_site_id": site.coding[0].code if site is not None and site.coding else None,
            "start": start,
            "stop": stop,
            "holds": [
                {"start": x.valuePeriod.start, "stop": x.valuePeriod.end}
                for x in self.extensions(ma, "infusion-hold")
                if x.valuePeriod is not None
            ],
            "purpose": self.extension(ma, "administration-purpose", "valueCode") or "TREATMENT",
            "order_present": ma.request is not None,
            "indication_present": bool(ma.reasonCode or ma.reasonReference),
            "bag_id": self.extension(ma, "bag-id", "valueString"),
            "pump": pump,
            "separate_site_reason": self.extension(ma, "separate-site-reason", "valueString"),
            "primary_reason": bool(self.extension(ma, "primary-reason", "valueBoolean")),
            "lesion_count": self.extension(ma, "lesion-count", "valueInteger"),
        }

    @staticmethod
    def reference_id(reference: Any, kind: str) -> str | None:
        text = str(reference.reference or "") if reference is not None else ""
        return text.split("/", 1)[1] if text.startswith(f"{kind}/") else None

    def medication(self, where: str, ma: Any) -> dict[str, Any]:
        concept = ma.medicationCodeableConcept
        if ma.medicationReference is not None:
            found = self.entries.resolve(ma.medicationReference)
            concept = found[1].code if found is not None else None
        if concept is None:
            self.problem(f"{where}.medication[x]", "the medication is not in the Bundle")
            return {"name": ""}
        name = concept.text or next((c.display for c in concept.coding or [] if c.display), None)
        if not name:
            self.problem(f"{where}.medication[x]", "the medication has no name (text or display)")
        return {
            "name": name or "",
            "hcpcs": self.code(concept, HCPCS_SYSTEMS),
            "ndc": self.code(concept, NDC),
        }

    def encounter(self, i: int, enc: Any) -> dict[str, Any]:
        period = enc.period
        if period is None or period.start is None:
            self.problem(f"Bundle.entry[{i}].resource.period.start", "the visit's start is missing")
        return {
            "encounter_id": enc.id,
            "start": period.start if period else None,
            "end": period.end if period else None,
        }

    # the claim

    def claim(self, i: int, claim: Any) -> dict[str, Any]:
        where = f"Bundle.entry[{i}].resource"
        kind = self.code(claim.type, CLAIM_TYPE)
        if kind not in ("institutional", "professional"):
            self.problem(f"{where}.type", "the claim type is not institutional or professional")
        institutional = kind == "institutional"
        bill_type = None
        for info in claim.supportingInfo or []:
            if (
                self.code(
                    info.category,
                    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType",
                )
                == "typeofbill"
            ):
                code = next(
                    (c.code for c in (info.code.coding if info.code else []) if c.code), None
                )
                bill_type = str(code).zfill(4) if code else None
        places = {self.code(item.locationCodeableConcept, POS) for item in claim.item or []}
        places.discard(None)
        if len(places) > 1:
            self.problem(
                f"{where}.item.locationCodeableConcept",
                "the lines name several "
                "places of service: a claim with several places is not decided",
            )
        pos = next(iter(places), None)
        facility = self.entries.resolve(claim.facility)
        if pos is None and facility is not None:
            pos = next((self.code(t, POS) for t in facility[1].type or []), None)
        if pos is None and institutional and bill_type:
            pos = FACILITY_POS.get(bill_type[1:3])
        coverage_ref = next((ins.coverage for ins in claim.insurance or [] if ins.focal), None)
        coverage = self.entries.resolve(coverage_ref)
        patient = self.entries.resolve(claim.patient)
        payer: dict[str, Any] = {}
        if coverage is None:
            self.problem(f"{where}.insurance", "no focal Coverage in the Bundle")
        else:
            cov = coverage[1]
            raw = self.payer_id_of(cov)
            org = next((self.entries.resolve(r) for r in cov.payor or []), None)
            plan = next(
                (
                    c.value
                    for c in cov.class_fhir or []
                    if self.code(c.type, "http://terminology.hl7.org/CodeSystem/coverage-class")
                    == "plan"
                ),
                None,
            )
            payer = {
                "payer_id": self.options.payer_aliases.get(raw, raw),
                "name": org[1].name if org else None,
                "plan": plan,
            }
        lines = [self.line(where, n, item) for n, item in enumerate(claim.item or [])]
        period = claim.billablePeriod
        days = [x["date_of_service"] for x in lines if x.get("date_of_service")]
        start = (
            _day(period.start) if period is not None and period.start else min(days, default=None)
        )
        end = _day(period.end) if period is not None and period.end else max(days, default=None)
        return {
            "claim_id": claim.identifier[0].value if claim.identifier else claim.id,
            "claim_type": kind,
            "bill_type": bill_type,
            "place_of_service": pos,
            "setting": self.setting(institutional, pos, claim),
            "payer": payer,
            "patient_ref": self.patient_ref(patient, coverage, f"{where}.patient"),
            "statement_from": start,
            "statement_to": end,
            "diagnoses": self.diagnoses(where, claim),
            "service_lines": lines,
        }

    def setting(self, institutional: bool, pos: str | None, claim: Any) -> Setting:
        if institutional or pos in ("19", "22"):
            return Setting.HOSPITAL_OUTPATIENT
        provider = self.entries.resolve(claim.provider)
        types = provider[1].type or [] if provider and hasattr(provider[1], "type") else []
        if any(self.code(t, NUCC) == RADIATION_CENTRE_TAXONOMY for t in types):
            return Setting.FREESTANDING_RADIATION
        return Setting.PHYSICIAN_OFFICE

    def diagnoses(self, where: str, claim: Any) -> list[str]:
        out = []
        for n, dx in enumerate(sorted(claim.diagnosis or [], key=lambda d: d.sequence)):
            concept = dx.diagnosisCodeableConcept
            if dx.diagnosisReference is not None:
                found = self.entries.resolve(dx.diagnosisReference)
                concept = found[1].code if found is not None else None
            code = self.code(concept, ICD10CM)
            if code is None:
                self.problem(f"{where}.diagnosis[{n}]", "no ICD-10-CM code")
            else:
                out.append(dotted(code.replace(".", "")))
        return out

    def line(self, where: str, n: int, item: Any) -> dict[str, Any]:
        code = self.code(item.productOrService, PROCEDURE_SYSTEMS)
        if code is None:
            self.problem(f"{where}.item[{n}].productOrService", "no CPT/HCPCS code")
        serviced = item.servicedDate
        if serviced is None and item.servicedPeriod is not None:
            serviced = _day(item.servicedPeriod.start)
        return {
            "line_number": item.sequence,
            "code": code,
            "modifiers": [c.code for m in item.modifier or [] for c in m.coding or []][:4],
            "units": item.quantity.value if item.quantity is not None else Decimal(1),
            "revenue_code": self.code(item.revenue, REVENUE),
            "date_of_service": serviced,
            "diagnosis_pointers": list(item.diagnosisSequence or []),
        }


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


# v1 claim fields -> where a claim Bundle holds them (for reasons on claim-level fields)
_CLAIM_PATHS = {
    "claim_id": "identifier",
    "claim_type": "type",
    "bill_type": "supportingInfo",
    "place_of_service": "item.locationCodeableConcept",
    "setting": "provider",
    "payer": "insurance.coverage",
    "patient_ref": "patient",
    "statement_from": "billablePeriod.start",
    "statement_to": "billablePeriod.end",
    "diagnoses": "diagnosis",
}


def _locator(index: dict[str, list[int]], claim: int | None) -> Any:
    """pydantic's path in the v1 claim -> the Bundle entry (and element) it came from."""

    def locate(loc: tuple[int | str, ...]) -> str:
        top = str(loc[0]) if loc else ""
        if top in index and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(index[top]):
            rest = "".join(f".{p}" for p in loc[2:] if isinstance(p, str))
            item = f".item[{loc[1]}]" if top == "service_lines" else ""
            return f"Bundle.entry[{index[top][loc[1]]}].resource{item}{rest}"
        if claim is None:
            return "Bundle"
        return f"Bundle.entry[{claim}].resource.{_CLAIM_PATHS.get(top, top or 'Claim')}"

    return locate


def _validated(doc: dict[str, Any], index: dict[str, list[int]]) -> SubmittedClaim:
    try:
        return SubmittedClaim.model_validate(doc)
    except ValidationError as exc:
        raise FhirBundleError(
            "the Claim is not a valid v1 claim",
            validation_reasons(exc, _locator(index, index["claim"][0]), own_message),
        ) from None


def parse_claim_bundle(data: bytes | str, options: FhirOptions) -> SubmittedClaim:
    """A Bundle with one Claim (and its Patient, Coverage, Encounter, Condition,
    MedicationAdministration, Medication and Device resources) as a v1 claim with its MAR.
    Raises ``FhirBundleError``."""
    entries = _Entries(_bundle(data))
    claims = entries.of("Claim")
    if len(claims) != 1:
        raise FhirBundleError(
            "no single Claim",
            [LocatedReason("Bundle.entry", "a claim Bundle holds exactly one Claim")],
        )
    m = _Mapper(entries, options)
    i, claim = claims[0]
    doc = m.claim(i, claim)
    admins = [(j, m.administration(j, ma)) for j, ma in entries.of("MedicationAdministration")]
    given = [(j, a) for j, a in admins if a is not None]
    encounters = [(j, m.encounter(j, e)) for j, e in entries.of("Encounter")]
    doc["administrations"] = [a for _, a in given]
    doc["encounters"] = [e for _, e in encounters]
    if m.reasons:
        raise FhirBundleError("the Claim cannot be mapped", m.reasons)
    index = {
        "claim": [i],
        "administrations": [j for j, _ in given],
        "encounters": [j for j, _ in encounters],
        "service_lines": [i] * len(doc["service_lines"]),
    }
    return _validated(doc, index)


def parse_mar_bundle(data: bytes | str, options: FhirOptions) -> tuple[PatientMar, ...]:
    """A Bundle of MedicationAdministration (with their Medication, Device, Encounter, and
    the Patient and Coverage that name the patient) as MAR entries by patient reference,
    in order of first appearance. Raises ``FhirBundleError``."""
    entries = _Entries(_bundle(data))
    m = _Mapper(entries, options)
    coverage_of: dict[str, tuple[int, Any]] = {}
    for j, cov in entries.of("Coverage"):
        beneficiary = entries.resolve(cov.beneficiary)
        if beneficiary is not None:
            coverage_of[f"Patient/{beneficiary[1].id}"] = (j, cov)
    by_patient: dict[str, tuple[list[dict[str, Any]], list[int], set[str]]] = {}
    for j, ma in entries.of("MedicationAdministration"):
        where = f"Bundle.entry[{j}].resource.subject"
        patient = entries.resolve(ma.subject)
        if patient is not None:
            ref = m.patient_ref(patient, coverage_of.get(f"Patient/{patient[1].id}"), where)
        else:
            ref = m.subject_ref(ma.subject, where)
        admin = m.administration(j, ma)
        if admin is None:
            continue
        slot = by_patient.setdefault(ref, ([], [], set()))
        slot[0].append(admin)
        slot[1].append(j)
        if admin["encounter_id"]:
            slot[2].add(str(admin["encounter_id"]))
    encounters = {e.id: (j, e) for j, e in entries.of("Encounter")}
    if m.reasons:
        raise FhirBundleError("the MAR Bundle cannot be mapped", m.reasons)
    out = []
    for ref, (admins, positions, visits) in by_patient.items():
        found = [m.encounter(*encounters[v]) for v in sorted(visits) if v in encounters]
        doc = {"administrations": admins, "encounters": found}
        try:
            mar = _MarEntries.model_validate(doc)
        except ValidationError as exc:
            index = {
                "administrations": positions,
                "encounters": [encounters[v][0] for v in sorted(visits) if v in encounters],
            }
            raise FhirBundleError(
                "a MAR entry is not valid",
                validation_reasons(exc, _locator(index, None), own_message),
            ) from None
        out.append(PatientMar(ref, mar.administrations, mar.encounters))
    return tuple(out)


def operation_outcome(reasons: tuple[LocatedReason, ...]) -> dict[str, Any]:
    """The located reasons as a FHIR OperationOutcome (what a FHIR platform reads back for
    an invalid Bundle or a claim sent to review): one error issue per reason."""
    outcome = OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "invalid",
                    "diagnostics": r.message,
                    "expression": [r.location],
                }
                for r in reasons
            ],
        }
    )
    return dict(json.loads(outcome.model_dump_json()))
