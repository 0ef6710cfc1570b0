"""The engine's decisions do not move: the recorded inputs decided again give the recorded
decisions and audit events byte for byte, and ``audit replay`` of the recorded log agrees."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.golden.record import AUDIT, DECISIONS, INPUTS, decide_all
from worker.cli import cli


def test_recorded_inputs_give_the_recorded_decisions_byte_for_byte() -> None:
    lines = INPUTS.read_bytes().splitlines()
    decisions, audit = decide_all(lines)
    assert decisions.splitlines() == DECISIONS.read_bytes().splitlines()
    assert audit.splitlines() == AUDIT.read_bytes().splitlines()


def test_the_golden_set_exercises_most_rules() -> None:
    fired = {r for line in AUDIT.read_bytes().splitlines() for r in json.loads(line)["rule_ids"]}
    assert len(fired) >= 50, sorted(fired)


def test_audit_replay_of_the_recorded_log_is_identical() -> None:
    result = CliRunner().invoke(cli, ["audit", "replay", "--file", str(AUDIT), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["replayed"] > 400 and not report["differing"]
