"""Wire contracts of the oncology claim scrubber (pydantic v2, schema version 1).

Every message on every topic is one of the models exported here. JSON Schema
files generated from them live in ``schemas/json`` (``python -m schemas.export``).
"""

from schemas.audit import (
    GENESIS_HASH,
    AuditArchival,
    AuditCheckpoint,
    AuditEvent,
    Outcome,
    SourceRef,
)
from schemas.audit_seal import CheckpointSignature, SignedCheckpoint
from schemas.base import SCHEMA_VERSION, WireModel
from schemas.claim import (
    Administration,
    ClaimType,
    Drug,
    Encounter,
    Hold,
    Payer,
    Pump,
    PumpKind,
    PumpSupplier,
    Purpose,
    Route,
    ServiceLine,
    Setting,
    SubmittedClaim,
    Technique,
)
from schemas.decision import (
    Citation,
    ComputedLine,
    Confidence,
    Finding,
    ReasonCode,
    ReviewReason,
    ReviewRequest,
    RulePackRef,
    ScrubbedClaim,
    Severity,
)

__all__ = [
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "Administration",
    "AuditArchival",
    "AuditCheckpoint",
    "AuditEvent",
    "CheckpointSignature",
    "Citation",
    "ClaimType",
    "ComputedLine",
    "Confidence",
    "Drug",
    "Encounter",
    "Finding",
    "Hold",
    "Outcome",
    "Payer",
    "Pump",
    "PumpKind",
    "PumpSupplier",
    "Purpose",
    "ReasonCode",
    "ReviewReason",
    "ReviewRequest",
    "Route",
    "RulePackRef",
    "ScrubbedClaim",
    "ServiceLine",
    "Setting",
    "Severity",
    "SignedCheckpoint",
    "SourceRef",
    "SubmittedClaim",
    "Technique",
    "WireModel",
]
