"""Radiation oncology across the claims of a course (rules/checks/courses.py, spec §6.3, §7,
issue 13).

Each case is a course billed over several claims, in the order they arrive; each claim is
assessed within the course as it stands (``assess_in_course``). ``fires``: the last claim's
decision carries the rule's finding as described. ``quiet``: as close a course as possible on
which no claim is ever given the rule's finding, in its decision or in a correction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from rules import assess
from rules.catalogue import RULES
from rules.checks.courses import COURSE_CHECKS
from rules.pack import RulePack, current_pack
from rules.sources import SPECIFICATION
from schemas import SubmittedClaim
from schemas.base import SHORT_TEXT_MAX
from schemas.decision import Confidence, Finding, Severity
from tests.rules.checks.builders import EX, template_pack
from tests.rules.course_builder import BONE, START, claim, days, fx, on, run

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class CourseCase:
    arrive: Callable[[], Sequence[SubmittedClaim]]
    stay_quiet: Callable[[], Sequence[SubmittedClaim]]
    severity: Severity
    says: str
    codes: tuple[str, ...] | None = None
    pack: Callable[[], RulePack] = field(default=current_pack)

    # What ``tests.rules.rule_cases.decide`` reads (the explanation tests over every rule): the
    # last claim on its own; course findings come only from ``assess_in_course`` (below).
    @property
    def fires(self) -> Callable[[], SubmittedClaim]:
        return lambda: self.arrive()[-1]

    @property
    def quiet(self) -> Callable[[], SubmittedClaim]:
        return lambda: self.stay_quiet()[-1]


W = START  # week one
PLAN = on("77263", START - timedelta(days=7))  # the physician's plan, a week before delivery

CASES: dict[str, CourseCase] = {
    "RO-CC0": CourseCase(
        arrive=lambda: [claim("H1", *fx("77412", W, 5), version=2),
                        claim("H1", *fx("77412", W, 4), version=1)],
        stay_quiet=lambda: [claim("H1", *fx("77412", W, 4), version=1),
                            claim("H1", *fx("77412", W, 5), version=2)],
        severity=WARNING,
        says="Version 1 of this claim is older than version 2, which the course already counts",
        codes=("77412",)),
    # Simulation on the hospital's planning claim; the deliveries' claim dated before it.
    "RO-CC1": CourseCase(
        arrive=lambda: [claim("H1", on("77290", W + timedelta(days=7)), on("77263", W)),
                        claim("H2", *fx("77412", W, 5))],
        stay_quiet=lambda: [claim("H1", on("77290", W), on("77263", W)),
                            claim("H2", *fx("77412", W, 5))],
        severity=ERROR,
        says="Delivery on 2025-06-02 precedes simulation (77290) on 2025-06-09",
        codes=("77290", "77412")),
    "RO-CC2": CourseCase(  # NC
        arrive=lambda: [claim("H1", *fx("77412", W, 5))],
        stay_quiet=lambda: [claim("P1", PLAN, party="physician"),
                            claim("H1", *fx("77412", W, 5))],
        severity=ERROR,
        says="Delivery from 2025-06-02 with no clinical treatment planning, simulation or "
        "dosimetric planning on record for the course",
        codes=("77412",)),
    # R6: 27 fractions are five weeks; the two after the final billing get nothing more.
    "RO-CC3": CourseCase(
        arrive=lambda: [claim("P1", PLAN, on("77427", W + timedelta(days=32), "5"),
                              party="physician"),
                        claim("H1", *fx("77412", W, 27)),
                        claim("P2", on("77427", W + timedelta(days=37)), party="physician")],
        stay_quiet=lambda: [claim("P1", PLAN, on("77427", W + timedelta(days=32), "5"),
                                  party="physician"),
                            claim("H1", *fx("77412", W, 27))],
        severity=ERROR,
        says="77427 x6 across the course's claims (professional (physician) billing) for 27 "
        "fractions: at most 5 (2 fraction(s) beyond a multiple of five are paid with the "
        "weeks before)",
        codes=("77427",)),
    "RO-CC4": CourseCase(
        arrive=lambda: [claim("H1", on("77263", W), *fx("77412", W, 3)),
                        claim("P1", on("77431", W + timedelta(days=2)), party="physician")],
        stay_quiet=lambda: [claim("H1", on("77263", W), *fx("77412", W, 2)),
                            claim("P1", on("77431", W + timedelta(days=1)), party="physician")],
        severity=ERROR, says="77431 is for a course of 1-2 fractions; the course's claims "
        "deliver 3", codes=("77431",)),
    "RO-CC5": CourseCase(
        arrive=lambda: [claim("H1", on("77263", W), *fx("77412", W, 10)),
                        claim("H2", on("77336", W + timedelta(days=11), "3"))],
        stay_quiet=lambda: [claim("H1", on("77263", W), *fx("77412", W, 10)),
                            claim("H2", on("77336", W + timedelta(days=11), "2"))],
        severity=ERROR,
        says="77336 x3 across the course's claims (technical (facility) billing) for 10 "
        "fractions: at most one per five fractions", codes=("77336",)),
    "RO-CC6": CourseCase(  # NC
        arrive=lambda: [claim("H1", on("77263", W), *fx("77412", W, 8)),
                        claim("H2", on("77336", W + timedelta(days=11), "2"))],
        stay_quiet=lambda: [claim("H1", on("77263", W), *fx("77412", W, 10)),
                            claim("H2", on("77336", W + timedelta(days=11), "2"))],
        severity=ERROR,
        says="77336 x2 across the course's claims for 8 fractions counts 3-4 leftover "
        "fractions as a week", codes=("77336",)),
    # The hospital's 77470 and the physician's 77470-26 are one each per party.
    "RO-CC7": CourseCase(
        arrive=lambda: [claim("P1", on("77470", W), party="physician"),
                        claim("P2", on("77470", W + timedelta(days=3)), party="physician")],
        stay_quiet=lambda: [claim("P1", on("77470", W, mods="26"), party="physician"),
                            claim("H1", on("77470", W + timedelta(days=3)))],
        severity=ERROR,
        says="77470 is once per course; 2 units billed across the course's claims "
        "(professional (physician) billing)", codes=("77470",)),
    # A plan after the course's first delivery opens a new course: no second plan in one.
    "RO-CC8": CourseCase(
        arrive=lambda: [claim("P1", on("77263", W), party="physician"),
                        claim("P2", on("77262", W + timedelta(days=2)), party="physician")],
        stay_quiet=lambda: [claim("P1", on("77263", W), party="physician"),
                            claim("H1", *fx("77412", W + timedelta(days=1), 5)),
                            claim("P2", on("77263", W + timedelta(days=14)), party="physician")],
        severity=WARNING,
        says="Clinical treatment planning billed 2 times in one course (77262, 77263)",
        codes=("77262", "77263")),
    "RO-CC9": CourseCase(
        arrive=lambda: [claim("H1", on("77263", W), *fx("77373", W, 3)),
                        claim("H2", *fx("77373", W + timedelta(days=7), 3))],
        stay_quiet=lambda: [claim("H1", on("77263", W), *fx("77373", W, 3)),
                            claim("H2", *fx("77373", W + timedelta(days=7), 2))],
        severity=ERROR, says="SBRT is at most 5 fractions; 6 billed across the course's claims",
        codes=("77373",)),
    "RO-CC10": CourseCase(
        arrive=lambda: [claim("H1", on("77263", W), on("77372", W)),
                        claim("H2", on("77372", W + timedelta(days=2)))],
        stay_quiet=lambda: [claim("H1", on("77263", W), on("77372", W)),
                            claim("H2", on("77432", W + timedelta(days=2)))],
        severity=ERROR,
        says="SRS delivery is one session per course; 2 billed across the course's claims",
        codes=("77372",)),
    # RB1 across dates and claims; 77300 is not on the list.
    "RO-CC11": CourseCase(
        arrive=lambda: [claim("H1", on("77301", W + timedelta(days=4))),
                        claim("H2", on("77290", W))],
        stay_quiet=lambda: [claim("H1", on("77301", W + timedelta(days=4))),
                            claim("H2", on("77300", W))],
        severity=ERROR,
        says="77290 billed while IMRT planning 77301 is billed on another claim of the course "
        "(2025-06-06)", codes=("77290", "77301")),
    "RO-CC12": CourseCase(
        arrive=lambda: [claim("H1", on("77301", W), on("77338", W)),
                        claim("H2", on("77338", W + timedelta(days=3)))],
        stay_quiet=lambda: [claim("H1", on("77301", W), on("77338", W)),
                            claim("H2", on("77301", W + timedelta(days=3)),
                                  on("77338", W + timedelta(days=3)))],
        severity=ERROR,
        says="77338 x2 across the course's claims (technical (facility) billing) with 1 IMRT "
        "plan(s) on record: at most 1", codes=("77338",)),
    # The area is the claim's first neoplasm diagnosis: C61 twice, or C61 and C79.51.
    "RO-CC13": CourseCase(
        arrive=lambda: [claim("H1", on("77307", W)),
                        claim("H2", on("77307", W + timedelta(days=3)))],
        stay_quiet=lambda: [claim("H1", on("77307", W)),
                            claim("H2", on("77307", W + timedelta(days=3)), dx=BONE)],
        severity=ERROR,
        says="2 teletherapy isodose plans across the course's claims for one treatment area "
        "(C61) in one course", codes=("77307",)),
    # The template's rows start 2026-01-01: EX-FX-BONE allows 10 fractions for C79.51.
    "RO-CC14": CourseCase(
        arrive=lambda: [claim("H1", on("77263", date(2026, 6, 1)),
                              *fx("77412", date(2026, 6, 1), 6), dx=BONE, **EX),
                        claim("H2", *fx("77412", date(2026, 6, 9), 6), dx=BONE, **EX)],
        stay_quiet=lambda: [claim("H1", on("77263", date(2026, 6, 1)),
                                  *fx("77412", date(2026, 6, 1), 5), dx=BONE, **EX),
                            claim("H2", *fx("77412", date(2026, 6, 8), 5), dx=BONE, **EX)],
        severity=ERROR,
        says="12 fractions across the course's claims; payer policy EX-FX-BONE allows 10",
        codes=("77412",), pack=template_pack),
    # EX-RB12-77338 allows 77338 three times per course.
    "RO-CC15": CourseCase(
        arrive=lambda: [claim("H1", on("77301", date(2026, 6, 1)),
                              on("77338", date(2026, 6, 1), "2"), **EX),
                        claim("H2", on("77301", date(2026, 6, 8)),
                              on("77338", date(2026, 6, 8), "2"), **EX)],
        stay_quiet=lambda: [claim("H1", on("77301", date(2026, 6, 1)),
                                  on("77338", date(2026, 6, 1), "2"), **EX),
                            claim("H2", on("77301", date(2026, 6, 8)),
                                  on("77338", date(2026, 6, 8), "1"), **EX)],
        severity=ERROR,
        says="77338: 4 units across the course's claims; payer policy EX-RB12-77338 allows 3",
        codes=("77338",), pack=template_pack),
    # A week's 77336 x2 for its own 7 fractions: RO-RB11 on the claim alone; the course's 12
    # fractions allow two.
    "RO-CC16": CourseCase(
        arrive=lambda: [claim("H1", on("77263", W), *fx("77412", W, 5)),
                        claim("H2", *fx("77412", W + timedelta(days=7), 7),
                              on("77336", W + timedelta(days=15), "2"))],
        stay_quiet=lambda: [claim("H1", on("77263", W), *fx("77412", W, 5)),
                            claim("H2", *fx("77412", W + timedelta(days=7), 7),
                                  on("77336", W + timedelta(days=15)))],
        severity=INFO,
        says="RO-RB11 on this claim's lines alone is not reported: its course has 1 other "
        "claim(s) on record", codes=("77336",)),
}  # fmt: skip

SUGGESTS = {
    "RO-CC3": "bill no more than 77427 x5 for the course",
    "RO-CC11": "remove them, unless furnished for a different treatment",
    "RO-CC13": "one plan unless distinct treatment areas are documented",
}


def test_every_course_rule_has_a_case_and_runs_in_a_course_check() -> None:
    declared = {r for r in RULES if r.startswith("RO-CC")}
    assert set(CASES) == declared
    assert {c.rule.id for c in COURSE_CHECKS} == declared - {"RO-CC0", "RO-CC16"}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_fires_and_says_what_it_should(rule_id: str) -> None:
    case = CASES[rule_id]
    history = run(case.arrive(), case.pack())
    findings = [f for f in history.last.assessment.findings if f.rule_id == rule_id]
    assert findings, f"{rule_id} made no finding"
    first = findings[0]
    assert first.severity is case.severity, first
    assert case.says in first.message, first.message
    if case.codes is not None:
        assert first.codes == case.codes
    assert first.suggested_correction == SUGGESTS.get(rule_id)
    rule = RULES[rule_id]
    assert first.confidence is rule.confidence
    assert first.citations[-len(rule.citations) :] == rule.citations
    assert first.citations[-1].source == SPECIFICATION
    assert f" Why: {rule.why} What to do: " in first.message
    assert len(first.message) <= SHORT_TEXT_MAX
    if first.severity is ERROR:
        assert history.last.assessment.needs_review
    if rule.confidence is Confidence.NEEDS_CONFIRMATION:
        assert first.suggested_correction is None and first.severity is ERROR


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_is_silent_on_its_negative_case(rule_id: str) -> None:
    case = CASES[rule_id]
    history = run(case.stay_quiet(), case.pack())
    assert not history.ever(rule_id)


def test_ro_cc10_srs_management_is_once_per_course_even_on_one_claim() -> None:
    # The in-claim once-per-course check knows 77470 and 77435 only: 77432 is this rule's.
    h = run([claim("P1", on("77432", START, "2"), party="physician")])
    [finding] = [f for f in h.last.assessment.findings if f.rule_id == "RO-CC10"]
    assert finding.message.startswith(
        "SRS management 77432 is once per course; 2 units billed across the course's claims "
        "(professional (physician) billing). Why: "
    )


# -- in-claim counts in a course of several claims ---------------------------------------------


def _rule_ids(findings: Sequence[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def _final_week() -> SubmittedClaim:
    """The last week of a 28-fraction course: 3 fractions, 77336 x2 (weeks five and six)."""
    return claim("H6", *fx("77412", W + timedelta(days=35), 3),
                 on("77336", W + timedelta(days=37), "2"))  # fmt: skip


def _first_weeks() -> list[SubmittedClaim]:
    """The course's plan and its first 25 fractions (five weeks), physics billed weekly: 77336
    x4 of the 5 the 25 fractions allow, the fifth left for the last claim."""
    weeks = [claim(f"H{n}", *fx("77412", W + timedelta(days=7 * (n - 1)), 5),
                   *([on("77336", W + timedelta(days=7 * (n - 1) + 4))] if n > 1 else []))
             for n in range(1, 6)]  # fmt: skip
    return [claim("P0", PLAN, party="physician"), *weeks]


def _sevens() -> list[SubmittedClaim]:
    """A course of 28 fractions billed in four claims of seven, 77336 x1 on each of the first
    three and x2 on the last (five units: what 28 fractions allow)."""
    treatment = days(W, 28)
    out = []
    for n in range(4):
        block = treatment[7 * n : 7 * n + 7]
        out.append(claim(f"H{n + 1}", *(on("77412", d) for d in block),
                         on("77336", block[-1], "2" if n == 3 else "1")))  # fmt: skip
    return [claim("P0", PLAN, party="physician"), *out]


def test_a_weeks_physics_within_the_courses_fractions_is_not_an_error() -> None:
    # The brief's case: a final claim of 7 fractions with 77336 x2 in a course of 28 fractions.
    *first, final = _sevens()
    assert "RO-RB11" in _rule_ids(assess(final).findings)  # 7 fractions allow one on their own
    h = run([*first, final])
    said = h.last.assessment.findings
    assert "RO-RB11" not in _rule_ids(said)
    assert not h.ever("RO-CC5") and not h.ever("RO-CC6")  # 28 fractions allow five
    [note] = [f for f in said if f.rule_id == "RO-CC16"]
    assert note.severity is INFO and note.codes == ("77336",)
    assert "its course has 4 other claim(s) on record" in note.message
    assert not h.last.assessment.needs_review  # RO-RB11 was its only error


def test_a_single_claim_course_keeps_the_in_claim_finding() -> None:
    final = _sevens()[-1]
    h = run([final])
    said = _rule_ids(h.last.assessment.findings)
    assert "RO-RB11" in said and "RO-CC16" not in said and "RO-CC5" not in said
    assert h.last.assessment.needs_review


def test_the_course_twin_reports_what_the_course_exceeds_for_a_shared_claim() -> None:
    # 28 fractions allow 77336 x5 (a sixth is the NC remainder); x7 is two too many.
    h = run([*_first_weeks(), claim("H6", *fx("77412", W + timedelta(days=35), 3),
                                    on("77336", W + timedelta(days=37), "3"))])  # fmt: skip
    said = _rule_ids(h.last.assessment.findings)
    assert "RO-RB11" not in said and "RO-CC5" in said and "RO-CC16" in said
    assert h.last.assessment.needs_review


def test_a_claim_that_arrived_alone_is_corrected_when_its_course_fills_in() -> None:
    # The final week first: alone, its 77336 x2 for 3 fractions is RO-RB11. The earlier weeks
    # then show 28 fractions, which allow it: a correction withdraws the finding, so the end
    # is the same as when the final week arrives last.
    h = run([_final_week(), *_first_weeks()])
    assert "RO-RB11" in _rule_ids(h.steps[0].result.assessment.findings)
    fixes = [c for s in h.steps for c in s.result.corrections if c.claim_id == "H6"]
    assert fixes and "RO-RB11" in _rule_ids(fixes[0].before)
    assert _rule_ids(fixes[-1].after) == ["RO-CC6"]  # the sixth unit: the NC remainder
    in_order = run([*_first_weeks(), _final_week()])
    assert h.state == in_order.state
    assert h.reported()["H6"] == in_order.reported()["H6"]
    assert _rule_ids(in_order.reported()["H6"]) == ["RO-CC6"]


def test_a_claim_left_alone_again_is_told_its_in_claim_findings() -> None:
    # The final week joins a course, then the other claim's new version moves away: the
    # final week is alone again and is told what its own lines show, as if it had come alone.
    other = claim(
        "H1", on("77263", W + timedelta(days=21)), *fx("77412", W + timedelta(days=21), 5)
    )
    moved = claim("H1", on("77263", W + timedelta(days=120)),
                  *fx("77412", W + timedelta(days=120), 5), version=2)  # fmt: skip
    h = run([other, _final_week(), moved])
    [fix] = [c for c in h.last.corrections if c.claim_id == "H6"]
    assert "RO-RB11" in _rule_ids(fix.after) and "RO-RB11" not in _rule_ids(fix.before)
    alone_first = run([moved, _final_week()])
    assert h.state == alone_first.state
    assert h.reported()["H6"] == alone_first.reported()["H6"]
