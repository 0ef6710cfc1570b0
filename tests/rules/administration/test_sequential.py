"""Step F (spec 2.7): sequential, concurrent and repeat services after the initial."""

from __future__ import annotations

from rules import assess
from schemas.decision import Severity
from tests.rules.mar_builder import admin, claim, codes
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR = Severity.ERROR

CASES: dict[str, RuleCase] = {
    # Carboplatin after paclitaxel is a sequential 96417; paclitaxel again is not a new drug.
    "ADM-F1": RuleCase(
        fires=lambda: claim(admin("paclitaxel", "09:00", "10:00"),
                            admin("carboplatin", "10:05", "10:35")),
        quiet=lambda: claim(admin("paclitaxel", "09:00", "10:00"),
                            admin("paclitaxel", "10:05", "10:35")),
        severity=None, lines={"96417": 1}),
    # Spec example 19: ondansetron IVP then famotidine IVP; a second ondansetron is a repeat.
    "ADM-F2": RuleCase(
        fires=lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                            admin("famotidine", "09:05", technique="PUSH")),
        quiet=lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                            admin("ondansetron", "09:05", technique="PUSH")),
        severity=None, lines={"96375": 1}),
    # Spec example 17 (facility): ondansetron again 45 minutes later is 96376; famotidine is
    # a new drug (96375).
    "ADM-F3": RuleCase(
        fires=lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                            admin("ondansetron", "09:45", technique="PUSH")),
        quiet=lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                            admin("famotidine", "09:45", technique="PUSH")),
        severity=None, lines={"96376": 1}),
    # Spec examples 6 and 7: leucovorin beside oxaliplatin is 96368; after it, 96367.
    "ADM-F4": RuleCase(
        fires=lambda: claim(admin("oxaliplatin", "09:00", "11:00"),
                            admin("leucovorin", "09:00", "11:00")),
        quiet=lambda: claim(admin("oxaliplatin", "09:00", "11:00"),
                            admin("leucovorin", "11:00", "13:00")),
        severity=None, lines={"96368": 1}),
    "ADM-F5": RuleCase(
        fires=lambda: claim(admin("paclitaxel", "09:00", "11:00"),
                            admin("carboplatin", "10:00", "10:30")),
        quiet=lambda: claim(admin("paclitaxel", "09:00", "11:00"),
                            admin("carboplatin", "11:00", "11:30")),
        severity=ERROR, says="runs concurrently with another infusion on the same site: "
                             "no concurrent-chemotherapy code exists"),
    "ADM-F7": RuleCase(
        fires=lambda: claim(admin("doxorubicin", "09:00", technique="PUSH"),
                            admin("doxorubicin", "09:30", technique="PUSH")),
        quiet=lambda: claim(admin("doxorubicin", "09:00", technique="PUSH"),
                            admin("vincristine", "09:30", technique="PUSH")),
        severity=ERROR,
        says="Repeat push of the same chemotherapy drug (chemotherapy push of doxorubicin)"),
    # Iron again later in the encounter: 96366 shown as HCPro's default; leucovorin is 96367.
    "ADM-F8": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                            admin("iron sucrose", "11:00", "11:30")),
        quiet=lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                            admin("leucovorin", "11:00", "11:30")),
        severity=ERROR, says="Second separate infusion of the same drug (therapeutic infusion "
                             "of iron sucrose): 96366 shown as the HCPro default",
        lines={"96366": 1}),
    # One minute of overlap (a line change) is sequential, and said; none says nothing.
    "ADM-F9": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", "09:31"),
                            admin("leucovorin", "09:30", "10:00")),
        quiet=lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                            admin("leucovorin", "09:30", "10:00")),
        severity=ERROR, says="overlaps another infusion by 1.0 minute(s): treated as sequential"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_f3_no_repeat_push_code_on_a_professional_claim() -> None:
    result = assess(
        claim(
            admin("ondansetron", "09:00", technique="PUSH"),
            admin("ondansetron", "09:45", technique="PUSH"),
            setting="P",
        )
    )
    assert codes(result) == {"96374": 1}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-F3"]
    assert finding.severity is Severity.INFO
    assert "no code on a professional claim" in finding.message


def test_adm_f4_96368_once_per_date() -> None:
    result = assess(
        claim(
            admin("oxaliplatin", "09:00", "11:00"),
            admin("leucovorin", "09:00", "11:00"),
            admin("iron sucrose", "09:30", "10:30"),
        )
    )
    assert codes(result) == {"96413": 1, "96415": 1, "96368": 1}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-F4"]
    assert "already reported for 2026-05-04: not reported again" in finding.message


def test_adm_f8_a_second_chemotherapy_infusion_of_the_same_drug_gets_no_code() -> None:
    result = assess(
        claim(admin("carboplatin", "09:00", "09:30"), admin("carboplatin", "11:00", "11:30"))
    )
    assert codes(result) == {"96413": 1}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-F8"]
    assert finding.severity is Severity.ERROR and "no code chosen" in finding.message


def test_adm_f9_more_than_a_minute_of_overlap_is_concurrent() -> None:
    result = assess(
        claim(admin("iron sucrose", "09:00", "09:32"), admin("leucovorin", "09:30", "10:00"))
    )
    assert codes(result) == {"96365": 1, "96368": 1}
    assert not [f for f in result.findings if f.rule_id == "ADM-F9"]
