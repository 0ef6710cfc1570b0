"""One positive and one negative case per drug-administration rule, named after its id.

A rule "fires" when a finding carries its id or a computed line cites it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rules import assess
from rules.catalogue import RULES
from schemas import SubmittedClaim
from tests.rules.mar_builder import admin, at, claim, fired

Case = Callable[[], SubmittedClaim]
PUMP = {"kind": "PORTABLE", "planned_hours": "46", "supplied_by": "PROVIDER"}


def ns(start: str, stop: str | None, **kw: Any) -> dict[str, Any]:
    return admin("normal saline", start, stop, dose="1000", unit="mL", **kw)


def overnight() -> SubmittedClaim:
    entry = admin("carboplatin", "23:30", "23:59")
    entry["stop"] = at("00:45", "2026-05-05")
    return claim(entry)


CASES: dict[str, tuple[Case, Case]] = {
    "ADM-A1": (lambda: claim(admin("iron sucrose", "10:00", "10:30"),
                             ns("10:00", "11:00", purpose="KVO")),
               lambda: claim(admin("iron sucrose", "10:00", "10:30"))),
    "ADM-A3": (lambda: claim(ns("10:00", "11:00", order=False)),
               lambda: claim(ns("10:00", "11:00"))),
    "ADM-A4": (lambda: claim(ns("10:00", None)), lambda: claim(ns("10:00", "11:00"))),
    "ADM-A5": (lambda: claim(admin("gemcitabine", "09:00", None, technique="INFUSION")),
               lambda: claim(admin("gemcitabine", "09:00", "09:30"))),
    "ADM-A7": (lambda: claim(admin("gemcitabine", "09:00", "09:30"), setting="P", pos="22"),
               lambda: claim(admin("gemcitabine", "09:00", "09:30"), setting="P")),
    "ADM-B1": (lambda: claim(admin("paclitaxel", "09:00", "10:00", bag="b1"),
                             admin("ondansetron", "09:00", "10:00", bag="b1")),
               lambda: claim(admin("paclitaxel", "09:00", "10:00", bag="b1"),
                             admin("ondansetron", "10:05", "10:07", bag="b2"))),
    "ADM-B2": (lambda: claim(admin("carboplatin", "09:00", "10:00")),
               lambda: claim(admin("leuprolide depot", "09:00", hcpcs="J9217", route="IM"))),
    "ADM-B3": (lambda: claim(admin("zoledronic acid", "10:00", "10:15", technique="INFUSION")),
               lambda: claim(admin("iron sucrose", "10:00", "10:16"))),
    "ADM-C2": (lambda: claim(admin("paclitaxel", "09:00", "10:00", site="A"),
                             admin("iron sucrose", "09:10", "09:40", site="B",
                                   separate_site="incompatible drugs")),
               lambda: claim(admin("paclitaxel", "09:00", "10:00", site="A"),
                             admin("iron sucrose", "10:10", "10:40", site="B"))),
    "ADM-C3": (lambda: claim(admin("iron sucrose", "09:00", "09:30", encounter="E1"),
                             admin("iron sucrose", "15:00", "15:30", encounter="E2")),
               lambda: claim(admin("iron sucrose", "09:00", "09:30", encounter="E1"))),
    "ADM-C4": (overnight, lambda: claim(admin("carboplatin", "22:30", "23:30"))),
    "ADM-D1": (lambda: claim(admin("iron sucrose", "09:00", "09:30")),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"), setting="P")),
    "ADM-D2": (lambda: claim(admin("iron sucrose", "09:00", "09:30"), setting="P"),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"))),
    "ADM-D3": (lambda: claim(admin("iron sucrose", "09:00", "09:30", primary=True),
                             admin("doxorubicin", "09:40", technique="PUSH"), setting="P"),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                             admin("doxorubicin", "09:40", technique="PUSH"))),
    "ADM-E1": (lambda: claim(admin("carboplatin", "09:00", "10:31")),
               lambda: claim(admin("carboplatin", "09:00", "10:30"))),
    "ADM-E2": (lambda: claim(ns("10:00", "10:25")), lambda: claim(ns("10:00", "10:31"))),
    "ADM-E3": (lambda: claim(admin("iron sucrose", "09:00", "10:40", route="SQ",
                                   technique="INFUSION")),
               lambda: claim(admin("iron sucrose", "09:00", "10:00", route="SQ",
                                   technique="INFUSION"))),
    "ADM-F1": (lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                             admin("leucovorin", "09:40", "10:10")),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"))),
    "ADM-F2": (lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                             admin("famotidine", "09:05", technique="PUSH")),
               lambda: claim(admin("ondansetron", "09:00", technique="PUSH"))),
    "ADM-F3": (lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                             admin("ondansetron", "09:45", technique="PUSH")),
               lambda: claim(admin("ondansetron", "09:00", technique="PUSH"),
                             admin("famotidine", "09:45", technique="PUSH"))),
    "ADM-F4": (lambda: claim(admin("oxaliplatin", "09:00", "11:00"),
                             admin("leucovorin", "09:00", "11:00")),
               lambda: claim(admin("oxaliplatin", "09:00", "11:00"),
                             admin("leucovorin", "11:00", "13:00"))),
    "ADM-F5": (lambda: claim(admin("paclitaxel", "09:00", "11:00"),
                             admin("carboplatin", "10:00", "10:30")),
               lambda: claim(admin("paclitaxel", "09:00", "11:00"),
                             admin("carboplatin", "11:05", "11:35"))),
    "ADM-F6": (lambda: claim(ns("09:00", "11:00"), admin("cisplatin", "09:30", "10:30")),
               lambda: claim(admin("cisplatin", "09:00", "10:00"), ns("10:00", "11:00"))),
    "ADM-F7": (lambda: claim(admin("doxorubicin", "09:00", technique="PUSH"),
                             admin("doxorubicin", "09:30", technique="PUSH")),
               lambda: claim(admin("doxorubicin", "09:00", technique="PUSH"),
                             admin("vincristine", "09:30", technique="PUSH"))),
    "ADM-F8": (lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                             admin("iron sucrose", "11:00", "11:30")),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                             admin("leucovorin", "11:00", "11:30"))),
    "ADM-F9": (lambda: claim(admin("iron sucrose", "09:00", "09:31"),
                             admin("leucovorin", "09:30", "10:00")),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"),
                             admin("leucovorin", "09:30", "10:00"))),
    "ADM-F10": (lambda: claim(ns("10:50", "13:25"), admin("cisplatin", "11:20", "13:05")),
                lambda: claim(ns("09:00", "10:00", admin_id="pre"),
                              admin("cisplatin", "10:00", "11:00"),
                              ns("11:00", "12:00", admin_id="post"))),
    "ADM-F11": (lambda: claim(admin("cisplatin", "09:00", "10:00"), ns("10:00", "11:00")),
                lambda: claim(ns("10:00", "11:00"))),
    "ADM-G1": (lambda: claim(admin("fluorouracil", "11:15", None, technique="PUMP_INITIATION",
                                   pump=PUMP)),
               lambda: claim(admin("fluorouracil", "11:05", "11:08", technique="PUSH"))),
    "ADM-G2": (lambda: claim(admin("fluorouracil", "11:15", None, technique="PUMP_INITIATION",
                                   pump=PUMP)),
               lambda: claim(admin("fluorouracil", "11:15", None, technique="PUMP_INITIATION",
                                   pump={**PUMP, "supplied_by": "DME"}))),
    "ADM-G3": (lambda: claim(admin("fluorouracil", "10:00", technique="PUMP_REFILL",
                                   pump={"kind": "PORTABLE"})),
               lambda: claim(admin("fluorouracil", "10:00", "10:03", technique="PUSH"))),
    "ADM-G5": (lambda: claim(admin("iron sucrose", "09:00", None, technique="PUMP_INITIATION",
                                   pump={"kind": "PORTABLE", "planned_hours": "10"}),
                             setting="P"),
               lambda: claim(admin("iron sucrose", "09:00", None, technique="PUMP_INITIATION",
                                   pump={"kind": "PORTABLE", "planned_hours": "10"}))),
    "ADM-H1": (lambda: claim(admin("leuprolide depot", "09:00", hcpcs="J9217", route="IM")),
               lambda: claim(admin("iron sucrose", "09:00", "09:30"))),
    "ADM-H2": (lambda: claim(admin("methotrexate 5 mg", "09:00", route="INTRATHECAL_LP")),
               lambda: claim(admin("methotrexate 5 mg", "09:00", "09:30"))),
    "ADM-H3": (lambda: claim(admin("heparin flush", "09:00", purpose="FLUSH", technique="FLUSH")),
               lambda: claim(admin("iron sucrose", "09:05", "09:35"))),
    "ADM-H4": (lambda: claim(admin("bcg live intravesical", "09:00", route="INTRAVESICAL")),
               lambda: claim(admin("carboplatin", "09:00", "09:30"))),
    "ADM-H5": (lambda: claim(admin("iron sucrose", "09:00", route="INTRATHECAL_LP")),
               lambda: claim(admin("cytarabine-free methotrexate", "09:00", hcpcs="J9250",
                                   route="INTRATHECAL_LP"))),
    "ADM-U1": (lambda: claim(admin("mystery drug", "09:00", "09:30", hcpcs="J9999")),
               lambda: claim(admin("carboplatin", "09:00", "09:30"))),
    "ADM-U2": (lambda: claim(admin("denosumab", "09:00", route="SQ", dose="120")),
               lambda: claim(admin("pegfilgrastim", "09:00", route="SQ", dose="6"))),
    "ADM-S1": (lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                             lines=(("J9201", "1000"),)),
               lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                             lines=(("J9201", "5"),))),
    "ADM-S2": (lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000")),
               lambda: claim(admin("gemcitabine", "09:00", "09:30", dose="1000"),
                             lines=(("J9201", "5"),))),
}  # fmt: skip


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_its_positive_case(rule_id: str) -> None:
    result = assess(CASES[rule_id][0]())
    assert fired(result, rule_id), [f.rule_id for f in result.findings]
    if RULES[rule_id].confidence.value == "NC":
        assert result.needs_review


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_is_silent_on_its_negative_case(rule_id: str) -> None:
    result = assess(CASES[rule_id][1]())
    assert not fired(result, rule_id), [f.message for f in result.findings if f.rule_id == rule_id]


def test_adm_h3_a_flush_beside_another_service_is_integral() -> None:
    result = assess(
        claim(
            admin("heparin flush", "09:00", purpose="FLUSH", technique="FLUSH"),
            admin("iron sucrose", "09:05", "09:35"),
        )
    )
    assert [line.code for line in result.computed_lines] == ["96365"]
    assert any(f.rule_id == "ADM-H3" and "integral" in f.message for f in result.findings)
