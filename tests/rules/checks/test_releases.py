"""The pack's own data (rules/checks/releases.py): a date outside a data release, and a
professional claim checked with the hospital PTP table, are said, never silent."""

from __future__ import annotations

from rules import assess
from schemas import SubmittedClaim
from schemas.decision import Severity
from tests.rules.checks.builders import OLD, chemo, finding_detail_tests
from tests.rules.mar_builder import admin, claim
from tests.rules.rule_cases import RuleCase, rule_case_tests

LATE = "2026-11-03"  # after the newest I/OCE quarter and ICD-10-CM release of the pack


def _on(day: str) -> SubmittedClaim:
    """Gemcitabine 1,000 mg over 30 minutes with its supply line on ``day``."""
    gem = admin("gemcitabine", "09:00", "09:30", dose="1000", day=day)
    return claim(gem, lines=(("J9201", "5"),), day=day)


def _pair(setting: str) -> SubmittedClaim:
    """Gemcitabine then ondansetron: two distinct administration codes on one date."""
    return claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                 admin("ondansetron", "09:35", "09:37", dose="8"), setting=setting)  # fmt: skip


CASES: dict[str, RuleCase] = {
    "PACK-Q1": RuleCase(
        fires=lambda: _on(LATE), quiet=chemo,  # chemo(): the same claim on 2026-05-04
        severity=Severity.INFO, says=f"it was applied to {LATE}, after that range", codes=()),
    "PACK-Q2": RuleCase(
        fires=lambda: _pair("P"), quiet=lambda: _pair("F"),
        severity=Severity.INFO,
        says="the hospital outpatient edits were applied to this professional claim", codes=()),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
test_the_finding_carries_its_rules_confidence_citations_and_suggestion = finding_detail_tests(
    CASES, {}
)


def test_pack_q1_names_each_release_that_misses_the_date_and_on_which_side() -> None:
    late = assess(_on(LATE))
    said = [f.message for f in late.findings if f.rule_id == "PACK-Q1"]
    assert len(said) == 2
    assert said[0].startswith("CMS I/OCE") and said[1].startswith("ICD-10-CM")
    assert all("after that range" in m for m in said)
    assert not late.needs_review
    # Before the ICD-10-CM release's first day, inside the I/OCE quarters: one note, "before".
    early = assess(_on(OLD))
    [note] = [f.message for f in early.findings if f.rule_id == "PACK-Q1"]
    assert note.startswith("ICD-10-CM") and f"applied to {OLD}, before that range" in note
