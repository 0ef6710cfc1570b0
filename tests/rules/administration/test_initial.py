"""Step D (spec 2.5): the initial service of a group, by the hierarchy (facility) or by the
documented primary reason (professional)."""

from __future__ import annotations

from rules import assess
from schemas import SubmittedClaim
from schemas.decision import Severity
from tests.rules.mar_builder import admin, claim, codes, rule_ids
from tests.rules.rule_cases import RuleCase, rule_case_tests


def dexamethasone_then_doxorubicin(setting: str) -> SubmittedClaim:
    """Spec example 20: dexamethasone IVPB 09:00-09:20, doxorubicin IVP 09:25-09:30."""
    return claim(
        admin("dexamethasone", "09:00", "09:20", technique="INFUSION"),
        admin("doxorubicin", "09:25", "09:30", technique="PUSH"),
        setting=setting,
    )


CASES: dict[str, RuleCase] = {
    # Facility: the later chemotherapy push outranks the therapeutic infusion (96409 initial).
    # The same MAR on a professional claim is decided by ADM-D2.
    "ADM-D1": RuleCase(
        fires=lambda: dexamethasone_then_doxorubicin("F"),
        quiet=lambda: dexamethasone_then_doxorubicin("P"),
        severity=None, lines={"96409": 1}),
    # Professional, no primary reason documented: the hierarchy, and it says so.
    "ADM-D2": RuleCase(
        fires=lambda: dexamethasone_then_doxorubicin("P"),
        quiet=lambda: dexamethasone_then_doxorubicin("F"),
        severity=Severity.INFO,
        says="No primary reason documented: initial service chosen by the hierarchy "
             "(initial_basis=hierarchy-default)",
        lines={"96409": 1}),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_d2_a_documented_primary_reason_chooses_the_professional_initial() -> None:
    """An ondansetron push documented as the reason for the visit is the office's initial
    (96374) although the iron infusion after it ranks higher; the hospital uses the
    hierarchy whatever the flag says."""
    mar = (
        admin("ondansetron", "09:00", technique="PUSH", primary=True),
        admin("iron sucrose", "09:10", "09:40"),
    )
    office = assess(claim(*mar, setting="P"))
    assert codes(office) == {"96374": 1, "96367": 1}
    [initial] = [line for line in office.computed_lines if line.code == "96374"]
    assert "ADM-D2" in initial.rule_ids
    assert not [f for f in office.findings if f.rule_id == "ADM-D2"]  # nothing to say
    hospital = assess(claim(*mar))
    assert codes(hospital) == {"96365": 1, "96375": 1}
    assert "ADM-D2" not in rule_ids(hospital)
