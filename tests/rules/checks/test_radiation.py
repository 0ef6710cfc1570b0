"""Radiation oncology within one claim (rules/checks/radiation.py, spec §6.3, §7): G-codes,
the IMRT planning bundle, delivery exclusions, per-course limits, treatment management
units, chronology and high-scrutiny notes.

The spec's same-date bundles RB4, RB7, RB8 and RB10 (and RB6 while 77385/77386 existed) are
pairs the CMS PTP table also edits with modifier indicator 0: with the shipped pack NCCI-PTP
removes the line first, so their cases are decided with the pack without PTP edits
(``bare``), where the spec's rule is the backstop."""

from __future__ import annotations

import pytest

from rules import Assessment, assess
from rules.checks.radiation import weekly_units
from schemas.decision import Finding, Severity
from tests.rules.checks.builders import EX, OLD, bare, ex, finding_detail_tests, rt
from tests.rules.mar_builder import fired
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR = Severity.ERROR
NEXT = "2026-05-05"  # the day after the claims' date of service
PLAN = "2026-04-27"  # a week before

CASES: dict[str, RuleCase] = {
    "RO-G1": RuleCase(
        fires=lambda: rt(("77402", "1"), setting="R", day=OLD),
        quiet=lambda: rt(("77402", "1"), setting="R"),  # 2026: the G-codes are gone
        severity=ERROR,
        says="77402 on a freestanding Medicare claim on 2025-06-02: the PFS pays G6003-G6006",
        codes=("77402",)),
    # Bundled whatever the date; 77300 is not on the CMS IMRT list.
    "RO-RB1": RuleCase(
        fires=lambda: rt(("77301", "1"), ("77290", "1", "", PLAN)),
        quiet=lambda: rt(("77301", "1"), ("77300", "1", "", PLAN)),
        severity=ERROR, says="77290 billed with IMRT planning 77301 on this claim",
        codes=("77290", "77301")),
    "RO-RB2": RuleCase(
        fires=lambda: ex(rt(("77301", "1"), ("77290", "1", "", "2026-04-20"), **EX)),
        quiet=lambda: rt(("77301", "1"), ("77290", "1", "", "2026-04-20")),  # no payer row
        severity=ERROR,
        says="77290 within 30 days of 77301: not payable under payer policy EX-RB2-IMRT30",
        codes=("77290",)),
    "RO-RB9": RuleCase(  # NC
        fires=lambda: rt(("77301", "1"), ("77780", "1")), quiet=lambda: rt(("77301", "1")),
        severity=ERROR, says="77780 billed with 77301: a bundle no retrieved source supports",
        codes=("77301", "77780")),
    "RO-RB4": RuleCase(
        fires=lambda: bare(rt(("77300", "1"), ("77307", "1"))),
        quiet=lambda: bare(rt(("77300", "1"), ("77307", "1", "", NEXT))),
        severity=ERROR, says="77300 on 2026-05-04 with an isodose plan that includes it",
        codes=("77300", "77307")),
    # 77386 left the HCPCS table with 2026 (CODE-Q1), and the 2026 PTP table with it.
    "RO-RB6": RuleCase(
        fires=lambda: rt(("77386", "1"), ("77373", "1")), quiet=lambda: rt(("77386", "1")),
        severity=ERROR, says="IMRT delivery and SRS/SBRT on 2026-05-04", codes=("77373", "77386")),
    "RO-RB7": RuleCase(
        fires=lambda: bare(rt(("77373", "1"), ("77402", "1"))),
        quiet=lambda: bare(rt(("77373", "1"), ("77402", "1", "", NEXT))),
        severity=ERROR, says="SBRT delivery 77373 on 2026-05-04 with another delivery",
        codes=("77373", "77402")),
    "RO-RB10": RuleCase(
        fires=lambda: bare(rt(("77290", "1"), ("77285", "1"))),
        quiet=lambda: bare(rt(("77290", "1"), ("77285", "1", "", NEXT))),
        severity=ERROR, says="More than one simulation on 2026-05-04", codes=("77285", "77290")),
    # 77401 was deleted with 2026: a 2025 claim. 77332 is on the exclusion list, 77300 is not.
    "RO-RB8": RuleCase(
        fires=lambda: bare(rt(("77401", "1"), ("77332", "1"), day=OLD)),
        quiet=lambda: bare(rt(("77401", "1"), ("77300", "1"), day=OLD)),
        severity=ERROR, says="Superficial radiation 77401 billed with 77332",
        codes=("77332", "77401")),
    "RO-RB11": RuleCase(
        fires=lambda: rt(("77470", "2")), quiet=lambda: rt(("77470", "1")),
        severity=ERROR, says="77470 is once per course; 2 units billed", codes=("77470",)),
    "RO-RB5": RuleCase(
        fires=lambda: rt(("77307", "2")), quiet=lambda: rt(("77307", "1")),
        severity=ERROR, says="2 teletherapy isodose plans on one claim", codes=("77307",)),
    # 8 fractions: one week and 3 leftover fractions; 10 fractions: two weeks.
    "RO-Q14": RuleCase(  # NC
        fires=lambda: rt(("77402", "8"), ("77336", "2")),
        quiet=lambda: rt(("77402", "10"), ("77336", "2")),
        severity=ERROR, says="77336 x2 for 8 fractions counts 3-4 leftover fractions as a week",
        codes=("77336",)),
    "RO-RB12": RuleCase(
        fires=lambda: ex(rt(("77338", "4"), **EX)), quiet=lambda: ex(rt(("77338", "3"), **EX)),
        severity=ERROR, says="77338: 4 units; payer policy EX-RB12-77338 allows 3",
        codes=("77338",)),
    "RO-W2": RuleCase(
        fires=lambda: rt(("77402", "2"), ("77427", "1")),
        quiet=lambda: rt(("77402", "2"), ("77431", "1")),
        severity=ERROR, says="77427 billed for 2 fraction(s); a 1-2 fraction course is 77431",
        codes=("77427",)),
    "RO-W1": RuleCase(
        fires=lambda: rt(("77402", "28"), ("77427", "7")),
        quiet=lambda: rt(("77402", "28"), ("77427", "6")),
        severity=ERROR, says="77427 x7 for 28 fractions: at most 6", codes=("77427",)),
    "RO-C1": RuleCase(
        fires=lambda: rt(("77263", "1", "", "2026-05-06"), ("77402", "1", "", "2026-05-04")),
        quiet=lambda: rt(("77263", "1", "", "2026-05-04"), ("77402", "1", "", "2026-05-06")),
        severity=ERROR,
        says="Delivery on 2026-05-04 precedes clinical treatment planning (77263) on 2026-05-06",
        codes=("77263", "77402")),
    "RO-HS1": RuleCase(
        fires=lambda: rt(("77373", "1")), quiet=lambda: rt(("77402", "1")),
        severity=Severity.WARNING, says="High-scrutiny services (77373)", codes=("77373",)),
}  # fmt: skip

