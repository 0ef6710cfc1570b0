"""ICD-10-CM validity and sequencing (rules/checks/diagnoses.py, spec §5), with the payer
policy model of §5.2: the guideline decides unless a row naming a written policy says
otherwise, and a deviating claim without one goes to review, never resequenced."""

from __future__ import annotations

import pytest

from rules import assess
from schemas.decision import CorrectionAction, Severity
from tests.rules.checks.builders import chemo, finding_detail_tests, ns, rt, template_pack
from tests.rules.mar_builder import admin, claim, fired
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR = Severity.ERROR

CASES: dict[str, RuleCase] = {
    "DX-V1": RuleCase(
        fires=lambda: chemo(dx=("Z51.11", "C50.91")), quiet=chemo,
        severity=ERROR, says="C50.91 is a category header, not a billable code", codes=()),
    "DX-V2": RuleCase(
        fires=lambda: claim(dx=("D47.Z1",)), quiet=lambda: claim(dx=("D47.Z9",)),
        severity=ERROR, says="D47.Z1 is unacceptable as the principal diagnosis.", codes=()),
    "DX-S1": RuleCase(
        fires=lambda: chemo(dx=("C50.911", "Z51.11")), quiet=chemo,
        severity=ERROR, says="lists C50.911 first; the guideline puts Z51.11 or Z51.12 first",
        codes=()),
    "DX-S2": RuleCase(
        fires=lambda: chemo(dx=("Z51.11", "Z85.3")), quiet=chemo,
        severity=ERROR, says="Z51.11 is listed with no neoplasm code; Z85.3 is a history code",
        codes=()),
    "DX-S3": RuleCase(
        fires=lambda: rt(("77770", "1"), dx=("Z51.0", "C53.9")),
        quiet=lambda: rt(("77770", "1"), dx=("C53.9", "Z51.0")),
        severity=ERROR, says="Brachytherapy encounter lists Z51.0 first", codes=()),
    "DX-S4": RuleCase(
        fires=lambda: claim(dx=("D63.0", "C61")), quiet=lambda: claim(dx=("C61", "D63.0")),
        severity=ERROR, says="D63.0 (anemia in neoplastic disease) must follow the neoplasm",
        codes=()),
    "DX-S5": RuleCase(
        fires=lambda: claim(dx=("D64.81", "C50.911")),
        quiet=lambda: claim(dx=("D64.81", "C50.911", "T45.1X5A")),
        severity=ERROR, says="D64.81 (anemia due to antineoplastic chemotherapy) without T45.1X5-",
        codes=()),
    "DX-S6": RuleCase(
        fires=lambda: claim(dx=("Y84.2", "D64.89", "C53.9")),
        quiet=lambda: claim(dx=("D64.89", "C53.9", "Y84.2")),
        severity=ERROR, says="Y84.2 (radiotherapy as the cause) must follow the anemia code",
        codes=()),
    "DX-S7": RuleCase(
        fires=lambda: claim(ns("10:00", "11:00"), dx=("C50.911", "E86.0")),
        quiet=lambda: claim(ns("10:00", "11:00"), dx=("E86.0", "C50.911")),
        severity=ERROR, says="the complication E86.0 being treated is listed after the neoplasm",
        codes=()),
    "DX-S8": RuleCase(
        fires=lambda: claim(dx=("T45.1X5A", "R11.2", "C50.911")),
        quiet=lambda: claim(dx=("R11.2", "T45.1X5A", "C50.911")),
        severity=ERROR, says="T45.1X5A (adverse effect of antineoplastic drugs) is first-listed",
        codes=()),
    "DX-S9": RuleCase(
        fires=lambda: claim(dx=("Z85.3", "Z08")), quiet=lambda: claim(dx=("Z08", "Z85.3")),
        severity=ERROR, says="Z08 first, then the Z85 history code", codes=()),
    "DX-S10": RuleCase(
        fires=lambda: claim(dx=("Z08", "Z85.3", "C50.911")),
        quiet=lambda: claim(dx=("Z08", "Z85.3")),
        severity=ERROR, says="C50.911 is an active malignancy code on a follow-up (Z08) claim",
        codes=()),
    # NC: always an error, to review, whatever the rule's declared severity.
    "DX-N1": RuleCase(
        fires=lambda: chemo(("19301", "1")), quiet=chemo,
        severity=ERROR, says="Surgery and antineoplastic therapy on one claim", codes=()),
    "DX-N2": RuleCase(
        fires=lambda: chemo(dx=("Z51.11", "R11.2", "C50.911")),
        quiet=lambda: chemo(dx=("Z51.11", "C50.911", "R11.2")),
        severity=ERROR, says="A complication is listed before the neoplasm under treatment",
        codes=()),
}  # fmt: skip

SUGGESTS = {
    "DX-S1": "move Z51.11 to first position",
    "DX-S3": "list the neoplasm first",
    "DX-S4": "list the neoplasm before D63.0",
    "DX-S7": "list E86.0 first, then the neoplasm",
}

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)
test_the_finding_carries_its_rules_confidence_citations_and_suggestion = finding_detail_tests(
    CASES, SUGGESTS
)


# -- the other half of rules that check two things -------------------------------------------


