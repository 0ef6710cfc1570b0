"""The claim checks as the pipeline runs them (rules/checks/check.py, rules/pipeline.py): a
correctly coded claim passes them all, and after ``AsSent`` a line a certain correction
removed is not judged again."""

from __future__ import annotations

from rules import assess
from tests.rules.checks.builders import chemo
from tests.rules.mar_builder import claim, fired


def test_a_correctly_coded_chemotherapy_claim_has_no_claim_findings() -> None:
    result = assess(chemo())
    assert result.findings == () and result.corrections == () and not result.needs_review


def test_a_line_a_certain_correction_removed_is_not_judged_again() -> None:
    """99211 is OPPS status B (CODE-B1 on a hospital claim), but BND-B7 removes it beside the
    infusion before the code checks run, so the claim is not sent to review for it."""
    alone = assess(claim(lines=(("99211", "1"),)))
    assert fired(alone, "CODE-B1")
    removed = assess(chemo(("99211", "1")))
    assert [c.rule_id for c in removed.corrections] == ["BND-B7"]
    assert not fired(removed, "CODE-B1") and not removed.needs_review
