"""The submitted claim (topic ``claims.submitted``), including its medication administration record.

Version 1. The patient appears only as a pseudonymous reference; there is no
field for a name, a date of birth or a member id, and ``extra="forbid"`` keeps
them out.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.base import (
    SCHEMA_VERSION,
    ClaimVersion,
    CodeText,
    HcpcsCode,
    Icd10Code,
    Identifier,
    Modifier,
    PlausibleDate,
    PlausibleInstant,
    ShortText,
    WireModel,
)


class ClaimType(StrEnum):
    PROFESSIONAL = "professional"  # 837P / CMS-1500
    INSTITUTIONAL = "institutional"  # 837I / UB-04


class Setting(StrEnum):
    HOSPITAL_OUTPATIENT = "hospital_outpatient"
    PHYSICIAN_OFFICE = "physician_office"
    FREESTANDING_RADIATION = "freestanding_radiation"


class Route(StrEnum):
    IV = "IV"
    SQ = "SQ"
    IM = "IM"
    IA = "IA"
    INTRALESIONAL = "INTRALESIONAL"
    INTRATHECAL_LP = "INTRATHECAL_LP"
    INTRATHECAL_RESERVOIR = "INTRATHECAL_RESERVOIR"
    PLEURAL = "PLEURAL"
    PERITONEAL = "PERITONEAL"
    INTRAVESICAL = "INTRAVESICAL"


class Technique(StrEnum):
    """The technique the nurse documented; the engine derives the billed one from the times."""

    PUSH = "PUSH"
    INFUSION = "INFUSION"
    INJECTION = "INJECTION"
    PUMP_INITIATION = "PUMP_INITIATION"
    PUMP_REFILL = "PUMP_REFILL"
    PUMP_DISCONNECT = "PUMP_DISCONNECT"
    FLUSH = "FLUSH"
    # An on-body injector applied for a timed subcutaneous injection (CPT 96377), e.g. a
    # pegfilgrastim kit that injects the next day: the MAR's drug fields give the drug.
    ON_BODY_INJECTOR = "ON_BODY_INJECTOR"


class Purpose(StrEnum):
    TREATMENT = "TREATMENT"
    VEHICLE = "VEHICLE"
    KVO = "KVO"
    FLUSH = "FLUSH"


class PumpKind(StrEnum):
    PORTABLE = "PORTABLE"
    IMPLANTABLE = "IMPLANTABLE"


class PumpSupplier(StrEnum):
    PROVIDER = "PROVIDER"
    DME = "DME"
    PATIENT = "PATIENT"


class Payer(WireModel):
    payer_id: Identifier
    name: ShortText
    plan: Identifier | None = None


class Drug(WireModel):
    name: ShortText
    hcpcs: HcpcsCode | None = None
    ndc: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]{4,5}-?[0-9]{3,4}-?[0-9]{1,2}$")] | None
    ) = None
    dose: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)]
    dose_unit: CodeText


class Hold(WireModel):
    """A documented pause in an infusion; its minutes are not counted."""

    start: PlausibleInstant
    stop: PlausibleInstant

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.stop < self.start:
            raise ValueError("hold stop is before its start")
        return self


class Pump(WireModel):
    kind: PumpKind
    planned_hours: Annotated[Decimal, Field(gt=0, le=720)] | None = None
    supplied_by: PumpSupplier | None = None


class Administration(WireModel):
    """One MAR entry: one drug given one way at one time."""

    admin_id: Identifier
    encounter_id: Identifier
    drug: Drug
    route: Route
    documented_technique: Technique | None = None
    access_site_id: Identifier | None = None
    start: PlausibleInstant
    stop: PlausibleInstant | None = None
    holds: tuple[Hold, ...] = ()
    purpose: Purpose = Purpose.TREATMENT
    order_present: bool
    indication_present: bool
    bag_id: Identifier | None = None
    pump: Pump | None = None
    separate_site_reason: ShortText | None = None
    primary_reason: bool = False
    lesion_count: Annotated[int, Field(ge=1, le=1000)] | None = None

    @model_validator(mode="after")
    def _times(self) -> Self:
        if self.stop is not None and self.stop < self.start:
            raise ValueError("administration stop is before its start")
        for hold in self.holds:
            if hold.start < self.start or (self.stop is not None and hold.stop > self.stop):
                raise ValueError("hold lies outside its administration")
        return self


class Encounter(WireModel):
    encounter_id: Identifier
    start: PlausibleInstant
    end: PlausibleInstant | None = None


class ServiceLine(WireModel):
    line_number: Annotated[int, Field(ge=1, le=999)]
    code: HcpcsCode
    modifiers: Annotated[tuple[Modifier, ...], Field(max_length=4)] = ()
    units: Annotated[Decimal, Field(gt=0, le=99999, decimal_places=3)]
    revenue_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    date_of_service: PlausibleDate
    diagnosis_pointers: Annotated[
        tuple[Annotated[int, Field(ge=1, le=12)], ...], Field(max_length=4)
    ] = ()


class SubmittedClaim(WireModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    claim_id: Identifier
    claim_version: ClaimVersion = 1
    claim_type: ClaimType
    bill_type: Annotated[str, StringConstraints(pattern=r"^0?[0-9]{3}$")] | None = None
    place_of_service: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
    setting: Setting
    payer: Payer
    patient_ref: Identifier = Field(
        description="Pseudonymous patient reference; never a name or MRN"
    )
    statement_from: PlausibleDate
    statement_to: PlausibleDate
    diagnoses: Annotated[tuple[Icd10Code, ...], Field(min_length=1, max_length=25)]
    service_lines: Annotated[tuple[ServiceLine, ...], Field(max_length=450)] = ()
    encounters: Annotated[tuple[Encounter, ...], Field(max_length=100)] = ()
    administrations: Annotated[tuple[Administration, ...], Field(max_length=500)] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.statement_to < self.statement_from:
            raise ValueError("statement_to is before statement_from")
        if self.claim_type is ClaimType.INSTITUTIONAL and self.bill_type is None:
            raise ValueError("an institutional claim needs a bill_type")
        if len({line.line_number for line in self.service_lines}) != len(self.service_lines):
            raise ValueError("service line numbers repeat")
        if len({a.admin_id for a in self.administrations}) != len(self.administrations):
            raise ValueError("administration ids repeat")
        known = {e.encounter_id for e in self.encounters}
        if known and any(a.encounter_id not in known for a in self.administrations):
            raise ValueError("an administration names an encounter the claim does not list")
        return self
