"""One positive and one negative case per claim rule (sequencing, bundling, radiation,
coverage, data releases), named after its id, plus the payer-policy and correction paths."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from rules import Assessment, assess
from rules.catalogue import RULES
from rules.pack import RulePack, current_texts, pack_from_texts
from schemas import SubmittedClaim
from schemas.decision import CorrectionAction, Severity
from tests.rules.mar_builder import admin, claim, fired

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "payer-pack-template.csv"
Case = Callable[[], SubmittedClaim | tuple[SubmittedClaim, RulePack]]
OLD = "2025-06-02"  # a quarter in which the freestanding G-codes were in force


@cache
def template_pack() -> RulePack:
    """The shipped pack with the documented payer template's example rows as its policies."""
    texts = current_texts()
    texts["payer_policies.csv"] = TEMPLATE.read_text(encoding="utf-8")
    return pack_from_texts("template-test", texts)


def chemo(*lines: tuple[str, ...], **kw: object) -> SubmittedClaim:
    """Gemcitabine 1,000 mg over 30 minutes (96413) with its supply line, plus ``lines``."""
    gem = admin("gemcitabine", "09:00", "09:30", dose="1000")
    return claim(gem, lines=(("J9201", "5"), *lines), **kw)  # type: ignore[arg-type]


def ns(start: str, stop: str, dose: str = "1000") -> dict[str, object]:
    return admin("normal saline", start, stop, dose=dose, unit="mL")


def rt(*lines: tuple[str, ...], **kw: object) -> SubmittedClaim:
    kw.setdefault("dx", ("Z51.0", "C61"))
    return claim(lines=lines, **kw)  # type: ignore[arg-type]


def ex(c: SubmittedClaim) -> tuple[SubmittedClaim, RulePack]:
    return c, template_pack()


@cache
def no_ptp_pack() -> RulePack:
    """The shipped pack without NCCI PTP edits: the spec's own same-date rules are the
    backstop where the CMS table does not (yet) carry a pair."""
    texts = current_texts()
    texts["ncci_ptp_hospital.csv"] = texts["ncci_ptp_hospital.csv"].splitlines()[0] + "\n"
    return pack_from_texts("no-ptp-test", texts)


def bare(c: SubmittedClaim) -> tuple[SubmittedClaim, RulePack]:
    return c, no_ptp_pack()


EX = {"payer": "EXAMPLE-PAYER"}

