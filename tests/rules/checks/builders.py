"""Claims the claim-check cases are written with (a chemotherapy day, a radiation claim, saline),
the packs payer-policy and backstop rules are decided with, and the checks every case's
finding must pass besides what ``RuleCase`` says: the rule's confidence and citations, its
suggestion, and never a correction or a silent decision from a rule that needs confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from rules.catalogue import RULES
from rules.pack import RulePack, current_texts, pack_from_texts
from schemas import SubmittedClaim
from schemas.decision import Confidence, Severity
from tests.rules.mar_builder import admin, claim
from tests.rules.rule_cases import RuleCase, decide

TEMPLATE = Path(__file__).resolve().parents[3] / "docs" / "payer-pack-template.csv"
OLD = "2025-06-02"  # a quarter in which the freestanding G-codes and 77385/77386 were in force
EX = {"payer": "EXAMPLE-PAYER"}  # the payer of the documented template's example rows


@cache
def template_pack() -> RulePack:
    """The shipped pack with the documented payer template's example rows as its policies."""
    texts = current_texts()
    texts["payer_policies.csv"] = TEMPLATE.read_text(encoding="utf-8")
    return pack_from_texts("template-test", texts)


def ex(c: SubmittedClaim) -> tuple[SubmittedClaim, RulePack]:
    """The claim decided with the template pack (its example rows start 2026-01-01)."""
    return c, template_pack()


@cache
def no_ptp_pack() -> RulePack:
    """The shipped pack without NCCI PTP edits: the spec's own same-date rules are the
    backstop where the CMS table does not (yet) carry a pair."""
    texts = current_texts()
    texts["ncci_ptp_hospital.csv"] = texts["ncci_ptp_hospital.csv"].splitlines()[0] + "\n"
    return pack_from_texts("no-ptp-test", texts)


def bare(c: SubmittedClaim) -> tuple[SubmittedClaim, RulePack]:
    return c, no_ptp_pack()


def chemo(*lines: tuple[str, ...], **kw: Any) -> SubmittedClaim:
    """Gemcitabine 1,000 mg over 30 minutes (96413) with its supply line, plus ``lines``."""
    gem = admin("gemcitabine", "09:00", "09:30", dose="1000")
    return claim(gem, lines=(("J9201", "5"), *lines), **kw)


def ns(start: str, stop: str, dose: str = "1000") -> dict[str, Any]:
    """Normal saline hydration."""
    return admin("normal saline", start, stop, dose=dose, unit="mL")


def rt(*lines: tuple[str, ...], **kw: Any) -> SubmittedClaim:
    """A radiation claim with no MAR (Z51.0, C61 unless ``dx``): ``lines`` as ``claim`` takes
    them, (code, units[, modifiers[, date]])."""
    kw.setdefault("dx", ("Z51.0", "C61"))
    return claim(lines=lines, **kw)


def finding_detail_tests(cases: Mapping[str, RuleCase], suggests: Mapping[str, str]) -> Any:
    """One parametrised test over a module's cases: on the positive case every finding of the
    rule carries the rule's confidence and citations, the first one suggests what ``suggests``
    says (no entry: nothing), an error sends the claim to review, and a rule that needs
    confirmation (NC) never corrects, never suggests and always sends the claim to review."""
    assert set(suggests) <= set(cases), sorted(set(suggests) - set(cases))

    @pytest.mark.parametrize("rule_id", sorted(cases))
    def test_the_finding_carries_its_rules_confidence_citations_and_suggestion(
        rule_id: str,
    ) -> None:
        rule = RULES[rule_id]
        result = decide(cases[rule_id].fires)
        findings = [f for f in result.findings if f.rule_id == rule_id]
        assert findings, f"{rule_id} made no finding"
        for f in findings:
            assert f.confidence is rule.confidence
            # A payer row's document may lead; the rule's citations follow, the spec last.
            assert f.citations[-len(rule.citations) :] == rule.citations
            assert f.citations[-1].section == rule.section
            assert f.citations[0].url
        assert findings[0].suggested_correction == suggests.get(rule_id)
        if any(f.severity is Severity.ERROR for f in findings):
            assert result.needs_review
        if rule.confidence is Confidence.NEEDS_CONFIRMATION:
            assert all(f.severity is Severity.ERROR for f in findings)
            assert all(f.suggested_correction is None for f in findings)
            assert not [c for c in result.corrections if c.rule_id == rule_id]

    return test_the_finding_carries_its_rules_confidence_citations_and_suggestion
