"""Drug supply lines (spec 2.10 V13): units billed against the dose given."""

from __future__ import annotations

from schemas.decision import Severity
from tests.rules.mar_builder import admin, claim
from tests.rules.rule_cases import RuleCase, rule_case_tests

CASES: dict[str, RuleCase] = {
    # Gemcitabine 1,000 mg is J9201 x5 (200 mg units, spec example 1).
    "ADM-S1": RuleCase(
        fires=lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                            lines=(("J9201", "1000"),)),
        quiet=lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                            lines=(("J9201", "5"),)),
        severity=Severity.ERROR,
        says="J9201 on 2026-05-04: 1000 unit(s) billed, 1000 mg given = 5 unit(s) of 200 mg"),
    "ADM-S2": RuleCase(
        fires=lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000")),
        quiet=lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                            lines=(("J9201", "5"),)),
        severity=Severity.WARNING,
        says="J9201 given on 2026-05-04 (1000 mg) has no line on the claim; expected 5 unit(s)"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
