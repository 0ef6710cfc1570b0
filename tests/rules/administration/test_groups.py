"""Step C (spec 2.4): groups by encounter and access site, a separate site or encounter with its
own initial service, infusions crossing midnight."""

from __future__ import annotations

from schemas.decision import Severity
from tests.rules.administration.builders import overnight
from tests.rules.mar_builder import admin, claim
from tests.rules.rule_cases import RuleCase, decide, rule_case_tests

CASES: dict[str, RuleCase] = {
    # Iron on a second site for a documented reason; without the reason the sites are one
    # group and the iron is a concurrent infusion.
    "ADM-C2": RuleCase(
        fires=lambda: claim(admin("paclitaxel", "09:00", "10:00", site="A"),
                            admin("iron sucrose", "09:10", "09:40", site="B",
                                  separate_site="incompatible drugs")),
        quiet=lambda: claim(admin("paclitaxel", "09:00", "10:00", site="A"),
                            admin("iron sucrose", "09:10", "09:40", site="B")),
        severity=Severity.INFO,
        says="Separate access site B with a documented reason: its own initial service with XS"),
    # The afternoon iron in a second encounter; in the morning's encounter it is a repeat.
    "ADM-C3": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", "09:30", encounter="E1"),
                            admin("iron sucrose", "15:00", "15:30", encounter="E2")),
        quiet=lambda: claim(admin("iron sucrose", "09:00", "09:30", encounter="E1"),
                            admin("iron sucrose", "15:00", "15:30", encounter="E1")),
        severity=Severity.INFO, says="Second encounter on 2026-05-04: initial service with XE"),
    # 75 minutes of carboplatin across midnight, and the same 75 minutes before it.
    "ADM-C4": RuleCase(
        fires=lambda: overnight("carboplatin", "23:30", "00:45"),
        quiet=lambda: claim(admin("carboplatin", "22:30", "23:45")),
        severity=Severity.ERROR, says="chemotherapy infusion of carboplatin crosses midnight"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_c2_the_second_site_initial_carries_xs_and_cites_the_rule() -> None:
    result = decide(CASES["ADM-C2"].fires)
    assert [(line.code, line.modifiers, "ADM-C2" in line.rule_ids)
            for line in result.computed_lines] == [
        ("96413", (), False),
        ("96365", ("XS",), True),
    ]  # fmt: skip


def test_adm_c3_the_second_encounter_initial_carries_xe_and_cites_the_rule() -> None:
    result = decide(CASES["ADM-C3"].fires)
    assert [(line.code, line.modifiers, "ADM-C3" in line.rule_ids)
            for line in result.computed_lines] == [
        ("96365", (), False),
        ("96365", ("XE",), True),
    ]  # fmt: skip
