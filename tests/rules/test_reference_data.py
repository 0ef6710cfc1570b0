"""The pack's loaders on excerpts of the CMS files its data is built from, and on the layouts
CMS publishes.

The excerpts in tests/fixtures/cms are rows copied from ../shared/data (see the README there):
every test reads them, none needs shared/. Whether the whole of rules/data equals a fresh
rebuild from shared/data is a maintainer's check: ``python -m tools.refdata --check``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from rules import assess
from rules.cms_tables import parse_dated_pairs, parse_hcpcs_quarters, parse_mue, parse_ptp
from rules.pack import DRUG_ADMIN_ADDONS, current_pack, current_texts, pack_from_texts
from rules.payer_policies import parse_payer_policies
from tests.rules.mar_builder import claim
from tools.refdata import FROM_SHARED, bypass_table, hcpcs_table, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cms"
DAY = date(2026, 5, 4)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(fixture(name))))


@pytest.mark.parametrize("vendored", sorted(FROM_SHARED))
def test_every_excerpt_row_is_in_the_vendored_file_as_refdata_writes_it(vendored: str) -> None:
    sources, transform = FROM_SHARED[vendored]
    header, rows = transform(*(fixture_rows(source) for source in sources))
    shipped = list(csv.reader(io.StringIO(current_texts()[vendored])))
    assert shipped[0] == header
    in_pack = {tuple(r) for r in shipped[1:]}
    assert rows and [r for r in rows if tuple(r) not in in_pack] == []


def test_ptp_loader_reads_the_cms_extract_and_the_pack_holds_the_same_edits() -> None:
    excerpt = parse_ptp(fixture("ncci_ptp_oncology.csv"))
    shipped = current_pack().ptp_hospital
    # The excerpt has every row of each pair it holds: the pack has those pairs, no more rows.
    assert len(excerpt) == 19 and {k: shipped.edits.get(k) for k in excerpt.edits} == excerpt.edits
    assert len(shipped) > 90_000
    for table in (excerpt, shipped):
        chemo_sq = table.edit("96372", "96413", DAY)
        assert chemo_sq is not None
        assert (chemo_sq.column1, chemo_sq.modifier_indicator) == ("96413", "1")
        flush = table.edit("96413", "96523", DAY)
        assert flush is not None and flush.modifier_indicator == "0"
        # An edit whose quarters ended is not applied after them (77401 is deleted from 2026).
        assert table.edit("77301", "77401", date(2025, 6, 2)) is not None
        assert table.edit("77301", "77401", DAY) is None
        # 96413/99201: in force 2019-07..2019-12 and 2020-10..2020-12 only.
        assert table.edit("99201", "96413", date(2019, 8, 1)) is not None
        assert table.edit("99201", "96413", date(2020, 5, 1)) is None
        assert table.edit("99201", "96413", date(2020, 11, 2)) is not None
        assert table.edit("99201", "96413", DAY) is None
        assert table.edit("0001A", "99211", date(2022, 6, 1)) is not None
        assert table.edit("0001A", "99211", DAY) is None


def test_ptp_loader_reads_the_cms_published_layout() -> None:
    text = (
        "CPT only copyright 2025 American Medical Association. All rights reserved.\n"
        "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
        "Deletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\t"
        "PTP Edit Rationale\n"
        "96413\t96372\t\t20090101\t*\t1\tMisuse of column two code with column one code\n"
        "96413\t96523\t\t20100101\t20121231\t0\tStandards of medical / surgical practice\n"
    )
    table = parse_ptp(text)
    edit = table.edit("96372", "96413", DAY)
    assert edit is not None and edit.modifier_indicator == "1"
    assert table.edit("96413", "96523", DAY) is None  # deleted at the end of 2012
    assert table.edit("96413", "96523", date(2011, 5, 1)) is not None


def test_mue_loader_reads_the_cms_published_layout() -> None:
    text = (
        '"CPT codes and descriptions only are copyright 2025 American Medical Association."\n'
        "\n"
        "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,"
        "MUE Rationale\n"
        "96413,1,3 Date of Service Edit: Clinical,Code Descriptor / CPT Instruction\n"
        "96415,8,2 Date of Service Edit: Policy,Nature of Service/Procedure\n"
        "J9201,200,1 Line Edit,Prescribing Information\n"
    )
    mues = parse_mue(text)
    assert (mues["96413"].value, mues["96413"].adjudication) == (1, 3)
    assert mues["96415"].adjudication == 2 and mues["J9201"].adjudication == 1


def test_a_users_mue_file_decides_units_by_its_adjudication_indicator() -> None:
    texts = current_texts()
    texts["mue_facility.csv"] = (
        "HCPCS/CPT Code,Outpatient Hospital Services MUE Values,MUE Adjudication Indicator,"
        "MUE Rationale\n96372,1,1 Line Edit,x\n96374,1,2 Date of Service Edit: Policy,x\n"
    )
    pack = pack_from_texts("mue-test", texts)
    two_lines = claim(lines=(("96372", "1"), ("96372", "1")))
    assert not any(f.rule_id == "NCCI-MUE" for f in assess(two_lines, pack).findings)
    per_day = claim(lines=(("96374", "1"), ("96374", "1", "59")))
    assert any(f.rule_id == "NCCI-MUE" for f in assess(per_day, pack).findings)


def test_hcpcs_quarters_are_the_full_cms_attribute_table() -> None:
    header, rows = hcpcs_table(fixture_rows("hcpcs_attributes.csv"))
    excerpt = parse_hcpcs_quarters(render((header, rows)))
    shipped = current_pack().hcpcs
    # Every row of each code the excerpt holds: the pack has the same ranges for it, adjacent
    # I/OCE ranges with one status merged (36410, 77402, C8957 split on other columns).
    assert len(excerpt.rows) == 16 and len(shipped.rows) > 20_000
    assert {c: shipped.rows.get(c) for c in excerpt.rows} == excerpt.rows
    assert [len(excerpt.rows[c]) for c in ("36410", "77402", "C8957", "77401")] == [1, 1, 1, 1]
    for table in (excerpt, shipped):
        # Not only the oncology codes: the peripheral IV start BND-B8 names.
        assert table.status("36000", DAY) == "N" and table.status("36410", DAY) == "N"
        assert table.status("77014", date(2025, 6, 2)) == "N" and table.status("77014", DAY) is None
        assert table.status("G6015", date(2025, 6, 2)) == "B"
        assert table.status("G6015", DAY) is None and table.status("77402", DAY) == "S"
        assert table.status("77401", date(2025, 6, 2)) == "S" and table.status("77401", DAY) is None
        assert table.status("96413", DAY) == "S" and table.status("96523", DAY) == "Q1"
        assert table.status("J9070", DAY) is None and table.status("J9075", DAY) == "K"
    oncology = parse_hcpcs_quarters(fixture("hcpcs_attributes_oncology.csv"))
    assert all(shipped.status(c, DAY) == oncology.status(c, DAY) for c in oncology.rows)


def test_imrt_conflicts_are_the_cms_table() -> None:
    # The CMS table is small: the fixture is all of it, so the pack must hold exactly it.
    excerpt = parse_dated_pairs(fixture("imrt_conflicts.csv"), "imrt_code", "conflicting_code")
    assert excerpt == current_pack().imrt_conflicts
    assert len(excerpt.values("77301", DAY)) == 13 and "77290" in excerpt.values("77301", DAY)
    assert "77300" not in excerpt.values("77301", DAY)  # spec 6.3 RB4: not bundled into 77301


def test_billed_addons_are_the_cms_drug_administration_and_type_1_maps() -> None:
    # (The drug-administration map the engine codes with: test_registry_and_data.py.)
    rows = fixture_rows("addon_primary_map.csv")
    excerpt = parse_dated_pairs(
        fixture("addon_primary_map.csv"),
        "addon",
        "primary",
        where={"table": f"{DRUG_ADMIN_ADDONS}|map_addon_type1"},
    )
    shipped = current_pack().billed_addons
    # Every row of each add-on the excerpt holds: the pack has the same dated primaries.
    assert len(excerpt.rows) == 8
    assert {a: shipped.rows.get(a) for a in excerpt.rows} == excerpt.rows
    for table in (excerpt, shipped):
        assert "96413" in table.values("0663T", date(2024, 6, 3))
        assert table.values("0663T", DAY) == frozenset()  # its type 1 rows end 2025-12-31
        assert table.values("99354", date(2021, 6, 1)) == {"G0463"}
        assert table.values("96417", DAY) == {"96413"}
    # NCCI-ADDON checks billed add-ons against those two maps only, not types 2 and 3.
    other = {r["addon"] for r in rows} - excerpt.keys()
    assert other == {"96160", "0054T", "93561"} and not other & shipped.keys()


def test_ncci_bypass_modifiers_are_the_ioce_ones() -> None:
    modifiers = fixture_rows("ioce_modifiers.csv")
    table = bypass_table(modifiers, fixture_rows("ioce_versions.csv"))
    excerpt = parse_dated_pairs(render(table), None, "modifier").values("*", DAY)
    shipped = current_pack().bypass_modifiers.values("*", DAY)
    bypass = {r["modifier"] for r in modifiers if r["ncci_bypass"] == "1"}
    assert excerpt == bypass >= {"59", "XE", "XP", "XS", "XU"} and bypass <= shipped
    others = {r["modifier"] for r in modifiers} - bypass
    assert others >= {"GX", "62", "90"} and not others & shipped


def test_icd10cm_code_set_agrees_with_the_cms_neoplasm_table() -> None:
    icd = current_pack().icd10
    rows = fixture_rows("icd10cm_neoplasm.csv")
    billable = {r["code"]: r["billable"] == "1" for r in rows}
    assert {True, False} <= set(billable.values())  # leaves and headers alike
    assert {c: icd.billable.get(c) for c in billable} == billable
    flagged = {
        r["code"]: r["ioce_unacceptable_pdx_exclusion"] == "1"
        for r in rows
        if r["ioce_unacceptable_pdx"] == "1"
    }
    assert len(flagged) == 6 and {False, True} <= set(flagged.values())
    assert {c: icd.unacceptable_pdx.get(c) for c in billable} == {
        c: flagged.get(c) for c in billable
    }
    assert len(icd.billable) > 90_000  # the full code set, not a neoplasm list
    assert icd.billable["T45.1X5A"] and not icd.billable["T45.1X5"]


def test_payer_policy_rows_need_a_written_published_document() -> None:
    header = current_texts()["payer_policies.csv"].splitlines()[0]
    row = "P1,ACME,,DX-S1,resequence,,warning,2026-01-01,,,,,2026-11-22,M,phone call"
    with pytest.raises(ValueError, match="written, published"):
        parse_payer_policies(f"{header}\n{row}\n")


def test_the_documented_template_is_a_valid_policy_file() -> None:
    template = Path(__file__).resolve().parents[2] / "docs" / "payer-pack-template.csv"
    rows = parse_payer_policies(template.read_text())
    assert {r.rule_id for r in rows} >= {"DX-S1", "BND-B11", "RO-RB2", "RO-RB12", "COV-FX"}
