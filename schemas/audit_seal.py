"""A signed audit checkpoint: a line of a checkpoint file (``<audit file>.checkpoints``).

The signature is Ed25519 over ``SIGNED_PREFIX`` followed by the checkpoint as compact
JSON, fields in order, exactly as it appears in the line (``jq -jc .checkpoint``). The
prefix keeps a signature over a checkpoint from being valid for anything else.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.audit import AuditCheckpoint, Sha256
from schemas.base import SCHEMA_VERSION, WireModel

SIGNED_PREFIX = b"oncoscrub-audit-checkpoint-v1\n"


class CheckpointSignature(WireModel):
    algorithm: Literal["ed25519"] = "ed25519"
    key_id: Sha256  # SHA-256 of the raw 32-byte public key
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{86}==$")]  # base64 of 64 bytes


class SignedCheckpoint(WireModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    kind: Literal["signed-checkpoint"] = "signed-checkpoint"
    checkpoint: AuditCheckpoint
    signature: CheckpointSignature

    @staticmethod
    def message(checkpoint: AuditCheckpoint) -> bytes:
        """The bytes the signature covers."""
        return SIGNED_PREFIX + checkpoint.model_dump_json().encode()
