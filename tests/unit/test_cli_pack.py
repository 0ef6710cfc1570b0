"""``oncoscrub pack init|show`` (worker/cli_pack.py): payer policies are added to the base pack's
unless --replace-policies says otherwise, a mistyped policy refuses the pack and writes
nothing, and ``show`` warns about data that ended and tables that are empty."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules.pack import current_pack, current_texts, load_pack_dir
from worker.cli import cli
from worker.cli_pack import pack_warnings

TEMPLATE = Path(__file__).resolve().parents[2] / "docs" / "payer-pack-template.csv"
SHIPPED = {p.policy_id for p in current_pack().payer_policies}


def _init(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    out = tmp_path / "pack"
    result = CliRunner().invoke(cli, ["pack", "init", str(out), "--version", "t.1", *args])
    return result.exit_code, result.output, out


def test_policies_are_added_to_the_shipped_ones(tmp_path: Path) -> None:
    code, output, out = _init(tmp_path, "--policies", str(TEMPLATE))
    assert code == 0, output
    ids = {p.policy_id for p in load_pack_dir(out).payer_policies}
    template = {line.split(",")[0] for line in TEMPLATE.read_text().splitlines()[1:]}
    assert SHIPPED and template and ids == SHIPPED | template


def test_replace_policies_replaces_them(tmp_path: Path) -> None:
    code, output, out = _init(tmp_path, "--policies", str(TEMPLATE), "--replace-policies")
    assert code == 0, output
    ids = {p.policy_id for p in load_pack_dir(out).payer_policies}
    assert ids and not ids & SHIPPED


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("P1,ACME,,DX-S11,resequence,,error,2026-01-01,,{doc}",
         "acme.csv row 2 (policy P1): rule_id 'DX-S11' is not a rule"),
        ("P1,ACME,,RO-RB12,max_units,codes=77338;max=three,error,2026-01-01,,{doc}",
         "'max' must be a whole number"),
        ("HNCA-2021-Z51,ACME,,DX-S1,resequence,,warning,2026-01-01,,{doc}",
         "policy_id 'HNCA-2021-Z51' is already in the pack"),
    ],
)  # fmt: skip
def test_a_mistyped_policy_refuses_the_pack_and_writes_nothing(
    tmp_path: Path, row: str, said: str
) -> None:
    doc = "Acme policy 12,§3,https://acme.example/policy-12,2026-11-22,M,a written policy"
    header = current_texts()["payer_policies.csv"].splitlines()[0]
    bad = tmp_path / "acme.csv"
    bad.write_text(f"{header}\n{row.format(doc=doc)}\n", encoding="utf-8")
    code, output, out = _init(tmp_path, "--policies", str(bad))
    assert code == 2 and "not a valid pack" in output
    assert said in " ".join(output.split())
    assert not out.exists()


def test_a_policy_file_without_a_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "short.csv"
    bad.write_text("policy_id,payer_id\nP1,ACME\n", encoding="utf-8")
    code, output, out = _init(tmp_path, "--policies", str(bad))
    assert code == 2 and "short.csv lacks the column" in output and not out.exists()


def test_show_warns_when_data_has_ended_or_a_table_is_empty() -> None:
    shipped = current_pack()
    earliest = min(r.covers_through for r in shipped.releases if r.covers_through)
    before = pack_warnings(shipped, earliest)
    after = pack_warnings(shipped, date(2099, 1, 1))
    ended = [w for w in after if "before today" in w]
    assert not [w for w in before if "before today" in w]
    assert {w.split(" ")[0] for w in ended} == {
        r.release for r in shipped.releases if r.covers_through
    }
    assert any("no practitioner PTP edits" in w for w in before)
    assert any("only 2 facility MUE value(s)" in w for w in before)
    result = CliRunner().invoke(cli, ["pack", "show"])
    assert result.exit_code == 0 and "warning:" in result.output