@pytest.mark.parametrize(
    ("rule_id", "dx", "says"),
    [
        ("DX-V1", ("Z51.11", "C50.999"), "C50.999 is not an ICD-10-CM code in the pack's code set"),
        ("DX-S2", ("Z51.11", "D64.9"), "Z51.11 is listed with no neoplasm code."),
        ("DX-S5", ("T45.1X5A", "D64.81", "C50.911"), "T45.1X5- is listed before D64.81"),
        ("DX-S6", ("C53.9", "Y84.2"), "Y84.2 (radiotherapy as the cause) must follow"),
        ("DX-S9", ("Z08", "C50.911"), "Z08 first, then the Z85 history code"),
    ],
)
def test_second_condition_of_the_rule(rule_id: str, dx: tuple[str, ...], says: str) -> None:
    [finding] = [f for f in assess(chemo(dx=dx)).findings if f.rule_id == rule_id]
    assert finding.severity is ERROR and says in finding.message


def test_dx_v2_code_an_ioce_exclusion_may_accept_is_a_warning() -> None:
    result = assess(claim(dx=("Z51.89", "C50.911")))
    [finding] = [f for f in result.findings if f.rule_id == "DX-V2"]
    assert finding.severity is Severity.WARNING
    assert finding.message.startswith(
        "Z51.89 is unacceptable as the principal diagnosis unless an I/OCE exclusion applies. Why:"
    )
    assert not result.needs_review


def test_dx_v2_judges_institutional_claims_only() -> None:
    assert fired(assess(claim(dx=("D47.Z1",))), "DX-V2")
    assert not fired(assess(claim(dx=("D47.Z1",), setting="P")), "DX-V2")


# -- payer policies: the sequencing override model (spec 5.2) --------------------------------


def test_dx_s1_health_net_policy_resequences_and_records_the_policy() -> None:
    result = assess(chemo(dx=("C50.911", "Z51.11"), payer="HEALTHNET-CA"))
    [correction] = result.corrections
    assert correction.action is CorrectionAction.RESEQUENCE_DIAGNOSES
    assert correction.diagnoses == ("Z51.11", "C50.911")
    assert correction.policy_id == "HNCA-2021-Z51"
    [finding] = [f for f in result.findings if f.rule_id == "DX-S1"]
    assert finding.severity is Severity.WARNING and not result.needs_review
    assert "resequenced to Z51.11 first under payer policy HNCA-2021-Z51" in finding.message
    assert any("healthnetcalifornia.com" in (c.url or "") for c in finding.citations)


def test_dx_s1_policy_before_its_effective_date_does_not_apply() -> None:
    mar = admin("gemcitabine", "09:00", "09:30", dose="1000", day="2021-02-01")
    result = assess(claim(mar, lines=(("J9201", "5"),), day="2021-02-01",
                          dx=("C50.911", "Z51.11"), payer="HEALTHNET-CA"))  # fmt: skip
    assert result.needs_review and not result.corrections
    [finding] = [f for f in result.findings if f.rule_id == "DX-S1"]
    assert finding.severity is ERROR and "no payer policy in the pack" in finding.message


def test_dx_s1_without_a_policy_row_goes_to_review_never_resequenced() -> None:
    result = assess(chemo(dx=("C50.911", "Z51.11")))
    assert result.needs_review and not result.corrections
    [finding] = [f for f in result.findings if f.rule_id == "DX-S1"]
    assert finding.suggested_correction == "move Z51.11 to first position"


def test_dx_s1_policy_cannot_add_a_missing_z51_code() -> None:
    result = assess(chemo(dx=("C50.911",), payer="HEALTHNET-CA"))
    assert result.needs_review and not result.corrections
    [finding] = [f for f in result.findings if f.rule_id == "DX-S1"]
    assert finding.suggested_correction == (
        "add Z51.11 or Z51.12 as the first-listed diagnosis, then the malignancy"
    )


def test_dx_s1_accept_as_billed_only_for_the_plan_named() -> None:
    legacy = assess(chemo(dx=("C50.911", "Z51.11"), payer="EXAMPLE-PAYER", plan="LEGACY"),
                    template_pack())  # fmt: skip
    assert not legacy.needs_review and not legacy.corrections
    [finding] = [f for f in legacy.findings if f.rule_id == "DX-S1"]
    assert finding.severity is Severity.INFO and "EX-Z51-ACCEPT" in finding.message
    assert any(c.url == "https://payer.example/policies/sequencing.pdf" for c in finding.citations)
    other = assess(chemo(dx=("C50.911", "Z51.11"), payer="EXAMPLE-PAYER", plan="HMO"),
                   template_pack())  # fmt: skip
    assert other.needs_review


def test_several_therapy_types_accept_either_z51_first() -> None:
    for dx in (("Z51.0", "Z51.11", "C50.911"), ("Z51.11", "Z51.0", "C50.911")):
        assert not fired(assess(chemo(("77402", "1"), dx=dx)), "DX-S1"), dx
    [finding] = [
        f for f in assess(chemo(("77402", "1"), dx=("C50.911", "Z51.0"))).findings
        if f.rule_id == "DX-S1"
    ]  # fmt: skip
    assert "the guideline puts Z51.0 or Z51.11 or Z51.12 first" in finding.message
