"""Step G (spec 2.8): pump initiation, refill and disconnect."""

from __future__ import annotations

from rules import assess
from schemas.decision import Severity
from tests.rules.administration.builders import PUMP
from tests.rules.mar_builder import admin, claim, codes
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR = Severity.ERROR
DME_PUMP = {**PUMP, "supplied_by": "DME"}

CASES: dict[str, RuleCase] = {
    # 5-FU on a pump planned for 46 hours is a pump initiation; planned for 8 hours it is not
    # prolonged (and, with no stop time, goes to review as an infusion: ADM-A5).
    "ADM-G1": RuleCase(
        fires=lambda: claim(admin("fluorouracil", "11:15", None, pump=DME_PUMP)),
        quiet=lambda: claim(admin("fluorouracil", "11:15", None,
                                  pump={**DME_PUMP, "planned_hours": "8"})),
        severity=None, lines={"96416": 1}),
    # Medicare, pump supplied by the practice: G0498 may apply; a DME-supplied pump: no.
    "ADM-G2": RuleCase(
        fires=lambda: claim(admin("fluorouracil", "11:15", None, technique="PUMP_INITIATION",
                                  pump=PUMP)),
        quiet=lambda: claim(admin("fluorouracil", "11:15", None, technique="PUMP_INITIATION",
                                  pump=DME_PUMP)),
        severity=ERROR, says="Medicare chemotherapy pump supplied by the provider: G0498 may "
                             "be required instead of 96416",
        lines={"96416": 1}),
    # Spec example 9: a portable pump refilled in clinic; the same entry as a push is 96409.
    "ADM-G3": RuleCase(
        fires=lambda: claim(admin("fluorouracil", "10:00", technique="PUMP_REFILL",
                                  pump={"kind": "PORTABLE"})),
        quiet=lambda: claim(admin("fluorouracil", "10:00", technique="PUSH",
                                  pump={"kind": "PORTABLE"})),
        severity=None, lines={"96521": 1}),
    "ADM-G5": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", None, technique="PUMP_INITIATION",
                                  pump={"kind": "PORTABLE", "planned_hours": "10"}),
                            setting="P"),
        quiet=lambda: claim(admin("iron sucrose", "09:00", None, technique="PUMP_INITIATION",
                                  pump={"kind": "PORTABLE", "planned_hours": "10"})),
        severity=ERROR,
        says="Prolonged therapeutic pump initiation of iron sucrose on a professional claim: "
             "no code found"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_g1_intra_arterial_and_therapeutic_pumps() -> None:
    ia = assess(claim(admin("fluorouracil", "11:15", None, route="IA", pump=DME_PUMP)))
    assert codes(ia) == {"96425": 1}
    facility = assess(
        claim(
            admin("iron sucrose", "09:00", None, pump={"kind": "PORTABLE", "planned_hours": "10"})
        )
    )
    assert codes(facility) == {"C8957": 1}


def test_adm_g3_a_disconnect_is_not_coded() -> None:
    result = assess(claim(admin("fluorouracil", "10:00", technique="PUMP_DISCONNECT")))
    assert codes(result) == {}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-G3"]
    assert finding.severity is Severity.INFO
    assert "disconnect is included in the pump initiation" in finding.message


def test_adm_g3_a_refill_without_the_pump_kind_goes_to_review() -> None:
    result = assess(claim(admin("fluorouracil", "10:00", technique="PUMP_REFILL")))
    assert codes(result) == {}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-G3"]
    assert finding.severity is Severity.ERROR and "without the pump's kind" in finding.message


def test_adm_g1_only_a_pump_planned_over_8_hours_is_a_pump_initiation_whatever_its_label() -> None:
    short = assess(claim(admin("fluorouracil", "09:00", "13:00", technique="PUMP_INITIATION",
                               pump={"kind": "PORTABLE", "planned_hours": "4"})))  # fmt: skip
    assert codes(short) == {"96413": 1, "96415": 3}
    [g1] = [f for f in short.findings if f.rule_id == "ADM-G1"]
    assert g1.severity is Severity.INFO and "not a prolonged infusion" in g1.message
    unplanned = assess(claim(admin("fluorouracil", "09:00", "09:03", technique="PUSH"),
                             admin("fluorouracil", "09:10", None, technique="PUMP_INITIATION",
                                   pump={"kind": "PORTABLE"})))  # fmt: skip
    assert codes(unplanned) == {"96409": 1} and unplanned.needs_review
    [g1] = [f for f in unplanned.findings if f.rule_id == "ADM-G1"]
    assert g1.severity is Severity.ERROR and "without a planned duration" in g1.message
    [push] = unplanned.computed_lines
    assert "ADM-G1" in push.rule_ids and "pump duration not documented" in push.reason
