"""Code validity by quarter and setting (rules/checks/codes.py, CMS I/OCE HCPCS table)."""

from __future__ import annotations

import pytest

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
        severity=ERROR, says="G6015 was deleted: its last day was 2025-12-31, before the date of "
        "service 2026-05-04.", codes=("G6015",)),
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
    assert "claim on 2026-05-04. Why:" in finding.message  # no hospital code to name
    assert not fired(assess(claim(lines=(("99211", "1"),), setting="P")), "CODE-B1")


def test_code_b1_suggests_the_hospital_code_when_there_is_one() -> None:
    [finding] = [f for f in assess(rt(("G6003", "1"), day=OLD)).findings
                 if f.rule_id == "CODE-B1"]  # fmt: skip
    assert "hospitals report 77402." in finding.message
    assert finding.suggested_correction == "report 77402"


def test_code_q1_covers_every_cms_code_not_only_the_oncology_ones() -> None:
    # 77014 was deleted with 2026; 36000 and 36410 (BND-B8's IV start) are known codes.
    deleted = assess(rt(("77014", "1")))
    [finding] = [f for f in deleted.findings if f.rule_id == "CODE-Q1"]
    assert finding.message.startswith("77014 was deleted: its last day was 2025-12-31")
    assert not fired(assess(rt(("77014", "1"), day=OLD)), "CODE-Q1")
    assert not fired(assess(claim(lines=(("36000", "1"), ("36410", "1")))), "CODE-Q1")
    unknown = assess(claim(lines=(("96362", "1"),)))
    [finding] = [f for f in unknown.findings if f.rule_id == "CODE-Q1"]
    assert "96362 on 2026-05-04 is not a CPT/HCPCS code" in finding.message


@pytest.mark.parametrize(
    ("gone", "successor", "unit"),
    [("J9070", "J9075", ""), ("J9250", "J9260", " (billed per 50 mg)"),
     ("J2505", "J2506", " (billed per 0.5 mg)"), ("J9044", "J9041", " (billed per 0.1 mg)")],
)  # fmt: skip
def test_code_q1_a_deleted_drug_code_names_its_successor(
    gone: str, successor: str, unit: str
) -> None:
    """A 2026 claim billing a drug code CMS deleted: the finding names the code that replaced
    it (and its billing unit when the CMS descriptor gives one); the successor itself is
    valid."""
    result = assess(claim(lines=((gone, "1"),)))
    [finding] = [f for f in result.findings if f.rule_id == "CODE-Q1"]
    assert f"CMS replaced it with {successor}{unit}." in finding.message
    assert finding.suggested_correction == f"bill {successor}{unit} for this drug"
    assert result.needs_review
    assert not fired(assess(claim(lines=((successor, "1"),))), "CODE-Q1")
