"""The pack's loaders on the real CMS files in shared/data, and on the layouts CMS publishes."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from rules import assess
from rules.pack import current_pack, current_texts, pack_from_texts
from rules.tables import parse_hcpcs_quarters, parse_mue, parse_payer_policies, parse_ptp
from tests.rules.mar_builder import claim

SHARED = next(
    p / "shared" / "data"
    for p in Path(__file__).resolve().parents
    if (p / "shared" / "data" / "ncci_ptp_oncology.csv").exists()
)
DAY = date(2026, 5, 4)


def test_ptp_loader_reads_the_cms_extract_and_the_pack_holds_the_same_edits() -> None:
    from_cms = parse_ptp((SHARED / "ncci_ptp_oncology.csv").read_text())
    shipped = current_pack().ptp_hospital
    assert from_cms.edits == shipped.edits and len(shipped) > 90_000
    chemo_sq = shipped.edit("96372", "96413", DAY)
    assert chemo_sq is not None and (chemo_sq.column1, chemo_sq.modifier_indicator) == (
        "96413",
        "1",
    )
    flush = shipped.edit("96413", "96523", DAY)
    assert flush is not None and flush.modifier_indicator == "0"
    # An edit whose quarters ended is not applied after them (77401 is deleted from 2026).
    assert shipped.edit("77301", "77401", date(2025, 6, 2)) is not None
    assert shipped.edit("77301", "77401", DAY) is None


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


def test_hcpcs_quarters_are_the_cms_attribute_table() -> None:
    shipped = current_pack().hcpcs
    assert parse_hcpcs_quarters((SHARED / "hcpcs_attributes_oncology.csv").read_text()) == shipped
    assert shipped.status("G6015", date(2025, 6, 2)) == "B"
    assert shipped.status("G6015", DAY) is None and shipped.status("77402", DAY) == "S"


def test_imrt_conflicts_and_addon_maps_are_the_cms_tables() -> None:
    pack = current_pack()
    with (SHARED / "imrt_conflicts.csv").open() as f:
        expected = {r["conflicting_code"] for r in csv.DictReader(f)}
    assert pack.imrt_conflicts.values("77301", DAY) == expected
    assert "77300" not in expected  # spec 6.3 RB4: not bundled into 77301
    with (SHARED / "addon_primary_map.csv").open() as f:
        type1 = {r["addon"] for r in csv.DictReader(f) if r["table"] == "map_addon_type1"}
    assert type1 <= pack.billed_addons.keys()


def test_icd10cm_code_set_agrees_with_the_cms_neoplasm_table() -> None:
    icd = current_pack().icd10
    with (SHARED / "icd10cm_neoplasm.csv").open() as f:
        rows = list(csv.DictReader(f))
    leaves = [r["code"] for r in rows if r["billable"] == "1"]
    headers = [r["code"] for r in rows if r["billable"] == "0" and r["is_category"] != "x"]
    assert len(leaves) > 1500 and all(icd.billable.get(c) is True for c in leaves)
    assert all(icd.billable.get(c) is False for c in headers if c in icd.billable)
    flagged = {r["code"] for r in rows if r["ioce_unacceptable_pdx"] == "1"}
    assert flagged == set(icd.unacceptable_pdx)
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
