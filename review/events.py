"""The review action (topic ``claims.review-actions``): one event per thing a person did.

Chained exactly like the audit log (``worker.audit.chain``): ``seq`` and
``prev_hash`` open the event, ``prev_hash`` is the SHA-256 of the previous event's
bytes on the same partition, and each transaction writes a checkpoint
(``schemas.audit.AuditCheckpoint``) pinning the chain's head, so
``worker.audit.chain.verify`` checks this log as it checks the audit log.

Events carry the coder's edits (codes, diagnoses) and notes: claim content, so the
topic is access-controlled like the audit topic and never logged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.audit import Sha256
from schemas.base import SCHEMA_VERSION, Icd10Code, Identifier, ShortText, WireModel
from schemas.claim import ServiceLine
from schemas.decision import Correction


class ActionKind(StrEnum):
    CLAIMED = "claimed"  # assigned to the actor
    RELEASED = "released"  # back to the unassigned queue
    ACCEPTED_CORRECTION = "accepted_correction"
    EDITED = "edited"  # lines, modifiers or diagnoses
    NOTED = "noted"
    RESUBMITTED = "resubmitted"  # a new claim version sent to claims.submitted
    CLOSED = "closed"


class CloseReason(StrEnum):
    BILLED_AS_IS = "billed_as_is"
    SENT_TO_DOCUMENTATION = "sent_back_to_documentation"
    WRITTEN_OFF = "written_off"


class ReviewAction(WireModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    seq: Annotated[int, Field(ge=0)]
    prev_hash: Sha256
    action_id: Identifier
    claim_id: Identifier
    claim_version: Annotated[int, Field(ge=1)]  # the version the person acted on
    kind: ActionKind
    actor: Identifier
    role: Identifier
    at: AwareDatetime
    correction: Correction | None = None  # accepted_correction: the correction as proposed
    service_lines: tuple[ServiceLine, ...] | None = None  # edited: the lines after the edit
    diagnoses: tuple[Icd10Code, ...] | None = None  # edited: the diagnoses after the edit
    note: ShortText | None = None
    close_reason: CloseReason | None = None
    resubmitted_version: int | None = None
    resubmitted_sha256: Sha256 | None = None  # digest of the bytes sent to claims.submitted


def action_id(claim_id: str, at: datetime, nonce: str) -> str:
    """Unique per action; the nonce makes two actions in the same microsecond distinct."""
    return f"{claim_id[:24]}:{at.strftime('%Y%m%dT%H%M%S%f')}:{nonce[:12]}"
