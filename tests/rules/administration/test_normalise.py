"""Steps A and B (spec 2.2, 2.3): what is dropped before coding, classification, same-bag
merging, minutes without holds and the push/infusion boundary."""

from __future__ import annotations

from typing import Any

from rules import assess
from rules.pack import current_texts, pack_from_texts
from schemas.decision import Severity
from tests.rules.administration.builders import denosumab_policy_pack, ns
from tests.rules.mar_builder import admin, claim, codes, fired, rule_ids
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR, INFO = Severity.ERROR, Severity.INFO


def kcl(start: str, stop: str, **kw: Any) -> dict[str, Any]:
    """20 mEq of potassium chloride (J3480)."""
    return admin("potassium chloride", start, stop, dose="20", unit="mEq", **kw)


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
    # Potassium chloride added to the saline bag is hydration (CPT's hydration description);
    # in a bag of its own it is a therapeutic infusion beside the saline.
    "ADM-B4": RuleCase(
        fires=lambda: claim(ns("10:00", "11:00", bag="h1"), kcl("10:00", "11:00", bag="h1")),
        quiet=lambda: claim(ns("10:00", "11:00", bag="h1"), kcl("10:00", "11:00", bag="h2")),
        severity=INFO, says="Bag h1: potassium chloride added to hydration fluid; coded as "
                            "hydration", lines={"96360": 1}),
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


def test_adm_b1_the_merged_line_cites_the_merge() -> None:
    result = assess(
        claim(
            admin("paclitaxel", "09:00", "10:00", bag="b1", dose="175"),
            admin("ondansetron", "09:00", "10:00", bag="b1", dose="8"),
        )
    )
    assert [line.rule_ids for line in result.computed_lines] == [("ADM-D1", "ADM-B2", "ADM-B1")]


def test_adm_b4_an_electrolyte_alone_is_a_therapeutic_infusion_not_an_nc_case() -> None:
    alone = assess(claim(kcl("10:00", "11:00")))
    assert codes(alone) == {"96365": 1} and not alone.needs_review
    assert "ADM-U2" not in rule_ids(alone)
    # In a chemotherapy bag the drug decides.
    with_chemo = assess(
        claim(ns("10:00", "11:00", bag="c1"), kcl("10:00", "11:00", bag="c1"),
              admin("cisplatin", "10:00", "11:00", bag="c1"))
    )  # fmt: skip
    assert codes(with_chemo) == {"96413": 1} and not fired(with_chemo, "ADM-B4")


def test_adm_b4_electrolytes_added_to_unbillable_hydration_are_not_coded_either() -> None:
    result = assess(
        claim(ns("10:00", "11:00", bag="h1", order=False), kcl("10:00", "11:00", bag="h1"))
    )
    assert codes(result) == {}
    [a3] = [f for f in result.findings if f.rule_id == "ADM-A3"]
    assert set(a3.admin_ids) == {"normal-1000", "potassium-1000"}


def test_adm_u1_the_codes_shown_say_they_exclude_the_unknown_drug() -> None:
    """Saline hydration and an unknown infusion: the hydration would be a secondary service
    if the drug were known, so the 96360 shown must say it was computed without it."""
    result = assess(claim(ns("09:00", "10:30"), admin("mystery drug", "09:15", "10:00",
                                                      hcpcs="J9999")))  # fmt: skip
    assert result.needs_review
    [u1] = [f for f in result.findings if f.rule_id == "ADM-U1"]
    assert "codes shown for 2026-05-04 are computed without it" in u1.message
    for line in result.computed_lines:
        assert "ADM-U1" in line.rule_ids
        assert "computed without MAR entry mystery-0915 (unknown drug)" in line.reason
    known = assess(claim(ns("09:00", "10:30")))
    assert all("ADM-U1" not in line.rule_ids for line in known.computed_lines)


def test_adm_u1_a_payer_override_classifies_a_code_the_catalogue_lacks() -> None:
    texts = current_texts()
    texts["payer_drug_overrides.csv"] += "ACME,J0000,THER,false,2026-01-01,,ACME policy RX-9\n"
    pack = pack_from_texts("override-test", texts)
    new_drug = admin("new drug", "09:00", "09:30", hcpcs="J0000")
    acme = assess(claim(new_drug, payer="ACME"), pack=pack)
    assert codes(acme) == {"96365": 1} and not fired(acme, "ADM-U1")
    other = assess(claim(new_drug, payer="OTHER"), pack=pack)
    assert fired(other, "ADM-U1") and other.needs_review
