"""The drug catalogue as the engine loads it (rules/drug_catalogue.py), over every quarter the
pack's CMS data carries: no drug code valid on a date is unknown to the engine, no code is
in force on a date CMS did not carry it, deleted codes lead to their successors (for a code
billed and for a drug named on the MAR), and the spec's table keeps its word where it speaks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from rules import assess
from rules.drug_catalogue import UNCLASSIFIED_CODES, Family
from rules.pack import current_pack, current_texts
from rules.rule import NC
from tests.rules.mar_builder import admin, claim, codes
from tools.drugs import CPT_PRODUCTS

# Every quarter start the I/OCE carries: 20.2 (2019-07-01) to 27.1 (2026-04-01).
QUARTERS = [
    date(year, month, 1)
    for year in range(2019, 2027)
    for month in (1, 4, 7, 10)
    if date(2019, 7, 1) <= date(year, month, 1) <= date(2026, 4, 1)
]
PAID_DRUG_STATUS = frozenset({"K", "G", "K1"})  # OPPS: separately paid drugs, pass-through


def _drug_code(code: str, status: str) -> bool:
    """A drug code by the CMS table alone: the J codes, any code OPPS pays as a drug, and the
    CPT immune globulin and vaccine products. Skin substitutes (Q4100-Q4499, A2xxx; some are
    paid pass-through) are applied with their own procedure codes (15271-15278), not
    administered: the catalogue leaves them out, as the CMS drug extract does."""
    if "Q4100" <= code <= "Q4499" or code.startswith("A2"):
        return False
    cpt = any(low <= code <= high for low, high, _, _ in CPT_PRODUCTS) and code.isdigit()
    return code.startswith("J") or status in PAID_DRUG_STATUS or cpt


@pytest.mark.parametrize("quarter", QUARTERS, ids=str)
def test_no_drug_code_valid_in_a_quarter_is_unknown_to_the_engine(quarter: date) -> None:
    pack = current_pack()
    catalogue, table = pack.catalogue, pack.hcpcs
    in_force = {
        code: status for code in table.rows if (status := table.status(code, quarter)) is not None
    }
    drugs = {c for c, si in in_force.items() if _drug_code(c, si)}
    assert len(drugs) > 800
    # By code (an unclassified code such as J3490 names no drug: it is found, and classed by
    # the MAR's drug name).
    unknown = sorted(c for c in drugs if catalogue.on(c, quarter) is None)
    assert unknown == []
    named = [c for c in drugs if c not in UNCLASSIFIED_CODES]
    assert all(catalogue.lookup(c, "", "ANY", quarter) is not None for c in named)
    assert sorted(c for c in drugs if not catalogue.in_force(c, quarter)) == []
    # ... and the catalogue holds no code on a date the CMS table does not carry it.
    listed = {c for c in catalogue.codes if catalogue.in_force(c, quarter)}
    assert sorted(listed - set(in_force)) == []


def test_every_deleted_code_with_a_successor_names_it_when_billed_after_its_end() -> None:
    catalogue = current_pack().catalogue
    deleted = {c: ranges[-1] for c, ranges in catalogue.codes.items() if ranges[-1].successor}
    assert len(deleted) > 100
    for code, last in sorted(deleted.items()):
        after = last.end + timedelta(days=1)
        successor = last.successor
        # The successor is in force within the quarter that starts the day after.
        assert any(catalogue.in_force(successor, after + timedelta(days=d)) for d in range(92))
        drug = catalogue.on(successor, after)
        assert drug is not None and drug.family is last.drug.family, code
    gone = "J9070"
    day = deleted[gone].end + timedelta(days=400)
    result = assess(claim(lines=((gone, "1", "", day.isoformat()),), day=day.isoformat()))
    [q1] = [f for f in result.findings if f.rule_id == "CODE-Q1"]
    assert "CMS replaced it with J9075" in q1.message


def test_a_drug_named_on_the_mar_by_a_deleted_codes_name_is_the_successor_after_it() -> None:
    """Unclassified code and a name of the spec's table whose code CMS deleted: before the
    deletion the spec's code, after it the successor (billing unit included)."""
    catalogue = current_pack().catalogue
    for name, old, new, unit in (
        ("cyclophosphamide", "J9070", "J9075", None),
        ("pegfilgrastim", "J2505", "J2506", Decimal("0.5")),
    ):
        before = catalogue.lookup("J3490", name, "ANY", date(2020, 3, 2))
        after = catalogue.lookup("J3490", name, "ANY", date(2026, 3, 2))
        assert before is not None and before.hcpcs == old
        assert after is not None and after.hcpcs == new and after.unit_amount == unit
        assert after.family is before.family


def test_the_spec_table_speaks_where_it_lists_a_drug() -> None:
    catalogue = current_pack().catalogue
    spec = [r for r in current_texts()["drugs.csv"].splitlines()[1:] if not r.startswith(",")]
    for row in spec:
        code, name, _, amount, unit, family, hormonal, confidence, source = row.split(",", 8)
        drug = catalogue.by_hcpcs[code]
        assert (drug.family.value, str(drug.hormonal).lower(), drug.confidence.value) == (
            family,
            hormonal,
            confidence,
        )
        assert drug.unit_amount == (Decimal(amount) if amount else None) and drug.unit == unit
        assert drug.source == source.strip('"') and drug.name == name


@pytest.mark.parametrize(
    ("code", "family", "confidence", "admin_code"),
    [
        ("J0696", Family.THER, "M", "96365"),  # ceftriaxone, an antibiotic: therapeutic
        ("J2405", Family.THER, "M", "96365"),  # ondansetron, an antiemetic of the spec's table
        ("J1885", Family.THER, "M", "96365"),  # ketorolac, an analgesic
        ("Q5115", Family.CHEMO, "M", "96413"),  # Truxima, a rituximab biosimilar
        ("J9075", Family.CHEMO, "M", "96413"),  # cyclophosphamide NOS, J9070's successor
        ("J3480", Family.THER, "M", "96365"),  # potassium chloride on its own
    ],
)
def test_common_drugs_outside_the_spec_table_are_coded_not_sent_to_review(
    code: str, family: Family, confidence: str, admin_code: str
) -> None:
    drug = current_pack().catalogue.on(code, date(2026, 5, 4))
    assert drug is not None and drug.family is family and drug.confidence.value == confidence
    result = assess(claim(admin("x", "09:00", "09:40", hcpcs=code)))
    assert codes(result) == {admin_code: 1}
    assert not {f.rule_id for f in result.findings} & {"ADM-U1", "ADM-U2"}


def test_classes_the_sources_dispute_stay_nc() -> None:
    catalogue = current_pack().catalogue
    for code in ("J0897", "J1459", "J2430", "90371", "90686"):  # denosumab, IVIG, ..., vaccine
        drug = catalogue.on(code, date(2026, 5, 4))
        assert drug is not None and drug.confidence is NC, code
