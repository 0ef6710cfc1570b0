"""Batch mode with the course store: a course billed over several claims in one file, decided
with one state, exactly as the worker decides by-patient records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from schemas.audit import AuditEvent
from schemas.decision import ReasonCode
from tests.rules.course_builder import claim, days, fx, on
from worker.audit.chain import AuditRecord
from worker.audit.replay import replay
from worker.cli import cli

# Batch mode decides on today's date: a course treated some weeks ago, as claims arrive.
_AGO = datetime.now(UTC).date() - timedelta(days=70)
START = _AGO - timedelta(days=_AGO.weekday())  # a Monday
PLAN = claim("plan", on("77263", START), on("77290", START), on("77295", START))
DELIVERY = claim("delivery", *fx("77412", days(START, 20)[5], 10))


def run(
    tmp_path: Path, *claims: object, courses: bool = True
) -> tuple[list[dict[str, object]], list[AuditEvent]]:
    source = tmp_path / "course.jsonl"
    source.write_text("".join(c.model_dump_json() + "\n" for c in claims))  # type: ignore[attr-defined]
    out, audit = tmp_path / "out.jsonl", tmp_path / "audit.jsonl"
    args = ["scrub", str(source), "-o", str(out), "--audit", str(audit)]
    result = CliRunner().invoke(cli, [*args, "--courses"] if courses else args)
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    events = [AuditEvent.model_validate_json(line) for line in audit.read_text().splitlines()]
    return decisions, events


def test_a_course_out_of_order_is_corrected_in_the_file(tmp_path: Path) -> None:
    decisions, events = run(tmp_path, DELIVERY, PLAN)
    assert "RO-CC2" in events[0].rule_ids
    fixes = [e for e in events if ReasonCode.COURSE_CORRECTION in e.reasons]
    assert [e.claim_id for e in fixes] == ["delivery"]
    assert any(d.get("course_change") for d in decisions)
    # The file's audit events replay identically, corrections included.
    report = replay([AuditRecord(0, n, e.model_dump_json().encode()) for n, e in enumerate(events)])
    assert report.identical == len(events) and not report.differing


def test_without_the_course_store_each_claim_stands_alone(tmp_path: Path) -> None:
    _, events = run(tmp_path, DELIVERY, PLAN, courses=False)
    assert len(events) == 2 and not any(e.course_context_b64 for e in events)
    assert all(ReasonCode.COURSE_CORRECTION not in e.reasons for e in events)
