"""What the scrubber decides: the scrubbed claim and the review request.

Both carry the same explanation objects (findings and computed lines) so a
coder sees the same reasons whichever topic a claim lands on.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from schemas.base import (
    SCHEMA_VERSION,
    HcpcsCode,
    Icd10Code,
    Identifier,
    Modifier,
    ShortText,
    WireModel,
)
from schemas.claim import SubmittedClaim


class Severity(StrEnum):
    ERROR = "error"  # sends the claim to review
    WARNING = "warning"
    INFO = "info"


class Confidence(StrEnum):
    """The spec's tags (section 0.1). NC findings never auto-correct or auto-deny."""

    HIGH = "H"
    MEDIUM = "M"
    LOW = "L"
    NEEDS_CONFIRMATION = "NC"


class Citation(WireModel):
    source: ShortText  # e.g. "S1" or "CMS NCCI PTP edits, I/OCE 27.1"
    section: ShortText | None = None
    url: Annotated[str, Field(max_length=500)] | None = None


class Finding(WireModel):
    rule_id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_-]{1,31}$")]
    severity: Severity
    message: ShortText
    citations: tuple[Citation, ...] = ()
    confidence: Confidence
    line_numbers: tuple[int, ...] = ()
    admin_ids: tuple[Identifier, ...] = ()
    codes: tuple[HcpcsCode, ...] = ()  # the codes involved, computed lines included
    suggested_correction: ShortText | None = None


class CorrectionAction(StrEnum):
    REMOVE_LINE = "remove_line"
    RESEQUENCE_DIAGNOSES = "resequence_diagnoses"


class Correction(WireModel):
    """A change whose fix is certain (never from an NC rule).

    On ``claims.scrubbed`` it has been applied to the lines a payer should receive; on
    ``claims.needs-review`` it is proposed alongside the errors a person must resolve.
    """

    rule_id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_-]{1,31}$")]
    action: CorrectionAction
    line_numbers: tuple[int, ...] = ()
    codes: tuple[HcpcsCode, ...] = ()
    diagnoses: tuple[Icd10Code, ...] = ()  # the new order, for a resequencing
    reason: ShortText
    policy_id: Identifier | None = None  # the payer policy row that made it certain


class ComputedLine(WireModel):
    """A code the engine derived from the MAR, with how it got there."""

    code: HcpcsCode
    units: Annotated[Decimal, Field(gt=0)]
    modifiers: tuple[Modifier, ...] = ()
    date_of_service: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    admin_ids: tuple[Identifier, ...] = ()
    rule_ids: tuple[str, ...] = ()
    minutes: int | None = None
    reason: ShortText


class RulePackRef(WireModel):
    """Which rules decided: name, version and the content hash of the data."""

    name: Identifier
    version: Identifier
    content_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class ReasonCode(StrEnum):
    """Machine-readable reasons a claim did not go straight through."""

    OVERSIZED = "oversized"
    NOT_UTF8_JSON = "not_json"
    NESTED_TOO_DEEP = "nested_too_deep"  # JSON nested beyond the parser's bound
    NOT_AN_OBJECT = "not_an_object"
    SCHEMA_INVALID = "schema_invalid"
    ENGINE_ERROR = "engine_error"
    FINDING = "finding"
    # Decided by the worker's guards, not by the rules: a person decides instead.
    OVER_TIME_BUDGET = "over_time_budget"  # deciding took longer than the per-record budget
    DECIDER_LOST = "decider_lost"  # the process deciding the record died
    DECISION_TOO_LARGE = "decision_too_large"  # the decision would not fit its topic
    # A later claim of the same radiation-oncology course changed this claim's course findings.
    COURSE_CORRECTION = "course_correction"
    # Claims as platforms send them (issue 14).
    X12_ENVELOPE = "x12_envelope"  # the interchange fails an envelope or syntax check: dead letter
    X12_CLAIM_INVALID = "x12_claim_invalid"  # one claim of a good interchange cannot be read
    FHIR_INVALID = "fhir_invalid"  # the FHIR Bundle is invalid or cannot be mapped: dead letter
    UNKNOWN_FORMAT = "unknown_format"  # neither JSON v1, X12 nor FHIR
    PATIENT_KEY_UNSET = "patient_key_unset"  # X12/FHIR input, but no patient reference key


class ReviewReason(WireModel):
    code: ReasonCode
    message: ShortText
    location: Annotated[str, Field(max_length=200)] | None = None
    rule_id: str | None = None


def _absent(value: object) -> bool:
    return value is None


class ScrubbedClaim(WireModel):
    """Topic ``claims.scrubbed``: the claim passed; findings are warnings or info only."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    claim_id: Identifier
    claim_version: int
    claim: SubmittedClaim
    computed_lines: tuple[ComputedLine, ...] = ()
    findings: tuple[Finding, ...] = ()
    corrections: tuple[Correction, ...] = ()
    rule_pack: RulePackRef
    engine_version: str
    # A claim that came in as an X12 837: the corrected claim as a one-claim 837 interchange,
    # ready for the clearinghouse. Absent, not null, otherwise: JSON decisions keep their bytes.
    corrected_x12: str | None = Field(default=None, exclude_if=_absent)
    # A correction: this decision replaces the one with this audit event id (the claim was
    # decided again when its MAR arrived). Absent on a first decision.
    supersedes: str | None = Field(default=None, exclude_if=_absent)


class CourseChange(WireModel):
    """What a course correction changes: the claim's course findings were ``before`` (the
    request's ``findings`` are what they are now), changed by the arrival of the trigger."""

    course_id: str
    trigger_claim_id: Identifier
    trigger_claim_version: int
    before: tuple[Finding, ...] = ()


class X12Location(WireModel):
    """Where in an 837 a finding points. ``position`` counts segments from ISA = 1 in the
    one-claim interchange the audit event keeps (``source_b64``)."""

    rule_id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_-]{1,31}$")]
    loop: Annotated[str, Field(pattern=r"^[0-9]{4}[A-C]?$")]
    segment: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,2}$")]
    position: Annotated[int, Field(ge=1)] | None = None
    element: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,2}[0-9]{2}(-[0-9]{1,2})?$")] | None = (
        None
    )


class ReviewRequest(WireModel):
    """Topic ``claims.needs-review``: a person must look, and here is why.

    ``claim`` is present when the input was a valid claim; otherwise
    ``original_b64`` holds the submitted bytes so nothing is lost.
    """

    schema_version: Literal["1"] = SCHEMA_VERSION
    claim_id: Identifier | None
    claim_version: int | None
    reasons: Annotated[tuple[ReviewReason, ...], Field(min_length=1)]
    claim: SubmittedClaim | None = None
    original_b64: str | None = None
    computed_lines: tuple[ComputedLine, ...] = ()
    findings: tuple[Finding, ...] = ()
    corrections: tuple[Correction, ...] = ()
    rule_pack: RulePackRef
    engine_version: str
    # Present only on a course correction (reason ``course_correction``): no claim travels with
    # it; the claim is the one decided earlier under the same claim id and version.
    course_change: CourseChange | None = Field(default=None, exclude_if=_absent)
    # A claim that came in as an X12 837: for each finding, in order, where it points.
    x12_locations: tuple[X12Location, ...] | None = Field(default=None, exclude_if=_absent)
    supersedes: str | None = Field(default=None, exclude_if=_absent)  # as on ScrubbedClaim