CASES: dict[str, tuple[Case, Case]] = {
    "PACK-Q1": (lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000",
                                    day="2026-11-03"), lines=(("J9201", "5"),), day="2026-11-03"),
                lambda: chemo()),
    "PACK-Q2": (lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                              admin("ondansetron", "09:35", "09:37", dose="8"), setting="P"),
                lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                              admin("ondansetron", "09:35", "09:37", dose="8"))),
    "DX-V1": (lambda: chemo(dx=("Z51.11", "C50.91")), lambda: chemo()),
    "DX-V2": (lambda: claim(dx=("D47.Z1",)), lambda: claim(dx=("D47.Z9",))),
    "DX-S1": (lambda: chemo(dx=("C50.911", "Z51.11")), lambda: chemo()),
    "DX-S2": (lambda: chemo(dx=("Z51.11", "Z85.3")), lambda: chemo()),
    "DX-S3": (lambda: rt(("77770", "1"), dx=("Z51.0", "C53.9")),
              lambda: rt(("77770", "1"), dx=("C53.9", "Z51.0"))),
    "DX-S4": (lambda: claim(dx=("D63.0", "C61")), lambda: claim(dx=("C61", "D63.0"))),
    "DX-S5": (lambda: claim(dx=("D64.81", "C50.911")),
              lambda: claim(dx=("D64.81", "C50.911", "T45.1X5A"))),
    "DX-S6": (lambda: claim(dx=("Y84.2", "D64.89", "C53.9")),
              lambda: claim(dx=("D64.89", "C53.9", "Y84.2"))),
    "DX-S7": (lambda: claim(ns("10:00", "11:00"), dx=("C50.911", "E86.0")),
              lambda: claim(ns("10:00", "11:00"), dx=("E86.0", "C50.911"))),
    "DX-S8": (lambda: claim(dx=("T45.1X5A", "R11.2", "C50.911")),
              lambda: claim(dx=("R11.2", "T45.1X5A", "C50.911"))),
    "DX-S9": (lambda: claim(dx=("Z85.3", "Z08")), lambda: claim(dx=("Z08", "Z85.3"))),
    "DX-S10": (lambda: claim(dx=("Z08", "Z85.3", "C50.911")), lambda: claim(dx=("Z08", "Z85.3"))),
    "DX-N1": (lambda: chemo(("19301", "1")), lambda: chemo()),
    "DX-N2": (lambda: chemo(dx=("Z51.11", "R11.2", "C50.911")),
              lambda: chemo(dx=("Z51.11", "C50.911", "R11.2"))),
    "NCCI-PTP": (lambda: claim(lines=(("96413", "1"), ("96372", "1"))),
                 lambda: claim(lines=(("96413", "1"), ("96372", "1", "XU")))),
    "NCCI-ADDON": (lambda: claim(lines=(("96415", "1"),)),
                   lambda: claim(lines=(("96413", "1"), ("96415", "1")))),
    "NCCI-MUE": (lambda: claim(lines=(("96365", "1"), ("96368", "2"))),
                 lambda: claim(lines=(("96365", "1"), ("96368", "1")))),
    "BND-B2": (lambda: claim(lines=(("96523", "1"), ("99213", "1", "25"))),
               lambda: claim(lines=(("96523", "1"),))),
    "BND-B3": (lambda: claim(lines=(("36591", "1"), ("99213", "1"))),
               lambda: claim(lines=(("36591", "1"), ("85025", "1")))),
    "BND-B7": (lambda: chemo(("99211", "1")), lambda: chemo(("99213", "1", "25"))),
    "BND-B7E": (lambda: chemo(("99213", "1")), lambda: chemo(("99213", "1", "25"))),
    "BND-B8": (lambda: chemo(("36000", "1")), lambda: claim(lines=(("36000", "1"),))),
    "BND-B9": (lambda: claim(lines=(("96416", "1"), ("96521", "1"))),
               lambda: claim(lines=(("96416", "1"),))),
    "BND-B9M": (lambda: claim(lines=(("96413", "1"), ("96521", "1"))),
                lambda: claim(lines=(("96413", "1"), ("96521", "1")), payer="ACME")),
    "BND-B11": (lambda: ex(claim(lines=(("96413", "1"), ("96361", "1")), **EX)),
                lambda: ex(claim(lines=(("96413", "1"), ("96361", "1", "59")), **EX))),
    "BND-B12": (lambda: ex(claim(ns("10:00", "11:00", dose="500"), **EX)),
                lambda: ex(claim(ns("10:00", "11:00", dose="1000"), **EX))),
    "CODE-Q1": (lambda: rt(("G6015", "1"), setting="R"), lambda: rt(("77402", "1"), setting="R")),
    "CODE-B1": (lambda: rt(("G6015", "1"), day=OLD), lambda: rt(("77385", "1"), day=OLD)),
    "RO-G1": (lambda: rt(("77402", "1"), setting="R", day=OLD),
              lambda: rt(("77402", "1"), setting="R")),
    "RO-RB1": (lambda: rt(("77301", "1"), ("77290", "1", "", "2026-04-27")),
               lambda: rt(("77301", "1"), ("77300", "1"), ("77386", "1"))),
    "RO-RB2": (lambda: ex(rt(("77301", "1"), ("77290", "1", "", "2026-04-20"), **EX)),
               lambda: rt(("77301", "1"), ("77290", "1", "", "2026-04-20"))),
    "RO-RB4": (lambda: bare(rt(("77300", "1"), ("77307", "1"))),
               lambda: rt(("77300", "1"), ("77301", "1"))),
    "RO-RB5": (lambda: rt(("77307", "2"),), lambda: rt(("77307", "1"),)),
    "RO-RB6": (lambda: rt(("77386", "1"), ("77373", "1")), lambda: rt(("77386", "1"),)),
    "RO-RB7": (lambda: bare(rt(("77373", "1"), ("77402", "1"))), lambda: rt(("77373", "1"),)),
    "RO-RB8": (lambda: bare(rt(("77401", "1"), ("77427", "1"), day=OLD)),
               lambda: rt(("77401", "1"), day=OLD)),
    "RO-RB9": (lambda: rt(("77301", "1"), ("77780", "1")), lambda: rt(("77301", "1"),)),
    "RO-RB10": (lambda: bare(rt(("77290", "1"), ("77285", "1"))), lambda: rt(("77290", "1"),)),
    "RO-RB11": (lambda: rt(("77470", "2"),), lambda: rt(("77470", "1"),)),
    "RO-Q14": (lambda: rt(("77402", "8"), ("77336", "2")),
               lambda: rt(("77402", "10"), ("77336", "2"))),
    "RO-RB12": (lambda: ex(rt(("77338", "4"), **EX)), lambda: ex(rt(("77338", "3"), **EX))),
    "RO-C1": (lambda: rt(("77263", "1", "", "2026-05-06"), ("77402", "1", "", "2026-05-04")),
              lambda: rt(("77263", "1", "", "2026-05-04"), ("77402", "1", "", "2026-05-06"))),
    "RO-W1": (lambda: rt(("77402", "28"), ("77427", "7")),
              lambda: rt(("77402", "28"), ("77427", "6"))),
    "RO-W2": (lambda: rt(("77402", "2"), ("77427", "1")),
              lambda: rt(("77402", "2"), ("77431", "1"))),
    "RO-HS1": (lambda: rt(("77373", "1"),), lambda: rt(("77402", "1"),)),
    "COV-PROTON": (lambda: rt(("77522", "1"), dx=("Z51.0", "C71.9")),
                   lambda: rt(("77522", "1"), dx=("Z51.0", "C71.9"), payer="ACME")),
    "COV-IMRT": (lambda: ex(rt(("77386", "1"), **EX)), lambda: rt(("77386", "1"),)),
    "COV-FX": (lambda: ex(rt(("77402", "12"), dx=("Z51.0", "C79.51"), **EX)),
               lambda: ex(rt(("77402", "10"), dx=("Z51.0", "C79.51"), **EX))),
    "COV-CW": (lambda: rt(("77402", "5"), dx=("Z51.0", "C79.51")),
               lambda: rt(("77402", "1"), dx=("Z51.0", "C79.51"))),
}  # fmt: skip


