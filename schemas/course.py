"""A patient's radiation-oncology courses as the course store keeps them (issue 13).

The store holds one ``PatientCourses`` per pseudonymous patient: what each claim version
contributed (its radiation-oncology lines and the course findings last reported for it) and
the closed courses, compacted. Courses themselves are not stored: ``rules.courses`` delimits
them from the services each time, so the same contributions give the same courses whatever
order the claims arrived in. ``CourseCorrection`` says that a later claim changed an earlier
claim's course findings; ``CourseView`` is one course's timeline, for people.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from schemas.base import (
    SCHEMA_VERSION,
    ClaimVersion,
    HcpcsCode,
    Icd10Code,
    Identifier,
    Modifier,
    PlausibleDate,
    WireModel,
)
from schemas.claim import ClaimType, Setting
from schemas.decision import Finding

# The patient reference and the course's first date of service: deterministic, never random.
CourseId = Annotated[
    str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]


class BillingPart(StrEnum):
    """Which component of a service a line bills: a hospital's claim the technical one, a
    physician's claim in a facility the professional one (or modifier 26), a freestanding
    centre's or office claim both (global billing)."""

    TECHNICAL = "technical"
    PROFESSIONAL = "professional"
    GLOBAL = "global"  # both components (timelines only; checks count each component)


class CourseService(WireModel):
    """One radiation-oncology line of a claim, as billed."""

    line_number: Annotated[int, Field(ge=1, le=999)]
    code: HcpcsCode
    units: Annotated[Decimal, Field(gt=0, le=99999, decimal_places=3)]
    modifiers: Annotated[tuple[Modifier, ...], Field(max_length=4)] = ()
    date_of_service: PlausibleDate


class CourseClaim(WireModel):
    """One claim version's contribution to its patient's courses.

    ``findings``: the course findings last reported for this claim (in its decision or in a
    correction). ``compacted``: the claim belongs to a closed course and was compacted (its
    lines folded by date, code and billing part, its findings dropped); it still counts, but is
    never corrected again.
    """

    claim_id: Identifier
    claim_version: ClaimVersion
    claim_type: ClaimType
    setting: Setting
    place_of_service: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
    payer_id: Identifier
    plan: Identifier | None = None
    diagnoses: Annotated[tuple[Icd10Code, ...], Field(min_length=1, max_length=25)]
    services: Annotated[tuple[CourseService, ...], Field(min_length=1, max_length=450)]
    findings: tuple[Finding, ...] = ()
    compacted: bool = False


class ClosedCourse(WireModel):
    """A course with no service for longer than the course gap, compacted."""

    course_id: CourseId
    first_date: PlausibleDate
    last_date: PlausibleDate
    claims: Annotated[tuple[CourseClaim, ...], Field(min_length=1)]


class PatientCourses(WireModel):
    """The store's value for one patient: the open courses' claims and the closed courses."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    patient_ref: Identifier
    claims: tuple[CourseClaim, ...] = ()
    closed: tuple[ClosedCourse, ...] = ()

    @model_validator(mode="after")
    def _one_contribution_per_claim(self) -> Self:
        ids = [c.claim_id for c in self.claims] + [
            c.claim_id for course in self.closed for c in course.claims
        ]
        if len(set(ids)) != len(ids):
            raise ValueError("a claim contributes to the patient's courses more than once")
        return self


class CourseCorrection(WireModel):
    """A later claim (the trigger) changed the course findings of an earlier claim."""

    claim_id: Identifier
    claim_version: ClaimVersion
    course_id: CourseId
    before: tuple[Finding, ...]
    after: tuple[Finding, ...]
    trigger_claim_id: Identifier
    trigger_claim_version: ClaimVersion


class PhaseSeen(WireModel):
    phase: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    first_date: PlausibleDate


class BilledUnits(WireModel):
    """Units of a code one billing part billed across the course, and what the course allows."""

    part: BillingPart
    billed: int
    allowed: int


class ClaimRef(WireModel):
    claim_id: Identifier
    claim_version: ClaimVersion


class CourseView(WireModel):
    """One course's timeline: ``oncoscrub course show``."""

    course_id: CourseId
    first_date: PlausibleDate
    last_date: PlausibleDate
    closed: bool
    phases: tuple[PhaseSeen, ...]
    fractions: int
    weekly_management: tuple[BilledUnits, ...]  # 77427 (spec 7.2)
    physics: tuple[BilledUnits, ...]  # 77336, once per five fractions
    claims: tuple[ClaimRef, ...]
