"""Code validity by quarter and setting (rules/checks/codes.py, CMS I/OCE HCPCS table)."""

from __future__ import annotations

from rules import assess
from schemas.decision import Severity
from tests.rules.checks.builders import OLD, finding_detail_tests, rt
from tests.rules.mar_builder import claim, fired
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR = Severity.ERROR

CASES: dict[str, RuleCase] = {
    # G6015 left the HCPCS table with 2026; 77402 is in it.
    "CODE-Q1": RuleCase(
        fires=lambda: rt(("G6015", "1"), setting="R"),
        quiet=lambda: rt(("77402", "1"), setting="R"),
        severity=ERROR, says="G6015 is not in the CMS HCPCS table for the quarter of 2026-05-04",
        codes=("G6015",)),
    # In 2025 G6015 exists, with OPPS status B: a hospital reports 77385 or 77386.
    "CODE-B1": RuleCase(
        fires=lambda: rt(("G6015", "1"), day=OLD), quiet=lambda: rt(("77385", "1"), day=OLD),
        severity=ERROR,
        says="G6015 (OPPS status B) is not recognised on a hospital outpatient claim on "
        "2025-06-02; hospitals report 77385 or 77386.",
        codes=("G6015",)),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
test_the_finding_carries_its_rules_confidence_citations_and_suggestion = finding_detail_tests(
    CASES, {}
)


def test_code_b1_99211_is_not_a_hospital_visit_code() -> None:
    result = assess(claim(lines=(("99211", "1"),)))
    [finding] = [f for f in result.findings if f.rule_id == "CODE-B1"]
    assert finding.codes == ("99211",) and finding.line_numbers == (1,)
    assert finding.message.endswith("on 2026-05-04.")  # no hospital code to name
    assert not fired(assess(claim(lines=(("99211", "1"),), setting="P")), "CODE-B1")


def test_code_b1_suggests_the_hospital_code_when_there_is_one() -> None:
    [finding] = [f for f in assess(rt(("G6003", "1"), day=OLD)).findings
                 if f.rule_id == "CODE-B1"]  # fmt: skip
    assert "hospitals report 77402." in finding.message
    assert finding.suggested_correction == "report 77402"
