"""Properties every coding result must have, on MARs hypothesis makes up, and the time
thresholds moved by one minute."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import Assessment, assess
from rules.administration.coding import RANK_OF_CODE
from rules.pack import current_pack
from schemas import SubmittedClaim
from tests.rules.mar_builder import admin, claim, codes

INITIAL_CODES = set(RANK_OF_CODE)
# The rank of the service an add-on describes, on the facility hierarchy (2.5).
ADDON_RANK = {"96417": 1, "96415": 1, "96411": 2, "96367": 3, "96366": 3, "96368": 3,
              "96375": 4, "96376": 4, "96361": 5}  # fmt: skip

DRUGS = ["paclitaxel", "carboplatin", "gemcitabine", "doxorubicin", "ondansetron",
         "dexamethasone", "iron sucrose", "leucovorin", "normal saline", "famotidine"]  # fmt: skip


@st.composite
def mars(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    setting = draw(st.sampled_from(["F", "P"]))
    n = draw(st.integers(min_value=1, max_value=8))
    base = datetime(2026, 3, 2, 8, 0)
    entries = []
    for i in range(n):
        drug = draw(st.sampled_from(DRUGS))
        start = base + timedelta(minutes=draw(st.integers(0, 360)))  # all on one day
        minutes = draw(st.integers(0, 200))
        site = draw(st.sampled_from(["A", "A", "A", "B"]))
        entry = admin(
            drug, start.strftime("%H:%M"), (start + timedelta(minutes=minutes)).strftime("%H:%M"),
            technique=draw(st.sampled_from([None, "PUSH", "INFUSION"])),
            purpose=draw(st.sampled_from(["TREATMENT"] * 6 + ["VEHICLE", "KVO"])),
            site=site,
            encounter=draw(st.sampled_from(["E1", "E1", "E1", "E2"])),
            separate_site="separate line required by protocol"
            if site == "B" and draw(st.booleans()) else None,
            bag=draw(st.sampled_from([None, None, None, "bag-1"])),
            primary=draw(st.booleans()) if setting == "P" else False,
            admin_id=f"a{i}",
            unit="mL" if drug == "normal saline" else "mg",
        )  # fmt: skip
        entries.append(entry)
    return setting, entries


def _build(setting: str, entries: list[dict[str, Any]]) -> SubmittedClaim:
    return claim(*entries, setting=setting)


def _encounter_of(c: SubmittedClaim) -> dict[str, str]:
    return {a.admin_id: a.encounter_id for a in c.administrations}


def _check(c: SubmittedClaim, result: Assessment) -> None:
    encounter = _encounter_of(c)
    initials: Counter[str] = Counter()
    concurrent: Counter[str] = Counter()
    by_date: dict[str, set[str]] = defaultdict(set)
    for line in result.computed_lines:
        by_date[line.date_of_service].add(line.code)
        if line.code in INITIAL_CODES and "XS" not in line.modifiers:
            initials[encounter[line.admin_ids[0]]] += 1
        if line.code == "96368":
            concurrent[line.date_of_service] += int(line.units)
    # At most one initial IV service per encounter without a separate-site reason (V2).
    assert all(n <= 1 for n in initials.values()), initials
    # 96368 at most once per date (V3).
    assert all(n <= 1 for n in concurrent.values()), concurrent
    # No add-on without an allowed primary on its date (V1, CMS add-on map).
    addons = current_pack().addon_primaries
    for line in result.computed_lines:
        if line.code in addons:
            assert addons[line.code] & by_date[line.date_of_service], line.code
    # Facility: no add-on ranked above the initial of its encounter (V12).
    if c.claim_type.value == "institutional":
        best: dict[str, int] = {}
        for line in result.computed_lines:
            if line.code in INITIAL_CODES:
                enc = encounter[line.admin_ids[0]]
                best[enc] = min(best.get(enc, 9), RANK_OF_CODE[line.code])
        for line in result.computed_lines:
            if line.code in ADDON_RANK:
                enc = encounter[line.admin_ids[0]]
                assert ADDON_RANK[line.code] >= best[enc], (line.code, best[enc])


@given(mars(), st.randoms())
@settings(
    max_examples=int(os.environ.get("MAR_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_invariants_hold_and_mar_order_does_not_matter(
    mar: tuple[str, list[dict[str, Any]]], rnd: Any
) -> None:
    setting, entries = mar
    c = _build(setting, entries)
    result = assess(c)
    _check(c, result)
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    again = assess(_build(setting, shuffled))
    assert sorted(x.model_dump_json() for x in again.computed_lines) == sorted(
        x.model_dump_json() for x in result.computed_lines
    )
    assert sorted(f.model_dump_json() for f in again.findings) == sorted(
        f.model_dump_json() for f in result.findings
    )


def _stop(start: str, minutes: int) -> str:
    t = datetime.strptime(start, "%H:%M") + timedelta(minutes=minutes)
    return t.strftime("%H:%M")


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (15, {"96409": 1}),  # push
        (16, {"96413": 1}),  # infusion
        (90, {"96413": 1}),
        (91, {"96413": 1, "96415": 1}),
        (150, {"96413": 1, "96415": 1}),
        (151, {"96413": 1, "96415": 2}),
    ],
)
def test_chemotherapy_thresholds_move_by_one_minute(minutes: int, expected: dict[str, int]) -> None:
    mar = admin("carboplatin", "09:00", _stop("09:00", minutes), technique="INFUSION")
    assert codes(assess(claim(mar))) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (30, {}),
        (31, {"96360": 1}),
        (90, {"96360": 1}),
        (91, {"96360": 1, "96361": 1}),
        (150, {"96360": 1, "96361": 1}),
        (151, {"96360": 1, "96361": 2}),
    ],
)
def test_hydration_thresholds_move_by_one_minute(minutes: int, expected: dict[str, int]) -> None:
    mar = admin("normal saline", "09:00", _stop("09:00", minutes), dose="1000", unit="mL")
    assert codes(assess(claim(mar))) == expected


@pytest.mark.parametrize(
    ("minutes", "units"), [(30, 0), (31, 1), (90, 1), (91, 2), (150, 2), (151, 3)]
)
def test_secondary_hydration_thresholds(minutes: int, units: int) -> None:
    # 96361 after a different initial service (2.6): (T + 29) // 60 from 31 minutes on.
    mar = (
        admin("gemcitabine", "08:00", "08:30"),
        admin("normal saline", "09:00", _stop("09:00", minutes), dose="1000", unit="mL"),
    )
    assert codes(assess(claim(*mar))).get("96361", 0) == units


@pytest.mark.parametrize(("gap", "coded"), [(30, False), (31, True)])
def test_repeat_push_threshold_30_31(gap: int, coded: bool) -> None:
    mar = (
        admin("ondansetron", "10:00", technique="PUSH"),
        admin("ondansetron", _stop("10:00", gap), technique="PUSH"),
    )
    assert ("96376" in codes(assess(claim(*mar)))) is coded
