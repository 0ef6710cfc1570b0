"""ASC X12 5010 837I/837P in: an interchange of any number of claims onto v1 claims.

    claims = parse_837(data, X12Options(patient_key=settings_key))

1. the envelopes are read and checked (``x12_envelope``): a failure raises
   ``X12EnvelopeError`` and the whole interchange is dead-lettered;
2. each claim is cut out with its provider, subscriber and patient context
   (``x12_split``) and validated by x12sdk's pydantic models of the implementation
   guide (005010X222A1 professional, 005010X223A2 institutional);
3. each claim is mapped onto ``SubmittedClaim`` (docs/ingest-mapping.md). A claim that
   fails 2 or 3 comes back with located reasons and no claim: it goes to review on its
   own while the others proceed.

An 837 carries no MAR: a claim read here has no administrations until the worker joins
the patient's MAR (FHIR ``MedicationAdministration``, ``worker.ingest.fhir``).
Names, dates of birth, member ids and addresses are read only to make the patient
reference and never leave this module otherwise.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast, get_args

from pydantic import BaseModel, ValidationError
from x12sdk.models import X12Delimiters, X12Segment
from x12sdk.parsing import X12ParseException, X12Parser, create_parser
from x12sdk.support import X12_IMPLEMENTATION_VERSIONS
from x12sdk.v5010.x12_837_005010X222A2.transaction_set import HealthCareClaimProfessional
from x12sdk.v5010.x12_837_005010X223A3.transaction_set import HealthCareClaimInstitutional

from schemas.claim import ClaimType, Setting, SubmittedClaim
from worker.ingest.patient_ref import MIN_KEY_BYTES, Dependent, normalise, patient_reference
from worker.ingest.reasons import LocatedReason, own_message, safe_message, validation_reasons
from worker.ingest.x12_envelope import X12EnvelopeError, read_interchange
from worker.ingest.x12_split import ClaimSource, split

__all__ = [
    "X12Claim",
    "X12EnvelopeError",
    "X12Options",
    "claim_type_of",
    "parse_837",
    "read_claim",
]

_MODELS: dict[str, type[BaseModel]] = {
    "005010X222A2": HealthCareClaimProfessional,
    "005010X223A3": HealthCareClaimInstitutional,
}
_TYPES = {"005010X222A2": ClaimType.PROFESSIONAL, "005010X223A3": ClaimType.INSTITUTIONAL}

# CLM05-1 facility type code -> place of service, for the outpatient bill types decided.
FACILITY_POS = {"13": "22", "14": "22", "85": "22"}
# Billing provider taxonomy (2000A PRV03) of a radiation oncology clinic/center.
RADIATION_CENTRE_TAXONOMY = "261QX0203X"
_MEDICARE_FILING = frozenset({"MA", "MB"})  # SBR09 claim filing indicator: Medicare A/B
_ICD10 = {"ABK": "principal", "ABF": "other"}
_ICD9 = frozenset({"BK", "BF"})
_identifier = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


@dataclass(frozen=True, slots=True)
class X12Options:
    patient_key: bytes  # the HMAC secret of the patient reference, from settings
    # 2010BB NM109 payer id -> the rule pack's payer id (e.g. a MAC's id -> MEDICARE).
    payer_aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.patient_key) < MIN_KEY_BYTES:
            raise ValueError(f"the patient reference key must be at least {MIN_KEY_BYTES} bytes")


@dataclass(frozen=True, slots=True)
class X12Claim:
    """One claim of an interchange: the v1 claim, or why it could not be read."""

    source: ClaimSource
    claim: SubmittedClaim | None
    reasons: tuple[LocatedReason, ...]
    claim_id: str | None  # CLM01 when it is a valid identifier, even if the claim is not
    frequency: str | None  # CLM05-3: 1 original, 7 replacement, 8 void

    @property
    def location(self) -> str:
        return self.source.location


def guide(version: str) -> str | None:
    """The x12sdk implementation guide a GS08 reads as, if it is an 837 5010 one."""
    latest = X12_IMPLEMENTATION_VERSIONS.get(version)
    return latest if latest in _MODELS else None


def claim_type_of(version: str) -> ClaimType | None:
    latest = guide(version)
    return _TYPES[latest] if latest else None


def _unwrap(annotation: Any) -> Any:
    """``Optional[List[Loop2300]]`` -> ``Loop2300``."""
    while True:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if not args:
            return annotation
        annotation = args[0]


def _walk_ids(model: type[BaseModel], out: set[str]) -> None:
    for name, info in model.model_fields.items():
        inner = _unwrap(info.annotation)
        if not isinstance(inner, type) or not issubclass(inner, BaseModel):
            continue
        if issubclass(inner, X12Segment) and name.endswith("_segment"):
            out.add(name.removesuffix("_segment").upper())
        elif not issubclass(inner, X12Segment):
            _walk_ids(inner, out)


@functools.cache
def segment_ids(version: str) -> frozenset[str] | None:
    """The segment ids an 837 of this guide may hold (from x12sdk's model), or None."""
    latest = guide(version)
    if latest is None:
        return None
    out: set[str] = set()
    _walk_ids(_MODELS[latest], out)
    return frozenset(out)


def parse_837(data: bytes | str, options: X12Options) -> tuple[X12Claim, ...]:
    """Every claim of an 837 interchange, in order; raises ``X12EnvelopeError``."""
    interchange = read_interchange(data, segment_ids)
    return tuple(read_claim(source, options) for source in split(interchange))


# --- x12sdk validation -------------------------------------------------------------------


def _element_path(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """pydantic's path in the transaction model -> ["2300", "CLM02"] style parts."""
    parts: list[str] = []
    cls: type[BaseModel] = model
    for p in loc:
        if isinstance(p, int) or p not in cls.model_fields:
            continue
        if p.startswith("loop_"):
            parts.append(p.removeprefix("loop_").upper())
        inner = _unwrap(cls.model_fields[p].annotation)
        if isinstance(inner, type) and issubclass(inner, X12Segment):
            names = [f for f in inner.model_fields if f != "delimiters"]
            seg = p.removesuffix("_segment").upper()
            nxt = loc[loc.index(p) + 1 :]
            element = next((x for x in nxt if isinstance(x, str) and x in names), None)
            parts.append(f"{seg}{names.index(element):02d}" if element else seg)
            break
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            cls = inner
    return parts


def _x12sdk_message(loc: tuple[int | str, ...], err: Any) -> str:
    # x12sdk's own checks put the values in their messages: recognise, then restate.
    text = str(err.get("msg", ""))
    if err["type"] == "value_error":
        for marker, sentence in (
            ("Claim Amount", "CLM02 does not equal the sum of the service line charges"),
            ("Invalid date", "not a valid date (CCYYMMDD, or CCYYMMDD-CCYYMMDD for RD8)"),
            ("HL", "the HL hierarchy's parent ids do not nest"),
            ("Duplicate", "a qualifier repeats where the guide allows it once"),
        ):
            if marker in text:
                return sentence
    return safe_message(err)


@functools.cache
def _layout(segment: type[X12Segment], component: str, repetition: str) -> tuple[Any, Any]:
    parser = X12Parser(
        cast(Any, HealthCareClaimProfessional),
        {},
        {"S": segment},
        X12Delimiters(component_separator=component, repetition_separator=repetition),
    )
    # the library's own computation, done once per segment model and delimiters
    return X12Parser._get_segment_field_names(parser, "S"), X12Parser._get_multivalue_fields(
        parser, "S"
    )


class _Parser(X12Parser):
    """x12sdk 2.2.0's parser, remembering each segment's field layout.

    The library derives a segment's field names and multi-value fields from its model's
    type annotations again for every segment it parses: a third of the parse time. The
    layout is fixed per segment model and delimiters, so it is computed once (by the
    library's own methods; tests/ingest/test_x12_read.py holds the two equal).
    """

    def _get_segment_field_names(self, segment_name: str) -> list[str]:
        names: list[str] = _layout(
            self._lookup_segment_model(segment_name),
            self._delimiters.component_separator,
            self._delimiters.repetition_separator,
        )[0]
        return names

    def _get_multivalue_fields(self, segment_name: str) -> dict[str, str]:
        fields: dict[str, str] = _layout(
            self._lookup_segment_model(segment_name),
            self._delimiters.component_separator,
            self._delimiters.repetition_separator,
        )[1]
        return fields


def parser_for(source: ClaimSource) -> X12Parser:
    d = source.delimiters
    base = create_parser(
        "837",
        source.version,
        X12Delimiters(
            element_separator=d.element,
            repetition_separator=d.repetition,
            segment_terminator=d.segment,
            component_separator=d.component,
        ),
    )
    return _Parser(
        base._transaction_model, base._loop_parsers, base._segment_models, base._delimiters
    )


def _model(source: ClaimSource) -> tuple[Any, tuple[LocatedReason, ...]]:
    parser = parser_for(source)
    model_cls = _MODELS[guide(source.version) or ""]
    seg = source.st
    try:
        model = None
        for seg in source.segments():
            model = parser.parse(seg.id, list(seg.elements)) or model
    except ValidationError as exc:

        def locate(loc: tuple[int | str, ...]) -> str:
            return " ".join([source.location, *_element_path(model_cls, loc)])

        return None, validation_reasons(exc, locate, _x12sdk_message)
    except X12ParseException:
        where = f"{source.location} {seg.where()}"
        return None, (LocatedReason(where, "more elements than the segment defines"),)
    except Exception:  # x12sdk's loop parsers fail on segments out of the guide's order
        where = f"{source.location} {seg.where()}"
        return None, (LocatedReason(where, "the segment is not where the guide places it"),)
    return model, ()


# --- mapping onto the v1 claim -----------------------------------------------------------


def dotted(code: str) -> str:
    """ICD-10-CM as the v1 claim writes it: X12 drops the decimal point (C50911 -> C50.911)."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 and "." not in code else code


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _range(value: Any) -> tuple[date, date] | None:
    """A D8 date (parsed by x12sdk) or an RD8 ``CCYYMMDD-CCYYMMDD`` range."""
    day = _day(value)
    if day is not None:
        return day, day
    if isinstance(value, str) and re.fullmatch(r"\d{8}-\d{8}", value):
        a, b = value.split("-")
        try:
            return datetime.strptime(a, "%Y%m%d").date(), datetime.strptime(b, "%Y%m%d").date()
        except ValueError:
            return None
    return None


class _Mapper:
    def __init__(self, source: ClaimSource, model: Any, options: X12Options) -> None:
        self.source = source
        self.options = options
        self.reasons: list[LocatedReason] = []
        self.institutional = claim_type_of(source.version) is ClaimType.INSTITUTIONAL
        a = model.loop_2000a[0]
        b = a.loop_2000b[0]
        c = b.loop_2000c[0] if b.loop_2000c else None
        self.provider, self.subscriber, self.patient = a, b, c
        self.clm_loop = (c.loop_2300 if c is not None else b.loop_2300)[0]
        self.component = source.delimiters.component
        self.lx_positions = [s.position for s in source.claim if s.id == "LX"]

    def problem(self, where: str, message: str) -> None:
        self.reasons.append(LocatedReason(f"{self.source.location} {where}", message))

    def composite(self, value: str | None) -> list[str]:
        return value.split(self.component) if value else []

    # claim level

    def claim_id(self) -> str | None:
        value = self.clm_loop.clm_segment.patient_control_number
        return value if isinstance(value, str) and _identifier.match(value) else None

    def clm05(self) -> list[str]:
        parts = self.composite(self.clm_loop.clm_segment.health_care_service_location_information)
        return parts + [""] * (3 - len(parts))

    def setting(self, pos: str) -> Setting:
        if self.institutional or pos in ("19", "22"):
            return Setting.HOSPITAL_OUTPATIENT
        prv = self.provider.prv_segment
        if prv is not None and prv.reference_identification == RADIATION_CENTRE_TAXONOMY:
            return Setting.FREESTANDING_RADIATION
        return Setting.PHYSICIAN_OFFICE

    def payer(self) -> dict[str, Any]:
        nm1 = self.subscriber.loop_2010bb.nm1_segment
        sbr = self.subscriber.sbr_segment
        raw_id = nm1.identification_code or ""
        payer_id = self.options.payer_aliases.get(raw_id)
        if payer_id is None:
            filing = sbr.claim_filing_indicator_code
            payer_id = "MEDICARE" if filing in _MEDICARE_FILING else raw_id
        if not _identifier.match(payer_id):
            self.problem(
                "loop 2010BB NM109",
                "the payer id is not an identifier (letters, digits, '.', '_', ':', '-')",
            )
        return {
            "payer_id": payer_id,
            "name": nm1.name_last_or_organization_name,
            "plan": sbr.claim_filing_indicator_code,
        }

    def patient_ref(self) -> str:
        payer_id = self.subscriber.loop_2010bb.nm1_segment.identification_code or ""
        member_id = self.subscriber.loop_2010ba.nm1_segment.identification_code or ""
        dependent = None
        if not normalise(payer_id):
            self.problem("loop 2010BB NM109", "the payer id is missing")
        if not normalise(member_id):
            self.problem("loop 2010BA NM109", "the member id is missing")
        if self.patient is not None:
            ca = self.patient.loop_2010ca
            born = _day(ca.dmg_segment.date_time_period)
            if born is None or not normalise(ca.nm1_segment.name_first or ""):
                self.problem(
                    "loop 2010CA",
                    "a dependent's date of birth (DMG02) and first "
                    "name (NM104) are needed for the patient reference",
                )
            else:
                dependent = Dependent(born, ca.nm1_segment.name_first or "")
        if self.reasons:
            return "PR1-unknown"
        return patient_reference(self.options.patient_key, payer_id, member_id, dependent)

    def diagnoses(self) -> list[str]:
        codes: list[str] = []
        principal_seen = False
        for hi in self.clm_loop.hi_segment or []:
            for n in range(1, 13):
                value = getattr(hi, f"health_care_code_{n}")
                if not value:
                    continue
                qualifier, code = value[0], value[1] if len(value) > 1 else ""
                if qualifier in _ICD9:
                    self.problem(
                        f"loop 2300 HI{n:02d}-1",
                        "ICD-9-CM qualifier (BK/BF): 5010 claims carry ICD-10-CM (ABK/ABF)",
                    )
                elif qualifier in _ICD10:
                    if qualifier == "ABK":
                        if principal_seen or codes:
                            self.problem(
                                f"loop 2300 HI{n:02d}-1",
                                "the principal diagnosis (ABK) must come first, once",
                            )
                        principal_seen = True
                    codes.append(dotted(code))
        if codes and not principal_seen:
            self.problem("loop 2300 HI01-1", "no principal diagnosis (ABK)")
        return codes

    def statement(self, lines: list[dict[str, Any]]) -> tuple[date | None, date | None]:
        if self.institutional:
            for dtp in self.clm_loop.dtp_segment or []:
                if dtp.date_time_qualifier == "434":
                    span = _range(dtp.date_time_period)
                    if span is None:
                        self.problem("loop 2300 DTP*434 DTP03", "not a valid date range")
                        return None, None
                    return span
            self.problem("loop 2300 DTP*434", "the statement dates (DTP*434) are missing")
            return None, None
        days = [x["date_of_service"] for x in lines if x.get("date_of_service")]
        return (min(days), max(days)) if days else (None, None)

    # service lines

    def lines(self, pos: str, statement: tuple[date | None, date | None]) -> list[dict[str, Any]]:
        out = []
        for i, loop in enumerate(self.clm_loop.loop_2400):
            where = (
                f"loop 2400 (segment {self.lx_positions[i]})"
                if i < len(self.lx_positions)
                else "loop 2400"
            )
            line = self.line(loop, where, pos, statement)
            if line is not None:
                out.append(line)
        return out

    def line(
        self, loop: Any, where: str, pos: str, statement: tuple[date | None, date | None]
    ) -> dict[str, Any] | None:
        number = int(loop.lx_segment.assigned_number)
        if self.institutional:
            sv = loop.sv2_segment
            procedure = self.composite(sv.composite_medical_procedure_identifier)
            if not procedure:
                return None  # a revenue-code-only line: kept in the 837, not decided
            element, unit_basis, pointers = "SV202", sv.measurement_code, []
            revenue = sv.service_line_revenue_code
            dtps = [loop.dtp_segment] if loop.dtp_segment is not None else []
        else:
            sv = loop.sv1_segment
            procedure = self.composite(sv.product_service_id_qualifier)
            element, unit_basis, revenue = "SV101", sv.unit_basis_measurement_code, None
            pointers = self.composite(sv.composite_diagnosis_code_pointer)
            if sv.place_of_service_code and sv.place_of_service_code != pos:
                self.problem(
                    f"{where} SV105",
                    "a line's place of service differs from "
                    "CLM05-1: a claim with several places is not decided",
                )
            dtps = list(loop.dtp_segment or [])
        if procedure[0] != "HC":
            self.problem(f"{where} {element}-1", "the procedure is not a HCPCS/CPT code (HC)")
            return None
        if unit_basis not in ("UN", None):
            self.problem(
                f"{where} {element[:3]}{int(element[3:]) + 2:02d}",
                "units are not UN (service units)",
            )
        day = None
        for dtp in dtps:
            if dtp.date_time_qualifier == "472":
                span = _range(dtp.date_time_period)
                if span is None or span[0] != span[1]:
                    self.problem(f"{where} DTP*472", "the service date is not one day")
                    return None
                day = span[0]
        if day is None and statement[0] is not None and statement[0] == statement[1]:
            day = statement[0]
        if day is None:
            self.problem(f"{where} DTP*472", "the service date is missing")
            return None
        try:
            pointer_numbers = [int(p) for p in pointers if p]
        except ValueError:
            self.problem(f"{where} SV107", "a diagnosis pointer is not a number")
            pointer_numbers = []
        return {
            "line_number": number,
            "code": procedure[1] if len(procedure) > 1 else "",
            "modifiers": [m for m in procedure[2:6] if m],
            "units": sv.service_unit_count,
            "revenue_code": revenue,
            "date_of_service": day,
            "diagnosis_pointers": pointer_numbers,
        }

    def claim(self) -> dict[str, Any]:
        kind, qualifier, frequency = self.clm05()
        if not (len(frequency) == 1 and frequency.isdigit()):
            self.problem("loop 2300 CLM05-3", "the claim frequency code is not one digit")
        if self.institutional:
            if qualifier != "A" or kind not in FACILITY_POS:
                self.problem(
                    "loop 2300 CLM05",
                    "not an outpatient hospital bill type "
                    f"(facility type {', '.join(sorted(FACILITY_POS))}, qualifier "
                    "A)",
                )
            pos, bill_type = FACILITY_POS.get(kind, ""), f"0{kind}{frequency}"
        else:
            if qualifier != "B":
                self.problem("loop 2300 CLM05-2", "the place of service qualifier is not B")
            pos, bill_type = kind, None
        days: tuple[date | None, date | None] = (None, None)
        if self.institutional:
            days = self.statement([])
        lines = self.lines(pos, days)
        if not self.institutional:
            days = self.statement(lines)
        return {
            "claim_id": self.clm_loop.clm_segment.patient_control_number,
            "claim_type": ClaimType.INSTITUTIONAL if self.institutional else ClaimType.PROFESSIONAL,
            "bill_type": bill_type,
            "place_of_service": pos,
            "setting": self.setting(pos),
            "payer": self.payer(),
            "patient_ref": self.patient_ref(),
            "statement_from": days[0],
            "statement_to": days[1],
            "diagnoses": self.diagnoses(),
            "service_lines": lines,
        }


def _claim_location(mapper: _Mapper, loc: tuple[int | str, ...], doc: dict[str, Any]) -> str:
    """Our field's path -> where the 837 holds it."""
    top = str(loc[0]) if loc else ""
    base = mapper.source.location
    if top == "service_lines" and len(loc) > 1 and isinstance(loc[1], int):
        lines = doc["service_lines"]
        number = lines[loc[1]]["line_number"] if loc[1] < len(lines) else None
        sv = "SV2" if mapper.institutional else "SV1"
        element = {
            "code": f"{sv}{'02' if mapper.institutional else '01'}-2",
            "modifiers": f"{sv}{'02' if mapper.institutional else '01'}-3",
            "units": f"{sv}{'05' if mapper.institutional else '04'}",
            "revenue_code": "SV201",
            "date_of_service": "DTP*472",
            "diagnosis_pointers": "SV107",
        }.get(str(loc[2]) if len(loc) > 2 else "", sv)
        return f"{base} loop 2400 (LX {number}) {element}"
    where = {
        "claim_id": "loop 2300 CLM01",
        "bill_type": "loop 2300 CLM05",
        "place_of_service": "loop 2300 CLM05-1",
        "payer": "loop 2010BB NM1",
        "patient_ref": "loop 2010BA NM109",
        "statement_from": "loop 2300 DTP*434" if mapper.institutional else "loop 2400 DTP*472",
        "statement_to": "loop 2300 DTP*434" if mapper.institutional else "loop 2400 DTP*472",
        "diagnoses": "loop 2300 HI",
        "service_lines": "loop 2400",
    }.get(top, "loop 2300")
    return f"{base} {where}"


def read_claim(source: ClaimSource, options: X12Options) -> X12Claim:
    """One claim cut out of an interchange, validated and mapped."""
    model, reasons = _model(source)
    if model is None:
        return X12Claim(source, None, reasons, None, None)
    mapper = _Mapper(source, model, options)
    claim_id = mapper.claim_id()
    frequency = mapper.clm05()[2] or None
    doc = mapper.claim()
    if claim_id is None:
        mapper.problem(
            "loop 2300 CLM01",
            "the patient control number is not an identifier "
            "(letters, digits, '.', '_', ':', '-'; at most 64)",
        )
    if mapper.reasons:
        return X12Claim(source, None, tuple(mapper.reasons), claim_id, frequency)
    try:
        claim = SubmittedClaim.model_validate(doc)
    except ValidationError as exc:
        found = validation_reasons(exc, lambda loc: _claim_location(mapper, loc, doc), own_message)
        return X12Claim(source, None, found, claim_id, frequency)
    return X12Claim(source, claim, (), claim_id, frequency)
