"""Coverage (rules/checks/coverage.py, spec §7.3): payer rows that require documented
medical necessity or limit fractions for a diagnosis, and single-fraction palliation."""

from __future__ import annotations

import pytest

from rules import assess
from schemas.decision import Severity
from tests.rules.checks.builders import EX, ex, finding_detail_tests, rt, template_pack
from tests.rules.mar_builder import fired
from tests.rules.rule_cases import RuleCase, decide, rule_case_tests

BONE = ("Z51.0", "C79.51")

CASES: dict[str, RuleCase] = {
    # The shipped pack's Medicare row (LCD L33937), severity error; no row for another payer.
    "COV-PROTON": RuleCase(
        fires=lambda: rt(("77522", "1"), dx=("Z51.0", "C71.9")),
        quiet=lambda: rt(("77522", "1"), dx=("Z51.0", "C71.9"), payer="ACME"),
        severity=Severity.ERROR,
        says="77522: payer policy MCR-L33937-PROTON requires documented medical necessity",
        codes=("77522",)),
    # The template's row (77301, 77385, 77386, G6015), severity warning; no row for Medicare.
    "COV-IMRT": RuleCase(
        fires=lambda: ex(rt(("77386", "1"), **EX)), quiet=lambda: rt(("77386", "1")),
        severity=Severity.WARNING,
        says="77386: payer policy EX-IMRT-JUST requires documented medical necessity",
        codes=("77386",)),
    "COV-FX": RuleCase(
        fires=lambda: ex(rt(("77402", "12"), dx=BONE, **EX)),
        quiet=lambda: ex(rt(("77402", "10"), dx=BONE, **EX)),
        severity=Severity.ERROR, says="12 fractions; payer policy EX-FX-BONE allows 10",
        codes=("77402",)),
    "COV-CW": RuleCase(
        fires=lambda: rt(("77402", "5"), dx=BONE), quiet=lambda: rt(("77402", "1"), dx=BONE),
        severity=Severity.INFO, says="Bone metastasis treated in 5 fractions", codes=("77402",)),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
test_the_finding_carries_its_rules_confidence_citations_and_suggestion = finding_detail_tests(
    CASES, {}
)


@pytest.mark.parametrize(
    ("rule_id", "url"),
    [
        ("COV-PROTON", "https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdId=33937"),
        ("COV-IMRT", "https://payer.example/policies/imrt.pdf"),
        ("COV-FX", "https://payer.example/policies/fractionation.pdf"),
    ],
)
def test_a_policy_finding_cites_the_payers_document(rule_id: str, url: str) -> None:
    [finding] = [f for f in decide(CASES[rule_id].fires).findings if f.rule_id == rule_id]
    assert any((c.url or "").startswith(url) for c in finding.citations)


def test_cov_imrt_names_imrt_planning_not_3d_planning() -> None:
    assert fired(assess(*ex(rt(("77301", "1"), **EX))), "COV-IMRT")
    assert not fired(assess(*ex(rt(("77295", "1"), **EX))), "COV-IMRT")


def test_cov_fx_limits_only_the_diagnoses_its_row_names() -> None:
    prostate = assess(rt(("77402", "12"), dx=("Z51.0", "C61"), **EX), template_pack())
    assert not fired(prostate, "COV-FX")


def test_cov_cw_is_a_note_that_does_not_send_the_claim_to_review() -> None:
    result = decide(CASES["COV-CW"].fires)
    assert fired(result, "COV-CW") and not result.needs_review
