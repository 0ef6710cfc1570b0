"""MAR-W1: a claim decided without its MAR says so (rules/checks/mar.py, spec §2.1, issue 14).

The worker applies ``without_mar`` to a claim it decided before the MAR for its dates
arrived; ``assess`` never does. So the cases here are checked through ``without_mar``, and
``CASES`` serves the rule index and the explanation tests (which read ``assess`` alone).
"""

from __future__ import annotations

from typing import Any

from rules import assess
from rules.checks.mar import MAR_W1, dates_without_mar, without_mar
from schemas import SubmittedClaim
from schemas.decision import Severity
from tests.ingest.conftest import sample
from tests.rules.rule_cases import RuleCase


def _chemo(**update: Any) -> SubmittedClaim:
    return SubmittedClaim.model_validate(sample("13-nurse-visit-with-chemo.json")).model_copy(
        update=update
    )


def from_837() -> SubmittedClaim:
    """The chemo visit as an 837 carries it: its lines, no MAR."""
    return _chemo(administrations=(), encounters=())


CASES: dict[str, RuleCase] = {
    "MAR-W1": RuleCase(
        fires=from_837,
        quiet=_chemo,  # the same claim with its MAR
        severity=Severity.WARNING,
        says="No administration on record for 2026-05-03",
        codes=("J1200", "J9045"),
    ),
}


def _noted(claim: SubmittedClaim) -> list[Any]:
    return [f for f in without_mar(assess(claim), claim).findings if f.rule_id == MAR_W1.id]


def test_fires_and_says_what_it_should() -> None:
    case = CASES[MAR_W1.id]
    claim = case.fires()
    assert isinstance(claim, SubmittedClaim)
    (note,) = _noted(claim)
    assert note.severity is case.severity
    assert case.says in note.message
    assert note.codes == case.codes
    assert note.line_numbers == (1, 2)  # the drug lines; the 99211 is no MAR's business


def test_is_silent_on_its_negative_case() -> None:
    claim = CASES[MAR_W1.id].quiet()
    assert isinstance(claim, SubmittedClaim)
    assert dates_without_mar(claim) == ()
    assert without_mar(assess(claim), claim) == assess(claim)


def test_it_never_sends_a_claim_to_review_by_itself() -> None:
    claim = from_837()
    before = assess(claim)
    after = without_mar(before, claim)
    assert after.needs_review is before.needs_review
    assert after.findings[: len(before.findings)] == before.findings
    assert (after.computed_lines, after.corrections) == (before.computed_lines, before.corrections)


def test_assess_alone_never_notes_it() -> None:
    assert not [f for f in assess(from_837()).findings if f.rule_id == MAR_W1.id]


def test_a_claim_without_drug_lines_needs_no_mar() -> None:
    radiation = SubmittedClaim.model_validate(sample("11-radiation-imrt-plan.json"))
    assert dates_without_mar(radiation) == ()
    assert without_mar(assess(radiation), radiation) == assess(radiation)
