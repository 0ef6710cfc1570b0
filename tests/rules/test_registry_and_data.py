"""The rule registry and the reference data the engine loads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from rules import assess
from rules.administration.supply import expected_units
from rules.catalogue import RULES
from rules.cms_tables import parse_addon_map
from rules.drug_catalogue import Family, parse_catalogue
from rules.pack import RulePack, current_pack, current_texts, pack_from_texts
from schemas.decision import Confidence, Severity
from tests.rules.mar_builder import admin, claim, codes, rule_ids

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
# An excerpt of ../shared/data/addon_primary_map.csv (tests/fixtures/cms/README.md).
CMS_ADDONS = Path(__file__).resolve().parents[1] / "fixtures" / "cms" / "addon_primary_map.csv"


def test_every_rule_explains_itself_with_a_citation() -> None:
    for r in RULES.values():
        assert r.title and r.checks and r.why and r.section and r.action
        assert r.citations[-1].section == r.section


def test_nc_rules_always_send_the_claim_to_review_and_never_correct() -> None:
    for r in RULES.values():
        f = r.finding("x", severity=Severity.INFO, suggested_correction="do this")
        if r.confidence is Confidence.NEEDS_CONFIRMATION:
            assert f.severity is Severity.ERROR and f.suggested_correction is None
        else:
            assert f.severity is Severity.INFO


def test_catalogue_loads_the_shipped_table_with_the_spec_units() -> None:
    catalogue = current_pack().catalogue
    assert catalogue.by_hcpcs["J9201"].unit_amount == Decimal(200)
    assert catalogue.by_hcpcs["J9263"].unit_amount == Decimal("0.5")
    assert catalogue.by_hcpcs["J0640"].family is Family.THER  # leucovorin (4.1 rule 5)
    assert catalogue.by_hcpcs["J9217"].hormonal
    assert catalogue.by_hcpcs["J0897"].confidence is Confidence.NEEDS_CONFIRMATION


def test_a_name_shared_by_two_codes_is_never_resolved_by_name() -> None:
    spec = "hcpcs,name,aliases,unit_amount,unit,family,hormonal,confidence,source\n"
    codes_text = current_texts()["drug_codes.csv"].splitlines()[0] + "\n"
    for code in ("J0001", "J0002"):
        spec += f"{code},drug {code[-1]},shared,1,mg,THER,false,M,x\n"
        codes_text += f"{code},2019-07-01,2036-03-31,drug,1,mg,THER,false,false,M,spec,\n"
    catalogue = parse_catalogue(codes_text, spec, "payer_id,hcpcs\n")
    assert set(catalogue.codes) == {"J0001", "J0002"}
    assert "shared" not in catalogue.names and catalogue.by_name["drug 1"].hcpcs == "J0001"


def test_unclassified_codes_are_looked_up_by_name() -> None:
    found = current_pack().catalogue.lookup("J3490", "Famotidine", "MEDICARE", date(2026, 3, 2))
    assert found is not None and found.family is Family.THER


def test_the_addon_map_is_the_cms_one() -> None:
    # The excerpt holds every drug-administration row of the add-ons it names.
    excerpt = parse_addon_map(CMS_ADDONS.read_text(encoding="utf-8"), table="map_addon_drug_admin")
    shipped = current_pack().addon_primaries
    assert len(excerpt) == 5 and {a: shipped.get(a) for a in excerpt} == excerpt
    assert shipped["96417"] == {"96413"}
    assert "96413" in shipped["96366"]  # CMS allows 96366 with 96413


def _override_pack(rows: str) -> RulePack:
    texts = current_texts()
    texts["payer_drug_overrides.csv"] = (
        "payer_id,hcpcs,family,hormonal,effective_from,effective_through,policy_reference\n" + rows
    )
    return pack_from_texts("override-test", texts)


def test_a_payer_override_reclassifies_and_settles_the_nc_review() -> None:
    pack = _override_pack("ACME,J0897,CHEMO,false,2026-01-01,,ACME policy RX-12 (2026)\n")
    denosumab = admin("denosumab", "09:00", route="SQ", dose="120")
    acme = assess(claim(denosumab, payer="ACME"), pack=pack)
    assert codes(acme) == {"96401": 1} and "ADM-U2" not in rule_ids(acme)
    other = assess(claim(denosumab, payer="OTHER"), pack=pack)
    assert codes(other) == {"96372": 1} and "ADM-U2" in rule_ids(other)
    earlier = admin("denosumab", "09:00", route="SQ", dose="120", day="2025-12-31")
    before = assess(claim(earlier, payer="ACME", day="2025-12-31"), pack=pack)
    assert codes(before) == {"96372": 1}  # the policy is not yet in force


def test_unknown_drug_goes_to_review_and_is_never_guessed() -> None:
    result = assess(claim(admin("mystery mab", "09:00", "10:00", hcpcs="J9999")))
    assert codes(result) == {} and "ADM-U1" in rule_ids(result) and result.needs_review


def test_supply_units_convert_doses() -> None:
    assert expected_units(Decimal(1000), "mg", Decimal(200), "mg") == 5
    assert expected_units(Decimal("1.5"), "g", Decimal(500), "mg") == 3
    assert expected_units(Decimal(300), "mcg", Decimal(1), "mcg") == 300
    assert expected_units(Decimal(10), "mg", Decimal(1000), "mL") is None


def test_the_rule_catalogue_document_is_current() -> None:
    from rules.docs import DOC, render

    assert DOC.read_text() == render(), "run `python -m rules.docs`"
