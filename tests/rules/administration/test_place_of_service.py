"""Place of service (spec 2.2 A7, 1.3a): a physician does not bill drug administration given
in a facility."""

from __future__ import annotations

from rules import assess
from schemas.decision import Severity
from tests.rules.mar_builder import admin, claim, codes
from tests.rules.rule_cases import RuleCase, rule_case_tests

CASES: dict[str, RuleCase] = {
    # A physician claim for a gemcitabine infusion given in a hospital outpatient department
    # (POS 22); the same claim from the office (POS 11) keeps its 96413.
    "ADM-A7": RuleCase(
        fires=lambda: claim(admin("gemcitabine", "09:00", "09:30"), setting="P", pos="22"),
        quiet=lambda: claim(admin("gemcitabine", "09:00", "09:30"), setting="P"),
        severity=Severity.INFO, says="Place of service 22 is a facility: 96413 are the facility's"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_a7_drops_only_the_listed_ranges() -> None:
    """Intrathecal chemotherapy (96450) is outside 96360-96379, 96401-96402, 96409-96425 and
    96521-96523: the physician keeps it."""
    result = assess(
        claim(
            admin("gemcitabine", "09:00", "09:30"),
            admin("methotrexate 5 mg", "10:00", route="INTRATHECAL_LP"),
            setting="P",
            pos="22",
        )
    )
    assert codes(result) == {"96450": 1}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-A7"]
    assert "96413 are" in finding.message and "96450" not in finding.message
