"""Step H (spec 2.9): stand-alone routes and port irrigation."""

from __future__ import annotations

from typing import Any

import pytest

from rules import assess
from schemas.decision import Severity
from tests.rules.mar_builder import admin, claim, codes, rule_ids
from tests.rules.rule_cases import RuleCase, rule_case_tests

ERROR = Severity.ERROR

CASES: dict[str, RuleCase] = {
    # Bortezomib SQ is a non-hormonal antineoplastic injection (96401); IV it is a push.
    "ADM-H1": RuleCase(
        fires=lambda: claim(admin("bortezomib", "09:00", route="SQ")),
        quiet=lambda: claim(admin("bortezomib", "09:00", route="IV")),
        severity=None, lines={"96401": 1}),
    # Methotrexate by lumbar puncture is 96450; IV it is a push.
    "ADM-H2": RuleCase(
        fires=lambda: claim(admin("methotrexate 5 mg", "09:00", route="INTRATHECAL_LP")),
        quiet=lambda: claim(admin("methotrexate 5 mg", "09:00", route="IV")),
        severity=None, lines={"96450": 1}),
    # A documented port irrigation alone that day is 96523; a flush not documented as one is
    # the end of an infusion (ADM-A1).
    "ADM-H3": RuleCase(
        fires=lambda: claim(admin("heparin flush", "09:00", purpose="FLUSH", technique="FLUSH")),
        quiet=lambda: claim(admin("heparin flush", "09:00", purpose="FLUSH")),
        severity=None, lines={"96523": 1}),
    # A bladder instillation of gemcitabine; the same gemcitabine IV is a push.
    "ADM-H4": RuleCase(
        fires=lambda: claim(admin("gemcitabine", "09:00", route="INTRAVESICAL")),
        quiet=lambda: claim(admin("gemcitabine", "09:00", route="IV")),
        severity=ERROR, says="Intravesical instillation coded as 51720", lines={"51720": 1}),
    # Pegfilgrastim by on-body injector is 96377; the same dose injected is 96372.
    "ADM-H6": RuleCase(
        fires=lambda: claim(admin("pegfilgrastim", "14:00", route="SQ", hcpcs="J2506",
                                  technique="ON_BODY_INJECTOR", dose="6")),
        quiet=lambda: claim(admin("pegfilgrastim", "14:00", route="SQ", hcpcs="J2506",
                                  technique="INJECTION", dose="6")),
        severity=None, lines={"96377": 1}),
    # Iron intrathecally has no code; methotrexate intrathecally is 96450.
    "ADM-H5": RuleCase(
        fires=lambda: claim(admin("iron sucrose", "09:00", route="INTRATHECAL_LP")),
        quiet=lambda: claim(admin("methotrexate 5 mg", "09:00", route="INTRATHECAL_LP")),
        severity=ERROR,
        says="No code for therapeutic other route of iron sucrose by route INTRATHECAL_LP"),
}  # fmt: skip

test_fires_and_says_what_it_should, test_is_silent_on_its_negative_case = rule_case_tests(CASES)

MTX = "methotrexate 5 mg"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (admin(MTX, "09:00", route="INTRALESIONAL", lesions=7), {"96405": 1}),
        (admin(MTX, "09:00", route="INTRALESIONAL", lesions=8), {"96406": 1}),
        (admin(MTX, "09:00", route="INTRATHECAL_RESERVOIR"), {"96542": 1}),
        (admin(MTX, "09:00", route="PLEURAL"), {"96440": 1}),
        (admin(MTX, "09:00", route="PERITONEAL"), {"96446": 1}),
        (admin("fluorouracil", "09:00", "09:10", route="IA"), {"96420": 1}),
        (admin("fluorouracil", "09:00", "10:35", route="IA"), {"96422": 1, "96423": 1}),
        (admin("ondansetron", "09:00", route="IA"), {"96373": 1}),
        (admin("iron sucrose", "09:00", "09:45", route="SQ", technique="INFUSION"), {"96369": 1}),
    ],
    ids=["lesions-7", "lesions-8", "reservoir", "pleural", "peritoneal", "ia-push",
         "ia-infusion-95-min", "ia-therapeutic", "sq-infusion"],
)  # fmt: skip
def test_adm_h2_each_route_has_its_code(entry: dict[str, Any], expected: dict[str, int]) -> None:
    result = assess(claim(entry))
    assert codes(result) == expected
    assert "ADM-H2" in {r for line in result.computed_lines for r in line.rule_ids}


def test_adm_h2_intralesional_without_a_lesion_count_goes_to_review() -> None:
    result = assess(claim(admin(MTX, "09:00", route="INTRALESIONAL")))
    assert codes(result) == {}
    [finding] = [f for f in result.findings if f.rule_id == "ADM-H2"]
    assert finding.severity is Severity.ERROR and "without a lesion count" in finding.message


def test_adm_h3_a_flush_beside_another_service_is_integral() -> None:
    result = assess(
        claim(
            admin("heparin flush", "09:00", purpose="FLUSH", technique="FLUSH"),
            admin("iron sucrose", "09:05", "09:35"),
        )
    )
    assert [line.code for line in result.computed_lines] == ["96365"]
    assert any(f.rule_id == "ADM-H3" and "integral" in f.message for f in result.findings)


def test_adm_h3_a_submitted_service_that_day_makes_the_flush_integral() -> None:
    flush = admin("heparin flush", "09:00", purpose="FLUSH", technique="FLUSH")
    result = assess(claim(flush, lines=(("99213", "1"),)))
    assert codes(result) == {}
    assert "ADM-H3" in rule_ids(result)


def test_adm_h6_an_on_body_injector_is_not_also_an_injection_and_needs_the_sq_route() -> None:
    applied = assess(claim(admin("pegfilgrastim", "14:00", route="SQ", hcpcs="J2506",
                                 technique="ON_BODY_INJECTOR", dose="6"),
                           lines=(("J2506", "12"),)))  # fmt: skip
    assert codes(applied) == {"96377": 1} and not applied.needs_review
    iv = assess(claim(admin("pegfilgrastim", "14:00", route="IV", hcpcs="J2506",
                            technique="ON_BODY_INJECTOR", dose="6")))  # fmt: skip
    assert codes(iv) == {} and "ADM-H5" in rule_ids(iv) and iv.needs_review