def run(case: Case) -> Assessment:
    made = case()
    if isinstance(made, tuple):
        return assess(made[0], made[1])
    return assess(made)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_claim_rule_fires_on_its_positive_case(rule_id: str) -> None:
    result = run(CASES[rule_id][0])
    assert fired(result, rule_id), [(f.rule_id, f.message) for f in result.findings]
    finding = next(f for f in result.findings if f.rule_id == rule_id)
    assert finding.citations and finding.message and finding.confidence is RULES[rule_id].confidence
    if RULES[rule_id].confidence.value == "NC":
        assert result.needs_review and finding.suggested_correction is None


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_claim_rule_is_silent_on_its_negative_case(rule_id: str) -> None:
    result = run(CASES[rule_id][1])
    assert not fired(result, rule_id), [f.message for f in result.findings if f.rule_id == rule_id]


def test_a_correctly_coded_chemotherapy_claim_has_no_claim_findings() -> None:
    assert assess(chemo()).findings == ()


# -- payer policies: the sequencing override model (spec 5.2) --------------------------------


def test_dx_s1_health_net_policy_resequences_and_records_the_policy() -> None:
    result = assess(chemo(dx=("C50.911", "Z51.11"), payer="HEALTHNET-CA"))
    [correction] = result.corrections
    assert correction.action is CorrectionAction.RESEQUENCE_DIAGNOSES
    assert correction.diagnoses == ("Z51.11", "C50.911")
    assert correction.policy_id == "HNCA-2021-Z51"
    [finding] = [f for f in result.findings if f.rule_id == "DX-S1"]
    assert finding.severity is Severity.WARNING and not result.needs_review
    assert any("healthnetcalifornia.com" in (c.url or "") for c in finding.citations)


def test_dx_s1_policy_before_its_effective_date_does_not_apply() -> None:
    mar = admin("gemcitabine", "09:00", "09:30", dose="1000", day="2021-02-01")
    result = assess(claim(mar, lines=(("J9201", "5"),), day="2021-02-01",
                          dx=("C50.911", "Z51.11"), payer="HEALTHNET-CA"))  # fmt: skip
    assert result.needs_review and not result.corrections


