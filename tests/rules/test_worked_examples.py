"""The coding specification's worked examples 1-25 (section 3), facility and professional.

Each case is the spec's MAR, abridged as the spec abridges it, and the codes it
expects. Where the spec marks a choice NC, the test also checks that the claim is
sent to review with that rule's finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rules import assess
from rules.administration.coding import CodingOptions
from tests.rules.mar_builder import admin, claim, codes, rule_ids

Mar = Callable[[], tuple[dict[str, Any], ...]]
PUMP_46H = {"kind": "PORTABLE", "planned_hours": "46", "supplied_by": "PROVIDER"}


def folfox(leucovorin_start: str, leucovorin_stop: str) -> tuple[dict[str, Any], ...]:
    return (
        admin("oxaliplatin", "09:00", "11:00", dose="150", bag="ox"),
        admin("leucovorin", leucovorin_start, leucovorin_stop, dose="700", bag="lv"),
        admin("fluorouracil", "11:05", "11:08", dose="800", technique="PUSH",
              admin_id="5fu-bolus"),
        admin("fluorouracil", "11:15", None, dose="4800", technique="PUMP_INITIATION",
              pump=PUMP_46H, admin_id="5fu-pump"),
    )  # fmt: skip


# (number, MAR, facility codes, professional codes or None when the same, NC rules expected)
EXAMPLES: list[tuple[int, Mar, dict[str, int], dict[str, int] | None, set[str]]] = [
    (1, lambda: (admin("gemcitabine", "09:00", "09:30", dose="1000"),),
     {"96413": 1}, None, set()),
    (2, lambda: (admin("carboplatin", "09:00", "10:35"),), {"96413": 1, "96415": 1}, None, set()),
    (3, lambda: (admin("carboplatin", "09:00", "10:30"),), {"96413": 1}, None, set()),
    (4, lambda: (admin("doxorubicin", "09:00", "09:12", technique="INFUSION"),),
     {"96409": 1}, None, set()),
    (5, lambda: (
        admin("ondansetron", "08:50", "08:52", technique="PUSH"),
        admin("dexamethasone", "08:55", "09:10", technique="INFUSION"),
        admin("paclitaxel", "09:15", "12:15"),
        admin("carboplatin", "12:20", "12:50"),
    ), {"96413": 1, "96415": 2, "96417": 1, "96375": 2}, None, set()),
    (6, lambda: folfox("09:00", "11:00"),
     {"96413": 1, "96415": 1, "96368": 1, "96411": 1, "96416": 1}, None, {"ADM-G2"}),
    (7, lambda: folfox("11:00", "13:00"),
     {"96413": 1, "96415": 1, "96367": 1, "96366": 1, "96411": 1, "96416": 1}, None, {"ADM-G2"}),
    (8, lambda: (
        admin("fluorouracil", "10:00", technique="PUMP_DISCONNECT", day="2026-05-06"),
        admin("heparin lock flush", "10:05", purpose="FLUSH", technique="FLUSH",
              day="2026-05-06"),
    ), {"96523": 1}, None, set()),
    (9, lambda: (admin("fluorouracil", "10:00", technique="PUMP_REFILL",
                       pump={"kind": "PORTABLE"}),), {"96521": 1}, None, set()),
    (10, lambda: (admin("fluorouracil", "10:00", route="IA", technique="PUMP_REFILL",
                        pump={"kind": "IMPLANTABLE"}),), {"96522": 1}, None, set()),
    (11, lambda: (admin("normal saline", "10:00", "11:45", dose="1000", unit="mL"),),
     {"96360": 1, "96361": 1}, None, set()),
    (12, lambda: (admin("normal saline", "10:00", "10:25", dose="1000", unit="mL"),),
     {}, None, set()),
    (13, lambda: (
        admin("normal saline", "10:50", "13:25", dose="1000", unit="mL"),
        admin("cisplatin", "11:20", "13:05"),
    ), {"96413": 1, "96415": 1}, None, {"ADM-F10"}),
    (14, lambda: (
        admin("normal saline", "09:00", "10:00", dose="1000", unit="mL", admin_id="pre"),
        admin("cisplatin", "10:00", "11:00"),
        admin("normal saline", "11:00", "12:00", dose="1000", unit="mL", admin_id="post"),
    ), {"96413": 1, "96361": 2}, None, set()),
    (15, lambda: (admin("iron sucrose", "10:00", "10:30", dose="200"),),
     {"96365": 1}, None, set()),
    (16, lambda: (
        admin("iron sucrose", "10:00", "10:30", dose="200"),
        admin("normal saline", "10:00", "11:00", dose="250", unit="mL", purpose="VEHICLE"),
    ), {"96365": 1}, None, set()),
    (17, lambda: (
        admin("ondansetron", "10:00", technique="PUSH", dose="4"),
        admin("ondansetron", "10:45", technique="PUSH", dose="4"),
    ), {"96374": 1, "96376": 1}, {"96374": 1}, set()),
    (18, lambda: (
        admin("ondansetron", "10:00", technique="PUSH", dose="4"),
        admin("ondansetron", "10:20", technique="PUSH", dose="4"),
    ), {"96374": 1}, None, set()),
    (19, lambda: (
        admin("ondansetron", "10:00", technique="PUSH", dose="4"),
        admin("famotidine", "10:05", technique="PUSH", dose="20"),
    ), {"96374": 1, "96375": 1}, None, set()),
    (20, lambda: (
        admin("dexamethasone", "09:00", "09:20", technique="INFUSION"),
        admin("doxorubicin", "09:25", "09:30", technique="PUSH", primary=True),
    ), {"96409": 1, "96367": 1}, None, set()),
    (21, lambda: (
        admin("bortezomib", "09:00", hcpcs="J9041", route="SQ", dose="2.6"),
        admin("dexamethasone", "09:10", technique="PUSH", dose="20"),
    ), {"96401": 1, "96374": 1}, None, set()),
    (22, lambda: (admin("leuprolide depot", "09:00", hcpcs="J9217", route="IM", dose="7.5"),),
     {"96402": 1}, None, set()),
    (23, lambda: (admin("goserelin implant", "09:00", route="SQ", dose="3.6"),),
     {"96402": 1}, None, {"ADM-U2"}),
    (24, lambda: (admin("denosumab", "09:00", route="SQ", dose="120"),),
     {"96372": 1}, None, {"ADM-U2"}),
    (25, lambda: (admin("zoledronic acid", "10:00", "10:15", dose="4", technique="INFUSION"),),
     {"96374": 1}, None, {"ADM-U2"}),
]  # fmt: skip


def _cases() -> list[Any]:
    out = []
    for number, mar, facility, professional, nc in EXAMPLES:
        out.append(pytest.param(mar, "F", facility, nc, id=f"example-{number:02d}-facility"))
        out.append(
            pytest.param(
                mar,
                "P",
                professional if professional is not None else facility,
                nc,
                id=f"example-{number:02d}-professional",
            )
        )
    return out


@pytest.mark.parametrize(("mar", "setting", "expected", "nc_rules"), _cases())
def test_worked_example(
    mar: Mar, setting: str, expected: dict[str, int], nc_rules: set[str]
) -> None:
    result = assess(claim(*mar(), setting=setting))
    assert codes(result) == expected
    assert nc_rules <= rule_ids(result)
    nc_findings = {f.rule_id for f in result.findings if f.confidence.value == "NC"}
    assert nc_findings == nc_rules, "an NC choice the spec does not expect, or one it does missed"
    assert result.needs_review == bool(nc_rules)


def test_every_line_explains_itself() -> None:
    result = assess(claim(*folfox("11:00", "13:00")))
    for line in result.computed_lines:
        assert line.admin_ids and line.rule_ids and line.reason
    [initial] = [line for line in result.computed_lines if line.code == "96413"]
    assert initial.admin_ids == ("oxaliplatin-0900",) and initial.minutes == 120
    assert "ADM-D1" in initial.rule_ids


def test_example_01_supply_units_gemcitabine_1000_mg_is_j9201_x5() -> None:
    gem = admin("gemcitabine", "09:00", "09:30", dose="1000")
    assert assess(claim(gem, lines=(("J9201", "5"),))).findings == ()
    wrong = assess(claim(gem, lines=(("J9201", "1000"),)))
    [finding] = wrong.findings
    assert finding.rule_id == "ADM-S1" and wrong.needs_review
    assert finding.suggested_correction == "bill J9201 x 5 on 2026-05-04"
    assert finding.line_numbers == (1,)


def test_example_13_with_hydration_intervals_combined_by_payer_setting() -> None:
    mar = (
        admin("normal saline", "10:50", "13:25", dose="1000", unit="mL"),
        admin("cisplatin", "11:20", "13:05"),
    )
    result = assess(claim(*mar), options=CodingOptions(combine_hydration_intervals=True))
    assert codes(result) == {"96413": 1, "96415": 1, "96361": 1}


def test_example_06_g0498_when_the_payer_pack_says_so() -> None:
    options = CodingOptions(medicare=True, g0498_for_provider_pumps=True)
    result = assess(claim(*folfox("09:00", "11:00")), options=options)
    assert codes(result)["G0498"] == 1 and "96416" not in codes(result)
    assert "ADM-G2" in rule_ids(result)


def test_example_06_no_g0498_question_for_a_commercial_payer() -> None:
    result = assess(claim(*folfox("09:00", "11:00"), payer="ACME-HEALTH"))
    assert codes(result)["96416"] == 1 and "ADM-G2" not in rule_ids(result)
    assert not result.needs_review
