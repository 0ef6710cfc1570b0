"""A rule: id, what it checks, why, confidence and citations; the only way to make a finding.

Findings are made only through ``Rule.finding`` so that each one carries its
rule's citations and confidence, and a message a coder can act on: what is wrong (the
finding's own words), why (the rule's ``why``) and what to do (the finding's suggested
correction, else the rule's ``action``). A rule marked NC (needs confirmation) always
produces an error-severity finding, which sends the claim to review, and never a
correction: NC rules never decide silently (spec §0.1).

Citations lead with the rule's ``authority`` (the ICD-10-CM guideline, CMS manual section,
NCCI chapter, CMS article or LCD, CPT guideline that says it; ``rules.sources``), then the
supporting sources (the specification's S1… and the pack's CMS data files), then the
coding specification's section, last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from rules.outputs import finding as assembled_finding
from rules.sources import SPECIFICATION, source
from schemas.base import SHORT_TEXT_MAX
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
    # The documents that say it, with their sections (``rules.sources.authority``).
    authority: tuple[Citation, ...] = ()
    action: str = ""  # what a coder does about a finding, when the finding suggests nothing

    @property
    def citations(self) -> tuple[Citation, ...]:
        return _citations(self)

    def explain(self, what: str, todo: str | None = None) -> str:
        """What is wrong, why, and what to do, in at most 500 characters."""
        tail = f" Why: {self.why} What to do: {_sentence(todo or self.action)}"
        room = SHORT_TEXT_MAX - len(tail)
        what = what.strip()
        if len(what) > room:
            what = what[: room - 1].rstrip() + "…"
        return (what + tail)[:SHORT_TEXT_MAX]

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
        suggestion = None if nc else suggested_correction
        return assembled_finding(
            rule_id=self.id,
            # NC never decides silently: it always sends the claim to a person.
            severity=Severity.ERROR if nc else (severity or self.severity),
            message=self.explain(message, suggestion),
            # A payer policy row's own document leads the findings it drives.
            citations=(*cite, *self.citations),
            confidence=self.confidence,
            admin_ids=tuple(admin_ids),
            line_numbers=tuple(line_numbers),
            codes=tuple(codes),
            suggested_correction=suggestion,
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


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


@cache
def _citations(r: Rule) -> tuple[Citation, ...]:
    # Built once per rule: findings are made on the hot path and citations never change.
    spec = Citation(source=SPECIFICATION, section=r.section)
    return (*r.authority, *(source(s) for s in r.sources), spec)


H, M, L, NC = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, Confidence.NEEDS_CONFIRMATION
ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
