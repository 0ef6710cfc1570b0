"""Bundling and unit limits (rules/checks/bundling.py, spec §6.1, §6.2, §2.10): a certain
removal of a submitted line is a correction with a warning; everything else goes to review."""

from __future__ import annotations

import pytest

from rules import assess
from schemas.decision import CorrectionAction, Severity
from tests.rules.checks.builders import EX, chemo, ex, finding_detail_tests, ns, rt
from tests.rules.mar_builder import admin, claim, fired
from tests.rules.rule_cases import RuleCase, decide, rule_case_tests

ERROR, WARNING = Severity.ERROR, Severity.WARNING
REMOVE = CorrectionAction.REMOVE_LINE

CASES: dict[str, RuleCase] = {
    # Indicator 1 without a bypass modifier: review; with XU the pair is allowed.
    "NCCI-PTP": RuleCase(
        fires=lambda: claim(lines=(("96413", "1"), ("96372", "1"))),
        quiet=lambda: claim(lines=(("96413", "1"), ("96372", "1", "XU"))),
        severity=ERROR, says="NCCI PTP edit 96413/96372 (modifier indicator 1)",
        codes=("96372", "96413")),
    "NCCI-ADDON": RuleCase(
        fires=lambda: claim(lines=(("96415", "1"),)),
        quiet=lambda: claim(lines=(("96413", "1"), ("96415", "1"))),
        severity=ERROR, says="Add-on 96415 on 2026-05-04 without an allowed primary (96413)",
        codes=("96415",)),
    "NCCI-MUE": RuleCase(
        fires=lambda: claim(lines=(("96365", "1"), ("96368", "2"))),
        quiet=lambda: claim(lines=(("96365", "1"), ("96368", "1"))),
        severity=ERROR, says="96368 on 2026-05-04: 2 units exceed the MUE of 1",
        codes=("96368",)),
    # H rules removing a submitted line: a certain correction, reported as a warning.
    "BND-B2": RuleCase(
        fires=lambda: claim(lines=(("96523", "1"), ("99213", "1", "25"))),
        quiet=lambda: claim(lines=(("96523", "1"),)),
        severity=WARNING, says="96523 on 2026-05-04 beside 99213. Line 1 removed.",
        codes=("96523", "99213"), correction=REMOVE),
    "BND-B3": RuleCase(
        fires=lambda: claim(lines=(("36591", "1"), ("99213", "1"))),
        quiet=lambda: claim(lines=(("36591", "1"), ("85025", "1"))),
        severity=ERROR, says="36591 on 2026-05-04 with other non-laboratory services (99213)",
        codes=("36591", "99213")),
    "BND-B7": RuleCase(
        fires=lambda: chemo(("99211", "1")), quiet=lambda: chemo(("99213", "1", "25")),
        severity=WARNING, says="99211 on 2026-05-04 with drug administration. Line 2 removed.",
        codes=("96413", "99211"), correction=REMOVE),
    "BND-B7E": RuleCase(
        fires=lambda: chemo(("99213", "1")), quiet=lambda: chemo(("99213", "1", "25")),
        severity=ERROR, says="99213 on 2026-05-04 with drug administration has no modifier 25",
        codes=("99213",)),
    "BND-B8": RuleCase(
        fires=lambda: chemo(("36000", "1")), quiet=lambda: claim(lines=(("36000", "1"),)),
        severity=WARNING, says="36000 on 2026-05-04 is part of the drug administration. Line 2",
        codes=("36000", "96413"), correction=REMOVE),
    "BND-B9": RuleCase(
        fires=lambda: claim(lines=(("96416", "1"), ("96521", "1"))),
        quiet=lambda: claim(lines=(("96416", "1"),)),
        severity=ERROR, says="Pump initiation and refill on 2026-05-04",
        codes=("96416", "96521")),
    "BND-B9M": RuleCase(
        fires=lambda: claim(lines=(("96413", "1"), ("96521", "1"))),
        quiet=lambda: claim(lines=(("96413", "1"), ("96521", "1")), payer="ACME"),
        severity=ERROR, says="Pump refill and chemotherapy administration on 2026-05-04 (Medicare)",
        codes=("96413", "96521")),
    # Payer rows (template pack): the row's severity; B12 is NC, so an error whatever the row.
    "BND-B11": RuleCase(
        fires=lambda: ex(claim(lines=(("96413", "1"), ("96361", "1")), **EX)),
        quiet=lambda: ex(claim(lines=(("96413", "1"), ("96361", "1", "59")), **EX)),
        severity=ERROR, says="payer policy EX-B11-HYD59 requires modifier 59",
        codes=("96361",)),
    "BND-B12": RuleCase(
        fires=lambda: ex(claim(ns("10:00", "11:00", dose="500"), **EX)),
        quiet=lambda: ex(claim(ns("10:00", "11:00", dose="1000"), **EX)),
        severity=ERROR, says="Hydration of 500 mL on 2026-05-04: payer policy EX-B12-500ML",
        codes=("96360",)),
}  # fmt: skip