SUGGESTS = {
    "RO-G1": "report the G-code (G6003, G6004, G6005, G6006) that matches the energy and "
    "fields documented",
    "RO-RB1": "remove them, unless furnished for a different treatment",
    "RO-RB4": "remove 77300",
    "RO-RB5": "one plan unless distinct treatment areas are documented",
    "RO-RB10": "one simulation charge for the day",
    "RO-W1": "bill 77427 x6",
    "RO-W2": "report 77431",
}

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
test_the_finding_carries_its_rules_confidence_citations_and_suggestion = finding_detail_tests(
    CASES, SUGGESTS
)


def _finding(result: Assessment, rule_id: str) -> Finding:
    [finding] = [f for f in result.findings if f.rule_id == rule_id]
    return finding


# -- the other checks of rules that check several things ------------------------------------


def test_ro_rb6_flags_a_technical_modifier() -> None:
    finding = _finding(assess(rt(("77373", "1", "TC"))), "RO-RB6")
    assert finding.severity is ERROR and finding.codes == ("77373",)
    assert finding.message.startswith("Modifier TC on a technical-only delivery code. Why: ")
    assert finding.suggested_correction == "remove modifier TC"
    assert not fired(assess(rt(("77373", "1"))), "RO-RB6")


def test_ro_rb8_a_visit_only_when_77401_is_billed_alone() -> None:
    with_other = assess(rt(("77401", "1"), ("77300", "1"), ("99213", "1"), day=OLD, setting="P"))
    finding = _finding(with_other, "RO-RB8")
    assert finding.codes == ("77401", "99213")
    assert finding.message.startswith("Superficial radiation 77401 billed with 99213.")
    alone = assess(rt(("77401", "1"), ("99213", "1"), day=OLD, setting="P"))
    assert not fired(alone, "RO-RB8")


def test_ro_rb11_flags_77336_beyond_the_leftover_week() -> None:
    result = assess(rt(("77402", "8"), ("77336", "3")))
    finding = _finding(result, "RO-RB11")
    assert finding.message.startswith(
        "77336 x3 for 8 fractions: at most one per five fractions. Why: "
    )
    assert finding.codes == ("77336",) and not fired(result, "RO-Q14")


