"""`oncoscrub audit show` explains a claim's decision: it re-derives it from the recorded input,
says whether it is identical, and prints the findings and each computed line's derivation."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.golden.record import AUDIT
from worker.cli import cli


def test_audit_show_explains_a_recorded_decision() -> None:
    first = json.loads(AUDIT.read_bytes().splitlines()[0])
    result = CliRunner().invoke(cli, ["audit", "show", first["claim_id"], "--file", str(AUDIT)])
    assert result.exit_code == 0, result.output
    assert "re-derived from the recorded input: identical to the recorded decision" in result.output
    assert "computed lines" in result.output and "findings" in result.output
