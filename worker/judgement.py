"""A record's decision before its audit event: what crosses back from a pool process.

Its own module, left out of the compiled build (``setup.py``): a frozen dataclass compiled
as a native class cannot be unpickled (pickle restores its fields by ``setattr``), and every
judgement is pickled from a deciding process to the worker. ``worker.decide``, which makes
judgements, is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.audit import Outcome
from schemas.decision import ReasonCode, RulePackRef, Severity


@dataclass(frozen=True, slots=True)
class Judgement:
    """A record's decision before its audit event: what crosses back from a pool process."""

    outcome: Outcome
    claim_id: str | None
    claim_version: int | None
    reasons: tuple[ReasonCode, ...]
    detail: str  # the first reason in words (a dead-letter header)
    rule_ids: tuple[str, ...]
    body: bytes
    key: bytes | None  # the decision record's key
    input_kept: bool  # the audit event carries the input (not when it was oversized)
    pack_ref: RulePackRef
    payer: str | None = None  # the payer id of a valid claim
    severity: Severity | None = None  # the highest finding's
    findings: tuple[tuple[str, Severity], ...] = ()  # (rule id, severity) of each finding
