"""The audit event (topic ``claims.audit``): one per input record, written in the
same Kafka transaction as the decision it records.

It holds the full input so a past decision can be replayed. That makes the
audit topic patient data: it is access-controlled and never logged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.base import SCHEMA_VERSION, Identifier, WireModel
from schemas.decision import ReasonCode, RulePackRef

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Outcome(StrEnum):
    SCRUBBED = "scrubbed"
    NEEDS_REVIEW = "needs_review"
    DEAD_LETTER = "dead_letter"


class SourceRef(WireModel):
    topic: str
    partition: int
    offset: int


GENESIS_HASH = "0" * 64


def _absent(value: object) -> bool:
    return value is None


class AuditEvent(WireModel):
    """One decision. ``seq`` and ``prev_hash`` chain the events of one audit partition:
    ``prev_hash`` is the SHA-256 of the previous event's exact bytes (``GENESIS_HASH``
    for ``seq`` 0), so altering, dropping, inserting or reordering an event breaks the
    chain at the next one. They come first so a verifier reads them without parsing
    the whole event."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    seq: Annotated[int, Field(ge=0)]
    prev_hash: Sha256
    event_id: str  # "<topic>:<partition>:<offset>" of the input: unique and stable on retry
    claim_id: Identifier | None
    claim_version: int | None
    source: SourceRef
    input_sha256: Sha256
    input_b64: str | None  # None when the input was too large: it is in the dead-letter topic
    outcome: Outcome
    output_topic: str
    output_sha256: Sha256
    reasons: tuple[ReasonCode, ...] = ()
    rule_ids: tuple[str, ...] = ()
    rule_pack: RulePackRef
    engine_version: str
    worker_id: str
    event_time: AwareDatetime | None = None  # when the claim was published (record timestamp)
    decided_at: AwareDatetime
    # With the course store (issue 13): the patient's course state the claim was decided
    # against (``schemas.course.PatientCourses`` as JSON, base64), so that replay decides it
    # again exactly. Absent, not null, when there was none: events decided without the course
    # store keep their bytes.
    course_context_b64: str | None = Field(default=None, exclude_if=_absent)
    # A correction (reason ``course_correction``): the event id of the decision whose arrival
    # changed this claim's course findings. The correction is re-derived from that decision.
    trigger_event_id: str | None = Field(default=None, exclude_if=_absent)
    # A claim that came in as X12 or FHIR (issue 14): the claim as it came (a one-claim 837
    # interchange or the FHIR Bundle), base64. ``input_b64`` holds the v1 JSON decided. Patient
    # data like ``input_b64``: it carries names, member ids and birth dates.
    source_b64: str | None = Field(default=None, exclude_if=_absent)
    # With the MAR join (issue 14): the claim was decided without (all of) its MAR (finding
    # MAR-W1); replay decides it so again. Absent otherwise.
    awaiting_mar: bool | None = Field(default=None, exclude_if=_absent)
    # A correction made when the claim's MAR arrived: the event id of the decision it replaces
    # (the body says so too). Absent on a first decision.
    supersedes: str | None = Field(default=None, exclude_if=_absent)


class AuditCheckpoint(WireModel):
    """Topic ``claims.audit-checkpoints``: the head of one audit partition's chain,
    written in the same transaction as the events it covers. An outside party that
    keeps these can detect a truncated or rewritten log."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    partition: Annotated[int, Field(ge=0)]
    events: Annotated[int, Field(ge=1)]  # events in the chain so far (last seq + 1)
    head_sha256: Sha256  # SHA-256 of the event with seq == events - 1
    worker_id: str
    at: AwareDatetime


class AuditArchival(WireModel):
    """Topic ``claims.audit-checkpoints``: the head of one audit partition's chain was
    archived. The events before ``first_kept_seq`` (at audit offsets before
    ``first_kept_offset``) were exported (``archive_sha256`` is the digest of the
    exported file) and then deleted from the audit topic. Written before the deletion,
    so the head of a chain is never gone without a record of it: a verifier starts the
    chain at ``first_kept_seq``, linked to ``last_archived_sha256``, the hash of the last
    archived event, and checks the archive on its own against this same record."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    kind: Literal["archival"] = "archival"
    partition: Annotated[int, Field(ge=0)]
    first_kept_seq: Annotated[int, Field(ge=1)]
    first_kept_offset: Annotated[int, Field(ge=0)]
    last_archived_sha256: Sha256
    archived_events: Annotated[int, Field(ge=1)]  # in this archive (earlier ones: earlier records)
    archive_sha256: Sha256
    archive_name: Annotated[str, Field(min_length=1, max_length=200)]
    archived_by: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    at: AwareDatetime
