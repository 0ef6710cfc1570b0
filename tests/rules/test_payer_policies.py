"""Payer policy rows are checked when a pack loads: a row naming an unknown rule or action, or
with a missing or mistyped parameter, refuses the pack with the row and column at fault;
parameters a row leaves out take the defaults the rule declares."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rules.catalogue import RULES
from rules.pack import current_texts, pack_from_texts
from rules.payer_policies import PolicyError

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "payer-pack-template.csv"
DOC = "Acme policy 12,§3,https://acme.example/policy-12,2026-11-22,M,a written policy"


def pack_with(*rows: str) -> None:
    texts = current_texts()
    header = texts["payer_policies.csv"].splitlines()[0]
    texts["payer_policies.csv"] = "\n".join((header, *rows)) + "\n"
    pack_from_texts("policy-test", texts)


def row(rule: str, action: str, parameters: str = "") -> str:
    return f"P1,ACME,,{rule},{action},{parameters},error,2026-01-01,,{DOC}"


@pytest.mark.parametrize(
    ("rule", "action", "parameters", "error"),
    [
        ("DX-S11", "resequence", "", r"row 2 \(policy P1\): rule_id 'DX-S11' is not a rule"),
        ("DX-S4", "review", "", "rule DX-S4 takes no payer policy rows"),
        ("DX-S1", "resequense", "", "action 'resequense' is not one rule DX-S1 takes"),
        ("RO-RB12", "max_units", "codes=77338", "parameter 'max' is required"),
        ("RO-RB12", "max_units", "codes=77338;max=three", "'max' must be a whole number"),
        ("RO-RB2", "window_days", "codes=77014;days=30;weeks=4", "parameter 'weeks' is not one"),
        ("COV-IMRT", "require_documentation", "codes=7730", "HCPCS/CPT codes separated by"),
        ("BND-B11", "require_modifier", "modifier=fifty-nine", "a two-character modifier"),
        ("BND-B12", "review", "max_ml=lots", "'max_ml' must be a number"),
        ("COV-FX", "max_fractions", "dx=bone;max=10", "ICD-10-CM codes or prefixes"),
    ],
)
def test_a_row_that_would_do_nothing_refuses_the_pack_with_its_location(
    rule: str, action: str, parameters: str, error: str
) -> None:
    with pytest.raises(PolicyError, match=error):
        pack_with(row(rule, action, parameters))


def test_the_row_number_points_at_the_faulty_row() -> None:
    good = row("DX-S1", "resequence")
    with pytest.raises(PolicyError, match=r"row 3 \(policy P2\)"):
        pack_with(good, row("DX-S1", "resequence").replace("P1", "P2").replace("DX-S1", "DX-X"))


def test_left_out_parameters_take_the_rules_declared_defaults() -> None:
    texts = current_texts()
    header = texts["payer_policies.csv"].splitlines()[0]
    texts["payer_policies.csv"] = "\n".join(
        (header, row("BND-B11", "require_modifier"),
         row("BND-B12", "review").replace("P1", "P3"),
         row("RO-RB2", "window_days", "codes=77014").replace("P1", "P2"))
    ) + "\n"  # fmt: skip
    pack = pack_from_texts("defaults", texts)
    by_rule = {p.rule_id: p for p in pack.payer_policies}
    assert by_rule["BND-B11"].str_param("modifier") == "59"
    assert by_rule["BND-B12"].decimal_param("max_ml") == Decimal(500)
    assert by_rule["RO-RB2"].int_param("days") == 30
    assert by_rule["RO-RB2"].codes() == {"77014"}


def test_every_documented_action_is_declared_by_the_rules_the_docs_name() -> None:
    documented = (TEMPLATE.parent / "payer-packs.md").read_text()
    for rule in RULES.values():
        for action in rule.payer_actions:
            assert f"`{action.action}` | " in documented and rule.id in documented
    texts = current_texts()
    texts["payer_policies.csv"] = TEMPLATE.read_text()
    assert len(pack_from_texts("template", texts).payer_policies) == 7


def test_a_repeated_policy_id_refuses_the_pack() -> None:
    """Two rows with one id would leave which one decides to chance."""
    with pytest.raises(PolicyError, match=r"row 3 \(policy P1\): policy_id repeats"):
        pack_with(row("BND-B11", "require_modifier"), row("BND-B12", "review"))
