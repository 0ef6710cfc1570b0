"""Sealed audit files: the checkpoints that pin the tail of a file's chains, kept beside it.

A hash chain alone shows that no event was changed, dropped or reordered *before* the
last one; only a record of where the chain ended shows the tail is whole. Batch mode
(``oncoscrub scrub --audit OUT``) writes ``OUT.checkpoints``: one checkpoint per chain
(its length and the hash of its last event), signed with Ed25519 when a key is
configured. ``audit verify`` reads the checkpoints beside a file, or an export's
``checkpoints.jsonl``, fails on a tail that differs from them or a signature that does
not hold, and warns about a chain whose tail nothing pins.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from schemas.audit import AuditArchival, AuditCheckpoint
from schemas.audit_seal import CheckpointSignature, SignedCheckpoint
from worker.audit.chain import ChainHead
from worker.audit.signing import Signer, key_id, signature_holds
from worker.private_files import open_private

SUFFIX = ".checkpoints"
EXPORT_CHECKPOINTS = "checkpoints.jsonl"  # in an export or archive directory


class CheckpointFileError(ValueError):
    """A checkpoint file that cannot be read: the message gives its file and line."""


@dataclass(frozen=True, slots=True)
class Pin:
    """A checkpoint or archival record as read, where it was read, and its signature."""

    record: AuditCheckpoint | AuditArchival
    where: str
    signature: CheckpointSignature | None = None


def checkpoints_path(audit_file: Path) -> Path:
    return audit_file.with_name(audit_file.name + SUFFIX)


def checkpoint_of(
    head: ChainHead, partition: int, worker_id: str, at: datetime
) -> AuditCheckpoint | None:
    """The checkpoint pinning a chain that stands at ``head`` (None: the chain is empty)."""
    if head.seq == 0:
        return None
    return AuditCheckpoint(
        partition=partition, events=head.seq, head_sha256=head.prev_hash, worker_id=worker_id, at=at
    )


def sealed_line(checkpoint: AuditCheckpoint, signer: Signer | None) -> bytes:
    if signer is None:
        return checkpoint.model_dump_json().encode()
    signature = CheckpointSignature(
        key_id=signer.key_id, value=signer.sign(SignedCheckpoint.message(checkpoint))
    )
    return SignedCheckpoint(checkpoint=checkpoint, signature=signature).model_dump_json().encode()


def write_checkpoints(
    path: Path, checkpoints: Iterable[AuditCheckpoint], signer: Signer | None
) -> None:
    """Write the checkpoint file (0600), durably: call it once the audit file is synced."""
    with open_private(path) as f:
        for checkpoint in checkpoints:
            f.write(sealed_line(checkpoint, signer) + b"\n")
        f.flush()
        os.fsync(f.fileno())


def read_pins(path: Path) -> list[Pin]:
    """Every checkpoint of a checkpoint file: plain, signed, or an archival record."""
    pins: list[Pin] = []
    for n, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            if b'"kind":"signed-checkpoint"' in line:
                signed = SignedCheckpoint.model_validate_json(line)
                pins.append(Pin(signed.checkpoint, where, signed.signature))
            elif b'"kind":"archival"' in line:
                pins.append(Pin(AuditArchival.model_validate_json(line), where))
            else:
                pins.append(Pin(AuditCheckpoint.model_validate_json(line), where))
        except ValidationError:
            raise CheckpointFileError(f"{where}: not a checkpoint or archival record") from None
    return pins


def pins_beside(paths: Sequence[Path]) -> list[Pin]:
    """The checkpoints that travel with audit files: ``<file>.checkpoints`` beside a file,
    ``checkpoints.jsonl`` in an export directory."""
    pins: list[Pin] = []
    for path in paths:
        kept = path / EXPORT_CHECKPOINTS if path.is_dir() else checkpoints_path(path)
        if kept.exists():
            pins += read_pins(kept)
    return pins


def signature_problems(pins: Iterable[Pin], public: Ed25519PublicKey) -> list[str]:
    """Each checkpoint not signed by ``public``'s key (unsigned, another key, bad), located."""
    expected = key_id(public)
    problems = []
    for pin in pins:
        record = pin.record
        if pin.signature is None or isinstance(record, AuditArchival):
            problems.append(f"{pin.where}: partition {record.partition}: not signed")
        elif pin.signature.key_id != expected:
            problems.append(
                f"{pin.where}: partition {record.partition}: signed by another key "
                f"({pin.signature.key_id[:16]}…)"
            )
        elif not signature_holds(public, pin.signature.value, SignedCheckpoint.message(record)):
            problems.append(
                f"{pin.where}: partition {record.partition}: the signature does not hold "
                "(the checkpoint was altered after it was signed)"
            )
    return problems