def test_dx_s1_without_a_policy_row_goes_to_review_never_resequenced() -> None:
    result = assess(chemo(dx=("C50.911", "Z51.11")))
    assert result.needs_review and not result.corrections
    [finding] = [f for f in result.findings if f.rule_id == "DX-S1"]
    assert finding.suggested_correction == "move Z51.11 to first position"


def test_dx_s1_policy_cannot_add_a_missing_z51_code() -> None:
    result = assess(chemo(dx=("C50.911",), payer="HEALTHNET-CA"))
    assert result.needs_review and not result.corrections


def test_dx_s1_accept_as_billed_only_for_the_plan_named() -> None:
    legacy = assess(chemo(dx=("C50.911", "Z51.11"), payer="EXAMPLE-PAYER", plan="LEGACY"),
                    template_pack())  # fmt: skip
    assert not legacy.needs_review
    [finding] = [f for f in legacy.findings if f.rule_id == "DX-S1"]
    assert finding.severity is Severity.INFO and "EX-Z51-ACCEPT" in finding.message
    other = assess(chemo(dx=("C50.911", "Z51.11"), payer="EXAMPLE-PAYER", plan="HMO"),
                   template_pack())  # fmt: skip
    assert other.needs_review


def test_several_therapy_types_accept_either_z51_first() -> None:
    both = chemo(("77402", "1"), dx=("Z51.0", "Z51.11", "C50.911"))
    assert not fired(assess(both), "DX-S1")


# -- corrections that are certain ------------------------------------------------------------


def test_ncci_ptp_indicator_0_removes_the_column_two_line() -> None:
    result = assess(claim(lines=(("96406", "1"), ("96405", "1"))))
    [correction] = result.corrections
    assert correction.action is CorrectionAction.REMOVE_LINE and correction.line_numbers == (2,)
    assert not result.needs_review


def test_ncci_ptp_indicator_1_on_computed_lines_goes_to_review() -> None:
    result = claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                   admin("filgrastim", "10:00", route="SQ", site=None, dose="480", unit="mcg"),
                   lines=(("J9201", "5"), ("J1442", "480")))  # fmt: skip
    assessed = assess(result)
    [ptp] = [f for f in assessed.findings if f.rule_id == "NCCI-PTP"]
    assert ptp.codes == ("96372", "96413") and assessed.needs_review


def test_bnd_b7_removes_99211_and_the_claim_still_passes() -> None:
    result = assess(chemo(("99211", "1"), setting="P"))
    assert [c.line_numbers for c in result.corrections] == [(2,)]
    assert not result.needs_review


def test_code_b1_99211_is_not_a_hospital_visit_code() -> None:
    assert fired(assess(claim(lines=(("99211", "1"),))), "CODE-B1")


def test_ro_rb6_flags_a_technical_modifier() -> None:
    assert fired(
        assess(
            rt(
                ("77386", "1", "TC"),
            )
        ),
        "RO-RB6",
    )


def test_ro_rb11_flags_77336_beyond_the_leftover_week() -> None:
    result = assess(rt(("77402", "8"), ("77336", "3")))
    assert fired(result, "RO-RB11") and not fired(result, "RO-Q14")


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


def test_cms_ptp_data_decides_same_date_pairs_the_spec_also_lists() -> None:
    """RB4, RB7, RB8 and RB10 pairs are NCCI edits with modifier indicator 0 in the CMS data:
    the certain removal is applied and the spec's rule (the backstop) stays silent."""
    for lines in ((("77300", "1"), ("77307", "1")), (("77373", "1"), ("77402", "1")),
                  (("77290", "1"), ("77285", "1"))):  # fmt: skip
        result = assess(rt(*lines))
        assert [c.rule_id for c in result.corrections] == ["NCCI-PTP"], lines


def test_weekly_management_units_follow_the_leftover_rule() -> None:
    from rules.checks.radiation import weekly_units

    assert [weekly_units(n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 28, 30)] == [
        0,
        0,
        1,
        1,
        1,
        1,
        1,
        2,
        6,
        6,
    ]