SUGGESTS = {
    "NCCI-PTP": "append 59, XS, XU or XE to 96372 if it was distinct and documented; "
    "otherwise remove it",
    "NCCI-MUE": "bill at most 1 units of 96368 on 2026-05-04",
    "BND-B3": "remove 36591",
    "BND-B7E": "append 25 if a significant, separately identifiable E/M is documented; "
    "otherwise remove the visit",
    "BND-B9": "report the initiation only",
}

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
test_the_finding_carries_its_rules_confidence_citations_and_suggestion = finding_detail_tests(
    CASES, SUGGESTS
)


# -- corrections that are certain ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_id", "code", "line"), [("BND-B2", "96523", 1), ("BND-B7", "99211", 2),
                                  ("BND-B8", "36000", 2)],
)  # fmt: skip
def test_a_certain_removal_names_the_line_and_code_it_removes(
    rule_id: str, code: str, line: int
) -> None:
    result = decide(CASES[rule_id].fires)
    [correction] = [c for c in result.corrections if c.rule_id == rule_id]
    assert correction.codes == (code,) and correction.line_numbers == (line,)
    [finding] = [f for f in result.findings if f.rule_id == rule_id]
    assert line in finding.line_numbers
    assert f"Line {line} removed. Why: " in finding.message


def test_ncci_ptp_indicator_0_removes_the_column_two_line() -> None:
    result = assess(claim(lines=(("96406", "1"), ("96405", "1"))))
    [correction] = result.corrections
    assert correction.rule_id == "NCCI-PTP" and correction.action is REMOVE
    assert correction.line_numbers == (2,) and correction.codes == ("96405",)
    [finding] = [f for f in result.findings if f.rule_id == "NCCI-PTP"]
    assert finding.severity is WARNING and finding.codes == ("96405", "96406")
    assert "(modifier indicator 0)" in finding.message and "Line 2 removed." in finding.message
    assert not result.needs_review


def test_ncci_ptp_indicator_1_on_computed_lines_goes_to_review() -> None:
    result = claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                   admin("filgrastim", "10:00", route="SQ", site=None, dose="480", unit="mcg"),
                   lines=(("J9201", "5"), ("J1442", "480")))  # fmt: skip
    assessed = assess(result)
    [ptp] = [f for f in assessed.findings if f.rule_id == "NCCI-PTP"]
    assert ptp.codes == ("96372", "96413") and ptp.severity is ERROR and assessed.needs_review
    assert ptp.line_numbers == () and not assessed.corrections


def test_bnd_b7_removes_99211_and_the_claim_still_passes() -> None:
    result = assess(chemo(("99211", "1"), setting="P"))
    assert [(c.rule_id, c.line_numbers) for c in result.corrections] == [("BND-B7", (2,))]
    assert not result.needs_review


def test_bnd_b7e_pair_is_not_reported_again_by_ncci_ptp() -> None:
    result = assess(chemo(("99213", "1")))
    assert fired(result, "BND-B7E") and not fired(result, "NCCI-PTP")


def test_bnd_b8_leaves_an_iv_start_beside_a_subcutaneous_injection_alone() -> None:
    sq = admin("filgrastim", "10:00", route="SQ", site=None, dose="480", unit="mcg")
    result = assess(claim(sq, lines=(("J1442", "480"), ("36000", "1"))))
    assert not fired(result, "BND-B8")


# -- NCCI PTP per line pair ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("col1", "col2", "modifier"), [("96413", "96372", "59"), ("96413", "96360", "XE")]
)
def test_ncci_ptp_a_column_two_code_on_two_lines_needs_the_modifier_on_each(
    col1: str, col2: str, modifier: str
) -> None:
    """The I/OCE judges each pair of lines (edit 40): the bypass modifier on the first
    column-two line does not clear the second."""
    result = assess(claim(lines=((col1, "1"), (col2, "1", modifier), (col2, "1"))))
    [ptp] = [f for f in result.findings if f.rule_id == "NCCI-PTP"]
    assert ptp.line_numbers == (1, 3) and ptp.codes == tuple(sorted((col1, col2)))
    assert f"line 3 of {col2} has no NCCI-bypass modifier" in ptp.message
    assert result.needs_review
    both = assess(claim(lines=((col1, "1"), (col2, "1", modifier), (col2, "1", modifier))))
    assert not fired(both, "NCCI-PTP")


def test_ncci_ptp_removes_a_line_once_whatever_the_number_of_edits_against_it() -> None:
    # 77300 is the column-two code of both 77306 and 77307 (indicator 0).
    result = assess(rt(("77300", "1"), ("77306", "1"), ("77307", "1")))
    removed = [n for c in result.corrections for n in c.line_numbers]
    assert removed.count(1) == 1 and len(removed) == len(set(removed))
    removals = [f for f in result.findings if f.rule_id == "NCCI-PTP" and f.severity is WARNING]
    assert len(removals) == len(result.corrections) == 1


def test_ncci_ptp_never_judges_a_line_an_earlier_rule_removed() -> None:
    """99211 is removed beside chemotherapy (BND-B7); its NCCI pair with the clinic visit
    (indicator 1, no modifier on 99211) must not send the corrected claim to review."""
    result = assess(chemo(("99211", "1"), ("G0463", "1", "25")))
    assert [(c.rule_id, c.line_numbers) for c in result.corrections] == [("BND-B7", (2,))]
    assert not fired(result, "NCCI-PTP") and not result.needs_review
