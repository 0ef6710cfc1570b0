"""``audit replay`` from the shell: dates are aware (UTC when no zone is given), and the exit
code tells "all identical" (0), "decisions differ" (1), "usage or input error" (2) and
"none differ, but some events could not be replayed" (3) apart."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from rules.pack import current_texts, write_pack_dir
from schemas.examples import example_claim
from worker.audit.chain import AuditRecord
from worker.audit.replay import Selection, replay
from worker.batch import scrub
from worker.cli import cli

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def audit_lines() -> list[bytes]:
    audit = io.BytesIO()
    inputs = [json.dumps(example_claim(i)).encode() for i in range(20)]
    scrub(inputs, "file:claims.jsonl", io.BytesIO(), audit, decided_at=AT)
    return audit.getvalue().splitlines()


@pytest.fixture
def audit_file(tmp_path: Path, audit_lines: list[bytes]) -> Path:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in audit_lines))
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["audit", "replay", *map(str, args)])


def report(result: Result) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def edited(path: Path, n: int, **changes: Any) -> None:
    lines = path.read_bytes().splitlines()
    event = json.loads(lines[n]) | changes
    lines[n] = json.dumps(event, separators=(",", ":")).encode()
    path.write_bytes(b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize(
    ("args", "replayed"),
    [
        (["--since", "2026-11-01"], 20),  # the README's command: a date alone is UTC midnight
        (["--since", "2026-11-22T12:00:00Z"], 20),  # inclusive
        (["--since", "2026-11-22T13:00+01:00"], 20),  # the same instant in another zone
        (["--since", "2026-11-22T12:00:01"], 0),
        (["--until", "2026-11-22 11:59:59"], 0),
        (["--since", "2026-11-22", "--until", "2026-11-23"], 20),
    ],
)
def test_dates_are_aware_and_utc_when_no_zone_is_given(
    audit_file: Path, args: list[str], replayed: int
) -> None:
    result = run("-f", audit_file, *args, "--json")
    assert result.exit_code == 0, result.output
    assert report(result)["replayed"] == replayed == report(result)["identical"]


def test_a_selection_with_naive_bounds_reads_them_as_utc(audit_lines: list[bytes]) -> None:
    records = [AuditRecord(0, n, v) for n, v in enumerate(audit_lines)]
    naive = Selection(since=datetime(2026, 11, 22, 12, 0))
    assert naive.since == AT
    assert replay(records, selection=naive).replayed == 20


def test_differing_decisions_exit_1(audit_file: Path) -> None:
    edited(audit_file, 4, output_sha256="0" * 64)
    result = run("-f", audit_file, "--json")
    assert result.exit_code == 1
    assert report(result)["differing"] == ["file:claims.jsonl:0:4"]


def test_a_pack_that_would_change_decisions_exits_1_and_one_that_would_not_exits_0(
    audit_file: Path, tmp_path: Path
) -> None:
    same = current_texts()
    write_pack_dir(same, "2026.11.9-same", tmp_path / "same")
    assert run("-f", audit_file, "--against", tmp_path / "same").exit_code == 0
    texts = current_texts()
    texts["payer_drug_overrides.csv"] += "MEDICARE,J2405,CHEMO,false,2020-01-01,,test policy 1\n"
    write_pack_dir(texts, "2026.11.9-changed", tmp_path / "changed")
    result = run("-f", audit_file, "--against", tmp_path / "changed", "--json")
    assert result.exit_code == 1 and report(result)["changes"]


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "last tuesday"],
        ["--until", "2026-13-01"],
        ["-f", "/nonexistent/audit.jsonl"],
        ["--pack-dir", "/nonexistent/pack"],
    ],
)
def test_usage_errors_exit_2(audit_file: Path, args: list[str]) -> None:
    result = run(*(["-f", str(audit_file)] if "-f" not in args else []), *args)
    assert result.exit_code == 2, result.output


def test_a_line_that_is_not_an_event_exits_2_located_without_its_content(
    audit_file: Path,
) -> None:
    lines = audit_file.read_bytes().splitlines()
    lines[6] = b'{"patient": "Jane Roe, DOB 1950-01-01"}'
    audit_file.write_bytes(b"".join(line + b"\n" for line in lines))
    result = run("-f", audit_file)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"{audit_file}:7: not an audit event" in message
    assert "Jane" not in result.output


def test_events_that_cannot_be_replayed_exit_3_when_none_differ(audit_file: Path) -> None:
    edited(
        audit_file, 2, rule_pack={"name": "x", "version": "1999.1.1", "content_sha256": "0" * 64}
    )
    edited(audit_file, 3, input_b64=None)
    result = run("-f", audit_file, "--json")
    assert result.exit_code == 3
    assert report(result)["replayed"] == report(result)["identical"] == 18
    assert sum(report(result)["not_replayable"].values()) == 2


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["audit", "replay", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    for code in ("0 every selected decision identical", "1 decisions differ", "2 usage", "3 none"):
        assert code in text
