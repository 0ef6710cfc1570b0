"""The drug catalogue by quarter (rules/data/drug_codes.csv) and the derivation that writes it
(tools/drugs.py).

Self-contained: the tests read the vendored catalogue, the vendored HCPCS quarters
(rules/data/hcpcs_quarters.csv, every code the I/OCE carries) and an excerpt of
shared/data/hcpcs_level2_drugs.csv in tests/fixtures/cms (see the README there). Whether the
whole catalogue equals a rebuild from the full CMS file is the maintainer's check,
``python -m tools.drugs --check`` (also part of ``python -m tools.refdata --check``).
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from rules.drug_catalogue import Family
from schemas.decision import Confidence
from tools import drugs

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "rules" / "data"
FIXTURE = ROOT / "tests" / "fixtures" / "cms" / drugs.SOURCE

# Every quarter start the I/OCE carries: 20.2 (2019-07-01) to 27.1 (2026-04-01).
QUARTERS = [
    date(year, month, 1)
    for year in range(2019, 2027)
    for month in (1, 4, 7, 10)
    if date(2019, 7, 1) <= date(year, month, 1) <= date(2026, 4, 1)
]

# The spec's codes that CMS deleted, and the code that replaced each.
DELETED_SPEC_CODES = {
    "J9070": "J9075",  # cyclophosphamide -> NOS code, 2024-04-01
    "J9250": "J9260",  # methotrexate 5 mg -> 50 mg, 2024-04-01
    "J9044": "J9041",  # bortezomib NOS -> J9041 revised to bortezomib, 2023-01-01
    "J2505": "J2506",  # pegfilgrastim 6 mg -> 0.5 mg, 2022-01-01
    "J9199": "J9198",  # Infugem 200 mg -> 100 mg, 2020-07-01
}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def valid_on(rows: list[dict[str, str]], day: date) -> set[str]:
    text = day.isoformat()
    return {r["hcpcs"] for r in rows if r["effective_from"] <= text <= r["effective_through"]}


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, str]]:
    return read(DATA / "drug_codes.csv")


@pytest.fixture(scope="module")
def spec() -> dict[str, dict[str, str]]:
    return {r["hcpcs"]: r for r in read(DATA / "drugs.csv") if r["hcpcs"]}


@pytest.fixture(scope="module")
def excerpt() -> list[dict[str, str]]:
    return read(FIXTURE)


@pytest.fixture(scope="module")
def derived(excerpt: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in drugs.derive(excerpt, read(DATA / "drugs.csv")):
        by_code[r["hcpcs"]].append(r)
    return by_code


# -- the vendored catalogue ----------------------------------------------------------------------


def test_the_catalogue_is_well_formed_and_in_order(catalogue: list[dict[str, str]]) -> None:
    text = (DATA / "drug_codes.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(drugs.HEADER)
    keys = [(r["hcpcs"], r["effective_from"]) for r in catalogue]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    codes = {r["hcpcs"] for r in catalogue}
    by_code: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in catalogue:
        assert r["effective_from"] <= r["effective_through"] <= drugs.OPEN_END
        Family(r["family"])
        Confidence(r["confidence"])
        assert r["hormonal"] in {"true", "false"}
        assert r["hormonal"] == "false" or r["family"] == "CHEMO"
        assert r["electrolyte"] == "false" or r["family"] == "THER"
        assert r["basis"] and r["name"]
        if r["unit_amount"]:
            assert Decimal(r["unit_amount"]) > 0 and r["unit"]
        assert not r["successor"] or r["successor"] in codes
        by_code[r["hcpcs"]].append(r)
    for rows in by_code.values():
        for before, after in itertools.pairwise(rows):
            assert before["effective_through"] < after["effective_from"]  # no overlap
            assert not before["successor"]  # only on a code's last row
        # One class per code, whatever its descriptors say from quarter to quarter.
        assert len({(r["family"], r["hormonal"], r["confidence"], r["basis"]) for r in rows}) == 1
        if rows[-1]["successor"]:
            assert rows[-1]["effective_through"] < drugs.OPEN_END


@pytest.mark.parametrize("quarter", QUARTERS, ids=str)
def test_every_j_code_cms_carries_in_a_quarter_has_a_catalogue_row(
    catalogue: list[dict[str, str]], quarter: date
) -> None:
    # rules/data/hcpcs_quarters.csv holds every J code of the I/OCE with its dates.
    carried = valid_on(read(DATA / "hcpcs_quarters.csv"), quarter)
    j_codes = {c for c in carried if c.startswith("J")}
    assert len(j_codes) > 700
    assert sorted(j_codes - valid_on(catalogue, quarter)) == []


@pytest.mark.parametrize("quarter", QUARTERS, ids=str)
def test_every_excerpt_code_valid_in_a_quarter_has_a_catalogue_row(
    catalogue: list[dict[str, str]], excerpt: list[dict[str, str]], quarter: date
) -> None:
    assert sorted(valid_on(excerpt, quarter) - valid_on(catalogue, quarter)) == []
    # ... and none on a date CMS did not carry the code (J0570 has a gap in 2025).
    gap = date(2025, 4, 1)
    assert "J0570" not in valid_on(catalogue, gap) and "J0570" not in valid_on(excerpt, gap)


def test_the_spec_rows_keep_their_class_and_unit(
    catalogue: list[dict[str, str]], spec: dict[str, dict[str, str]]
) -> None:
    seen = set()
    for r in catalogue:
        s = spec.get(r["hcpcs"])
        if s is None:
            continue
        seen.add(r["hcpcs"])
        assert (r["family"], r["hormonal"], r["confidence"], r["basis"]) == (
            s["family"],
            s["hormonal"],
            s["confidence"],
            "spec",
        )
        assert (r["name"], r["unit_amount"], r["unit"]) == (
            s["name"],
            s["unit_amount"],
            s["unit"],
        )
    assert seen == set(spec)  # every coded row of the spec's table is a CMS code


def test_the_spec_codes_cms_deleted_name_their_successors(
    catalogue: list[dict[str, str]], spec: dict[str, dict[str, str]]
) -> None:
    last = {r["hcpcs"]: r for r in catalogue}
    deleted = {c for c in spec if last[c]["effective_through"] < drugs.OPEN_END}
    assert deleted == set(DELETED_SPEC_CODES)
    for gone, successor in DELETED_SPEC_CODES.items():
        assert last[gone]["successor"] == successor
        # The successor is in force the day after and keeps the drug's class.
        after = date.fromisoformat(last[gone]["effective_through"]) + timedelta(days=1)
        assert successor in valid_on(catalogue, after)
        assert last[successor]["family"] == last[gone]["family"]
    # A 2026 claim billing cyclophosphamide as J9075 finds it.
    j9075 = [r for r in catalogue if r["hcpcs"] == "J9075"]
    assert [(r["family"], r["confidence"]) for r in j9075] == [("CHEMO", "M")]


def test_deleted_codes_without_a_data_supported_successor_name_none(
    catalogue: list[dict[str, str]],
) -> None:
    last = {r["hcpcs"]: r for r in catalogue}
    # Split in two (lyophilised / not), and acetate vs succinate: the data do not decide.
    for code in ("J9315", "J1020", "J1030", "J1040", "J2920", "J2930"):
        assert last[code]["effective_through"] < drugs.OPEN_END
        assert last[code]["successor"] == ""
    deleted = [r for r in last.values() if r["effective_through"] < drugs.OPEN_END]
    named = [r for r in deleted if r["successor"]]
    assert len(deleted) > 200 and len(named) > 100


# -- the derivation rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "family", "hormonal", "confidence", "basis"),
    [
        ("Q5115", "CHEMO", False, "M", "biosimilar-of:rituximab"),  # Truxima
        ("Q5101", "THER", False, "M", "biosimilar-of:filgrastim"),  # Zarxio
        ("J2350", "CHEMO", False, "NC", "mab"),  # ocrelizumab (multiple sclerosis)
        ("J9301", "CHEMO", False, "M", "J9-range"),  # obinutuzumab
        ("J0696", "THER", False, "M", "supportive"),  # ceftriaxone, an antibiotic
        ("J0612", "THER", False, "M", "electrolyte"),  # calcium gluconate
        ("J3480", "THER", False, "M", "spec"),  # potassium chloride (issue 10 over spec row 70)
        ("S5010", "HYD", False, "M", "hydration"),  # D5 1/2NS
        ("J7030", "HYD", False, "H", "spec"),  # normal saline 1000 cc
        ("J1459", "THER", False, "NC", "disputed"),  # IVIG (Privigen)
        ("J2430", "THER", False, "NC", "disputed"),  # pamidronate
        ("J0897", "THER", False, "NC", "spec"),  # denosumab
        ("J9361", "THER", False, "NC", "disputed"),  # efbemalenograstim, a G-CSF in J9
        ("J9393", "CHEMO", True, "M", "same-drug-as:J9395"),  # fulvestrant (Teva)
        ("J9075", "CHEMO", False, "M", "same-drug-as:J9070"),  # cyclophosphamide NOS
        ("C9044", "CHEMO", False, "M", "same-drug-as:J9119"),  # cemiplimab pass-through
        ("A9606", "THER", False, "NC", "radiopharmaceutical"),  # radium-223
        ("Q9967", "THER", False, "NC", "diagnostic-agent"),  # iodinated contrast
        ("J3490", "THER", False, "NC", "unclassified"),
        ("Q2042", "THER", False, "NC", "cell-gene-therapy"),  # tisagenlecleucel
    ],
)
def test_the_rules_on_hand_picked_codes(
    derived: dict[str, list[dict[str, str]]],
    catalogue: list[dict[str, str]],
    code: str,
    family: str,
    hormonal: bool,
    confidence: str,
    basis: str,
) -> None:
    expected = (family, "true" if hormonal else "false", confidence, basis)
    for rows in (derived[code], [r for r in catalogue if r["hcpcs"] == code]):
        assert rows
        assert {(r["family"], r["hormonal"], r["confidence"], r["basis"]) for r in rows} == {
            expected
        }


def test_the_successors_the_excerpt_supports(derived: dict[str, list[dict[str, str]]]) -> None:
    successors = {c: rows[-1]["successor"] for c, rows in derived.items() if rows[-1]["successor"]}
    assert successors == {
        **DELETED_SPEC_CODES,
        "C9044": "J9119",  # pass-through -> permanent code
        "J0610": "J0612",  # calcium gluconate (Fresenius) renumbered
    }


def test_a_code_keeps_its_gap_and_its_ranges(derived: dict[str, list[dict[str, str]]]) -> None:
    assert [(r["effective_from"], r["effective_through"]) for r in derived["J0570"]] == [
        ("2019-07-01", "2024-12-31"),
        ("2025-10-01", "2036-03-31"),
    ]
    # Source ranges that differ only in a column the catalogue does not keep are one row.
    assert len(derived["Q5115"]) == 1
    # A revised descriptor is a new row: Velcade until 2022, bortezomib from 2023 (spec name).
    assert [r["effective_from"] for r in derived["J9041"]] == ["2019-07-01"]


@pytest.mark.parametrize(
    ("descriptor", "name", "amount", "unit"),
    [
        ("Inj, atezolizumab,10 mg", "atezolizumab", "10", "mg"),
        ("Inj pembrolizumab", "pembrolizumab", "", ""),
        ("Leuprolide acetate /3.75 mg", "leuprolide acetate", "3.75", "mg"),
        ("Inj ceftazidime per 500 mg", "ceftazidime", "500", "mg"),
        ("Inj., velcade 0.1 mg", "velcade", "0.1", "mg"),
        ("Ampicillin sulbactam 1.5 gm", "ampicillin sulbactam", "1.5", "g"),
        ("Inj aminocaproic acid 1 gram", "aminocaproic acid", "1", "g"),
        ("Inj tbo filgrastim 1 microg", "tbo filgrastim", "1", "mcg"),
        ("Inj calcitriol per 0.1 mcg", "calcitriol", "0.1", "mcg"),
        ("Inj heparin sodium per 1000u", "heparin sodium", "1000", "units"),
        ("Inj, afstyla, 1 i.u.", "afstyla", "1", "units"),
        ("Kcentra, per i.u.", "kcentra", "1", "units"),
        ("Urokinase 250,000 iu inj", "urokinase", "250000", "units"),
        ("Aprotonin, 10,000 kiu", "aprotonin", "10000", "KIU"),
        ("Gamma globulin 1 cc inj", "gamma globulin", "1", "mL"),
        ("Elliotts b solution per ml", "elliotts b solution", "1", "mL"),
        ("Locm 300-399mg/ml iodine,1ml", "locm 300-399mg/ml iodine", "1", "mL"),
        ("Inj perflutren lip micros,ml", "perflutren lip micros", "1", "mL"),
        ("5%dextrose/0.45%saline1000ml", "5%dextrose/0.45%saline", "1000", "mL"),
        ("Piflu f-18, dia 1 millicurie", "piflu f-18 dia", "1", "mCi"),
        ("Genvisc 850, inj, 1mg", "genvisc 850", "1", "mg"),
        # No single billing amount: a bound, a range, a combination, a concentration.
        ("Inj. acthar gel to 40 units", "acthar gel to 40 units", "", ""),
        ("Bupren/nal 3.1 to 6mg bupren", "bupren/nal 3.1 to 6mg bupren", "", ""),
        ("Gamma globulin > 10 cc inj", "gamma globulin > 10 cc", "", ""),
        ("Inj nivol relatlimab 3mg/1mg", "nivol relatlimab 3mg/1mg", "", ""),
        ("Inj imip 4 cilas 4 releb 2mg", "imip 4 cilas 4 releb 2mg", "", ""),
        ("Injection torsemide 10 mg/ml", "torsemide 10 mg/ml", "", ""),
    ],
)
def test_descriptor_parsing(descriptor: str, name: str, amount: str, unit: str) -> None:
    assert drugs.parse_descriptor(descriptor) == drugs.Parsed(name, amount, unit)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Inj cyclophosphamd auromedic", "Inj, cyclophosphamide, nos", True),
        ("Inj pegfilgrast ex bio 0.5mg", "Injection, pegfilgrastim 6mg", True),
        ("Injection, cemiplimab-rwlc", "Inj., cemiplimab-rwlc, 1 mg", True),
        ("Inj, truxima", "Inj., rituximab, 10 mg", True),  # brand -> drug
        ("Injection, pegfilgrastim 6mg", "Inj filgrastim excl biosimil", False),
        ("Inj ferric carboxymaltos 1mg", "Na ferric gluconate complex", False),
        ("Interferon beta-1a inj", "Interferon alfa-2b inj", False),
    ],
)
def test_drug_stems(a: str, b: str, same: bool) -> None:
    assert drugs.same_drug(drugs.stem(a), drugs.stem(b)) is same


def test_electrolytes_are_flagged_so_a_hydration_bag_keeps_them() -> None:
    rows = {r["hcpcs"]: r for r in read(DATA / "drug_codes.csv")}
    flagged = {c for c, r in rows.items() if r["electrolyte"] == "true"}
    assert {"J3480", "J3475", "J0612", "J0620", "J7131"} <= flagged
    assert not flagged & {"J7030", "S5012", "J1100", "J2540"}  # fluids, a salt of another drug


def test_cpt_drug_products_come_from_the_attribute_table(catalogue: list[dict[str, str]]) -> None:
    attributes = read(ROOT / "tests" / "fixtures" / "cms" / "hcpcs_attributes.csv")
    rows = drugs.cpt_product_rows(attributes)
    assert [
        (r["hcpcs"], r["effective_from"], r["effective_through"], r["basis"]) for r in rows
    ] == [
        ("90371", "2019-07-01", "2036-03-31", "immune-globulin"),
        ("90686", "2019-07-01", "2036-03-31", "vaccine"),  # two I/OCE ranges, one row
    ]  # the administration code 90460 and every non-product code are left out
    assert {(r["family"], r["confidence"]) for r in rows} == {("THER", "NC")}
    vendored = {(r["hcpcs"], r["effective_from"]): r for r in catalogue}
    assert all(vendored[(r["hcpcs"], r["effective_from"])] == r for r in rows)


def test_the_maintainer_check_compares_with_a_rebuild(
    tmp_path: Path, excerpt: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m tools.drugs --check DIR`` exits 0 when the vendored file equals a rebuild
    from DIR and 1 when it does not (here, against the excerpt, which it does not equal)."""
    (tmp_path / drugs.SOURCE).write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "drug_codes.csv"
    monkeypatch.setattr(drugs, "OUT", out)
    assert drugs.main([str(tmp_path)]) == 0  # build from the excerpt
    assert drugs.main(["--check", str(tmp_path)]) == 0
    out.write_text(out.read_text(encoding="utf-8") + "J0000,x\n", encoding="utf-8")
    assert drugs.main(["--check", str(tmp_path)]) == 1
    assert drugs.main([str(tmp_path / "missing")]) == 2