def test_ro_rb11_sbrt_is_at_most_five_fractions_and_77435_once_per_course() -> None:
    six = _finding(assess(rt(("77373", "6"))), "RO-RB11")
    assert six.message.startswith("SBRT is at most 5 fractions; 6 billed. Why: ")
    assert six.codes == ("77373",)
    assert not fired(assess(rt(("77373", "5"))), "RO-RB11")
    twice = _finding(assess(rt(("77373", "5"), ("77435", "2"))), "RO-RB11")
    assert twice.message.startswith("77435 is once per course; 2 units billed. Why: ")


@pytest.mark.parametrize(
    ("on", "fires"),
    [("2026-04-04", True), ("2026-04-03", False), ("2026-06-03", True), ("2026-06-04", False)],
)
def test_ro_rb2_window_is_the_rows_days_before_or_after_77301(on: str, fires: bool) -> None:
    result = assess(*ex(rt(("77301", "1"), ("77290", "1", "", on), **EX)))
    assert fired(result, "RO-RB2") is fires


def test_ro_w2_77431_is_not_for_a_longer_course() -> None:
    finding = _finding(assess(rt(("77402", "5"), ("77431", "1"), setting="P")), "RO-W2")
    assert finding.message.startswith("77431 is for a course of 1-2 fractions; 5 delivered. Why: ")
    assert finding.codes == ("77431",) and finding.severity is ERROR


@pytest.mark.parametrize(
    ("planning", "phase"), [("77290", "simulation"), ("77301", "dosimetric planning")]
)
def test_ro_c1_simulation_and_dosimetric_planning_also_precede_delivery(
    planning: str, phase: str
) -> None:
    result = assess(rt((planning, "1", "", "2026-05-06"), ("77402", "1", "", "2026-05-04")))
    finding = _finding(result, "RO-C1")
    assert finding.message.startswith(
        f"Delivery on 2026-05-04 precedes {phase} ({planning}) on 2026-05-06."
    )
    assert finding.codes == tuple(sorted((planning, "77402")))
    # On the same day or after it, it does not (no PTP edit pairs 77301 with delivery).
    same_day = assess(rt((planning, "1", "", "2026-05-04"), ("77402", "1", "", "2026-05-04")))
    assert not fired(same_day, "RO-C1")


# -- the NCCI table first, the spec's rules as the backstop -----------------------------------


def test_cms_ptp_data_decides_same_date_pairs_the_spec_also_lists() -> None:
    """RB4, RB6, RB7, RB8 and RB10 pairs are NCCI edits with modifier indicator 0 in the CMS
    data: the certain removal is applied and the spec's rule (the backstop) stays silent."""
    for rule_id, lines, day in (
        ("RO-RB4", (("77300", "1"), ("77307", "1")), "2026-05-04"),
        ("RO-RB6", (("77386", "1"), ("77373", "1")), OLD),
        ("RO-RB7", (("77373", "1"), ("77402", "1")), "2026-05-04"),
        ("RO-RB8", (("77401", "1"), ("77332", "1")), OLD),
        ("RO-RB10", (("77290", "1"), ("77285", "1")), "2026-05-04"),
    ):
        result = assess(rt(*lines, day=day))
        assert [c.rule_id for c in result.corrections] == ["NCCI-PTP"], lines
        assert not fired(result, rule_id) and fired(assess(*bare(rt(*lines, day=day))), rule_id)


def test_worked_example_r1_prostate_imrt_hospital_technical_claim() -> None:
    """Spec R1, the hospital's lines: 77301, 77338 and 77300 at planning, 77386 x28 (77300 is
    not bundled). 77290 for the plan is bundled: removed on 77301's date (NCCI indicator 0),
    sent to review on another date (RO-RB1)."""
    plan_day = "2025-05-27"
    plan = (("77301", "1", "", plan_day), ("77338", "1", "", plan_day),
            ("77300", "1", "", plan_day), ("77386", "28", "", OLD))  # fmt: skip
    ok = assess(rt(*plan, day=OLD))
    assert not ok.needs_review, [(f.rule_id, f.message) for f in ok.findings]
    same_day = assess(rt(*plan, ("77290", "1", "", plan_day), day=OLD))
    assert [c.codes for c in same_day.corrections] == [("77290",)] and not same_day.needs_review
    assert not fired(same_day, "RO-RB1")
    earlier = assess(rt(*plan, ("77290", "1", "", "2025-05-20"), day=OLD))
    assert fired(earlier, "RO-RB1") and earlier.needs_review
    assert _finding(earlier, "RO-RB1").codes == ("77290", "77301")


def test_weekly_management_units_follow_the_leftover_rule() -> None:
    fractions = (1, 2, 3, 4, 5, 6, 7, 8, 28, 30)
    assert [weekly_units(n) for n in fractions] == [0, 0, 1, 1, 1, 1, 1, 2, 6, 6]
