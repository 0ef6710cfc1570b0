"""Steps A and B (spec 2.2, 2.3): what is dropped before coding, classification, same-bag
merging, minutes without holds and the push/infusion boundary."""

from __future__ import annotations

from rules import assess
from schemas.decision import Severity
from tests.rules.administration.builders import denosumab_policy_pack, ns
from tests.rules.mar_builder import admin, claim, codes
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR, INFO = Severity.ERROR, Severity.INFO

CASES: dict[str, RuleCase] = {
    # KVO saline beside an iron infusion is not coded; ordered hydration in its place is.
    "ADM-A1": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "10:00", "10:30"),
                            ns("10:00", "11:00", purpose="KVO")),
        quiet=lambda: claim(admin("iron sucrose", "10:00", "10:30"), ns("10:00", "11:00")),
        severity=INFO, says="kvo fluid is part of the administration: not coded"),
    "ADM-A3": RuleCase(
        fires=lambda: claim(ns("10:00", "11:00", order=False)),
        quiet=lambda: claim(ns("10:00", "11:00")),
        severity=INFO, says="Hydration without a documented order and indication: not coded"),
    "ADM-A4": RuleCase(
        fires=lambda: claim(ns("10:00", None)),
        quiet=lambda: claim(ns("10:00", "11:00")),
        severity=INFO, says="Hydration without a stop time: not coded"),
    "ADM-A5": RuleCase(
        fires=lambda: claim(admin("gemcitabine", "09:00", None, technique="INFUSION")),
        quiet=lambda: claim(admin("gemcitabine", "09:00", "09:30", technique="INFUSION")),
        severity=ERROR, says="Drug infusion without a stop time: duration cannot be established"),
    # Paclitaxel and ondansetron in one bag; in two bags they are two (concurrent) infusions.
    "ADM-B1": RuleCase(
        fires=lambda: claim(admin("paclitaxel", "09:00", "10:00", bag="b1"),
                            admin("ondansetron", "09:00", "10:00", bag="b1")),
        quiet=lambda: claim(admin("paclitaxel", "09:00", "10:00", bag="b1"),
                            admin("ondansetron", "09:00", "10:00", bag="b2")),
        severity=INFO, says="Bag b1: 2 MAR entries coded as one administration"),
    # 95 minutes on the clock, 10 of them on hold: 85 minutes, no additional hour. Without a
    # stop time there are no minutes to count.
    "ADM-B2": RuleCase(
        fires=lambda: claim(admin("carboplatin", "09:00", "10:35", holds=(("09:30", "09:40"),))),
        quiet=lambda: claim(admin("carboplatin", "09:00", None, holds=(("09:30", "09:40"),))),
        severity=None, lines={"96413": 1}),
    # Dexamethasone IVPB of 15 minutes is a push (spec example 5); 16 minutes is an infusion.
    "ADM-B3": RuleCase(
        fires=lambda: claim(admin("dexamethasone", "08:55", "09:10", technique="INFUSION")),
        quiet=lambda: claim(admin("dexamethasone", "08:55", "09:11", technique="INFUSION")),
        severity=None, lines={"96374": 1}),
    # J9999 names no drug, so the name decides: an unknown one is never guessed.
    "ADM-U1": RuleCase(
        fires=lambda: claim(admin("mystery drug", "09:00", "09:30", hcpcs="J9999")),
        quiet=lambda: claim(admin("carboplatin", "09:00", "09:30", hcpcs="J9999")),
        severity=ERROR, says="is not in the drug catalogue or the payer's overrides"),
    # The same denosumab claim, for a payer without and with a written policy on its class.
    "ADM-U2": RuleCase(
        fires=lambda: (claim(admin("denosumab", "09:00", route="SQ", dose="120")),
                       denosumab_policy_pack()),
        quiet=lambda: (claim(admin("denosumab", "09:00", route="SQ", dose="120"), payer="ACME"),
                       denosumab_policy_pack()),
        severity=ERROR, says="J0897 is coded as THER, but its class needs confirmation"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)


def test_adm_b1_one_technique_code_for_the_bag_and_each_drug_still_billed() -> None:
    result = assess(
        claim(
            admin("paclitaxel", "09:00", "10:00", bag="b1", dose="175"),
            admin("ondansetron", "09:00", "10:00", bag="b1", dose="8"),
        )
    )
    assert codes(result) == {"96413": 1}
    [line] = result.computed_lines
    assert set(line.admin_ids) == {"paclitaxel-0900", "ondansetron-0900"}
    missing = {f.message.split()[0] for f in result.findings if f.rule_id == "ADM-S2"}
    assert missing == {"J9267", "J2405"}


def test_adm_b2_a_hold_is_not_counted_in_the_minutes() -> None:
    held = assess(claim(admin("carboplatin", "09:00", "10:35", holds=(("09:30", "09:40"),))))
    assert codes(held) == {"96413": 1}
    assert [line.minutes for line in held.computed_lines] == [85]
    straight = assess(claim(admin("carboplatin", "09:00", "10:35")))
    assert codes(straight) == {"96413": 1, "96415": 1}
