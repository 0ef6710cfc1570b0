"""The add-on guard (spec 2.5, 2.10 V1): an add-on without an allowed primary on its date is
withheld."""

from __future__ import annotations

from rules import assess
from schemas.decision import Severity
from tests.rules.mar_builder import admin, claim, codes
from tests.rules.rule_cases import RuleCase, rule_case_tests

CASES: dict[str, RuleCase] = {
    # Professional: iron documented as the primary reason makes 96365 the initial, and the
    # doxorubicin push (96411) has no 96409/96413 to lean on. Without the flag the hierarchy
    # makes the push the initial (96409) and the iron a sequential 96367.
    "ADM-D3": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", "09:30", primary=True),
                            admin("doxorubicin", "09:40", technique="PUSH"), setting="P"),
        quiet=lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                            admin("doxorubicin", "09:40", technique="PUSH"), setting="P"),
        severity=Severity.ERROR,
        says="96411 needs one of 96409, 96413 on 2026-05-04: not reported"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_d3_the_withheld_addon_is_gone_and_the_rest_stays() -> None:
    result = assess(
        claim(
            admin("iron sucrose", "09:00", "09:30", primary=True),
            admin("doxorubicin", "09:40", technique="PUSH"),
            setting="P",
        )
    )
    assert codes(result) == {"96365": 1}
    assert result.needs_review
