"""Hydration and time units (spec 2.6, 2.7): additional hours past 30 minutes, the 31-minute
floor, concurrent hydration, split intervals and secondary hydration."""

from __future__ import annotations

from rules import assess
from rules.administration.coding import CodingOptions
from schemas.decision import Severity
from tests.rules.administration.builders import ns
from tests.rules.mar_builder import admin, claim, codes
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR, INFO = Severity.ERROR, Severity.INFO

CASES: dict[str, RuleCase] = {
    # 91 minutes is 31 past the first hour: one 96415; 90 minutes is none (spec 2.6).
    "ADM-E1": RuleCase(
        fires=lambda: claim(admin("carboplatin", "09:00", "10:31")),
        quiet=lambda: claim(admin("carboplatin", "09:00", "10:30")),
        severity=None, lines={"96415": 1}),
    "ADM-E2": RuleCase(
        fires=lambda: claim(ns("10:00", "10:30")),
        quiet=lambda: claim(ns("10:00", "10:31")),
        severity=INFO, says="Hydration of 30 minutes (< 31): not coded"),
    # A subcutaneous infusion of 91 minutes: 96369 + 96370 x1 on the assumed rule; 90: none.
    "ADM-E3": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", "10:31", route="SQ",
                                  technique="INFUSION")),
        quiet=lambda: claim(admin("iron sucrose", "09:00", "10:30", route="SQ",
                                  technique="INFUSION")),
        severity=ERROR, says="96370 units assume the 30-minute rule", lines={"96370": 1}),
    # Cisplatin inside two hours of saline; started as the saline ends, nothing overlaps.
    "ADM-F6": RuleCase(
        fires=lambda: claim(ns("09:00", "11:00"), admin("cisplatin", "09:30", "10:30")),
        quiet=lambda: claim(ns("09:00", "11:00"), admin("cisplatin", "11:00", "12:00")),
        severity=INFO, says="60 minute(s) of hydration ran with a drug infusion: not counted"),
    # Spec example 13: 30 + 20 minutes of hydration give 0 units apart, 1 combined. With the
    # cisplatin started 30 minutes later the pieces are 60 + 20: 1 unit either way.
    "ADM-F10": RuleCase(
        fires=lambda: claim(ns("10:50", "13:25"), admin("cisplatin", "11:20", "13:05")),
        quiet=lambda: claim(ns("10:50", "13:25"), admin("cisplatin", "11:50", "13:05")),
        severity=ERROR,
        says="Hydration intervals of [30, 20] minutes: 0 unit(s) of 96361 counted separately, "
             "1 combined"),
    # An hour of hydration after cisplatin is 96361 x1; half an hour is not coded.
    "ADM-F11": RuleCase(
        fires=lambda: claim(admin("cisplatin", "09:00", "10:00"), ns("10:00", "11:00")),
        quiet=lambda: claim(admin("cisplatin", "09:00", "10:00"), ns("10:00", "10:30")),
        severity=None, lines={"96361": 1}),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_e1_hydration_additional_hours() -> None:
    """CPT's example: hydration 11 pm to 2 am (180 minutes) is 96360 + 96361 x2."""
    result = assess(claim(ns("09:00", "12:00")))
    assert codes(result) == {"96360": 1, "96361": 2}
    [addl] = [line for line in result.computed_lines if line.code == "96361"]
    assert addl.rule_ids == ("ADM-E1",)


def test_adm_f10_combined_intervals_cite_the_payer_choice() -> None:
    mar = (ns("10:50", "13:25"), admin("cisplatin", "11:20", "13:05"))
    result = assess(claim(*mar), options=CodingOptions(combine_hydration_intervals=True))
    [hydration] = [line for line in result.computed_lines if line.code == "96361"]
    assert hydration.units == 1 and hydration.minutes == 50
    assert set(hydration.rule_ids) == {"ADM-F11", "ADM-F10"}
