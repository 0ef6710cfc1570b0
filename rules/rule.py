"""A rule: id, what it checks, why, confidence and citations; the only way to make a finding.

Findings are made only through ``Rule.finding`` so that each one carries its
rule's citation and confidence. A rule marked NC (needs confirmation) always
produces an error-severity finding, which sends the claim to review, and never a
correction: NC rules never decide silently (spec §0.1).

Source ids (S1…) are those of the coding specification §0.3; the others name the
CMS data files of the rule pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from rules.sources import SOURCES
from schemas.decision import Citation, Confidence, Correction, CorrectionAction, Finding, Severity


class ParameterKind(StrEnum):
    CODES = "codes"  # HCPCS/CPT codes separated by |
    PREFIXES = "prefixes"  # ICD-10-CM prefixes separated by |
    INTEGER = "integer"
    DECIMAL = "decimal"
    MODIFIER = "modifier"


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter a payer policy row gives a rule; no default means the row must give it."""

    name: str
    kind: ParameterKind
    default: str | None = None


@dataclass(frozen=True, slots=True)
class PayerAction:
    """What a payer policy row may make a rule do, with the parameters it takes."""

    action: str
    parameters: tuple[Parameter, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    checks: str  # what the rule checks or does
    why: str  # why a careful coder does it
    confidence: Confidence
    section: str  # where in the coding specification
    sources: tuple[str, ...]
    severity: Severity = Severity.INFO
    example: str = ""  # a claim that triggers it, in a coder's words
    payer_actions: tuple[PayerAction, ...] = ()  # what a payer policy row may do with it

    @property
    def citations(self) -> tuple[Citation, ...]:
        return _citations(self)

    def finding(
        self,
        message: str,
        admin_ids: Sequence[str] = (),
        line_numbers: Sequence[int] = (),
        severity: Severity | None = None,
        suggested_correction: str | None = None,
        codes: Sequence[str] = (),
        cite: Sequence[Citation] = (),
    ) -> Finding:
        nc = self.confidence is Confidence.NEEDS_CONFIRMATION
        return Finding(
            rule_id=self.id,
            # NC never decides silently: it always sends the claim to a person.
            severity=Severity.ERROR if nc else (severity or self.severity),
            message=message,
            citations=(*self.citations, *cite),
            confidence=self.confidence,
            admin_ids=tuple(admin_ids),
            line_numbers=tuple(line_numbers),
            codes=tuple(codes),
            suggested_correction=None if nc else suggested_correction,
        )

    def correction(
        self,
        action: CorrectionAction,
        reason: str,
        line_numbers: Sequence[int] = (),
        codes: Sequence[str] = (),
        diagnoses: Sequence[str] = (),
        policy_id: str | None = None,
    ) -> Correction:
        if self.confidence is Confidence.NEEDS_CONFIRMATION:
            raise ValueError(f"{self.id} needs confirmation and may not correct a claim")
        return Correction(
            rule_id=self.id,
            action=action,
            line_numbers=tuple(line_numbers),
            codes=tuple(codes),
            diagnoses=tuple(diagnoses),
            reason=reason,
            policy_id=policy_id,
        )


@cache
def _citations(r: Rule) -> tuple[Citation, ...]:
    # Built once per rule: findings are made on the hot path and citations never change.
    spec = Citation(source="Oncology coding rules specification", section=r.section)
    cited = tuple(
        Citation(
            source=s,
            url=SOURCES[s] if SOURCES[s].startswith("http") else None,
            section=None if SOURCES[s].startswith("http") else SOURCES[s],
        )
        for s in r.sources
    )
    return (spec, *cited)


H, M, L, NC = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, Confidence.NEEDS_CONFIRMATION
ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
