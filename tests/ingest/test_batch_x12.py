"""Batch mode on an 837 file and a FHIR Bundle: ``oncoscrub scrub FILE --x12-out``."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from schemas.audit import AuditEvent, Outcome
from schemas.decision import ReasonCode, ScrubbedClaim
from tests.ingest.conftest import ALIASES, KEY, sample
from tests.ingest.fhir_builder import claim_bundle
from tests.ingest.x12_builder import interchange, phi_strings
from worker.audit.log import records_from_files
from worker.audit.replay import replay
from worker.cli import cli
from worker.ingest.x12 import X12Options, parse_837

DOCS = ("01-facility-chemo.json", "10-health-net-z51-resequenced.json")
DOCS += ("12-malignancy-first-no-policy.json", "11-radiation-imrt-plan.json")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCOSCRUB_PATIENT_REF_KEY", KEY.decode())
    monkeypatch.setenv("ONCOSCRUB_PAYER_ALIASES", json.dumps(ALIASES))


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["scrub", *map(str, args)])


def _lines(path: Path) -> list[bytes]:
    return [x for x in path.read_bytes().splitlines() if x.strip()]


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.usefixtures("keyed")
def test_an_837_file_is_decided_claim_by_claim_with_corrected_837s_out(tmp_path: Path) -> None:
    docs = [sample(n) for n in DOCS]
    source = tmp_path / "batch.837"
    source.write_text(interchange(docs, "I"))
    out, audit, fixed = tmp_path / "d.jsonl", tmp_path / "a.jsonl", tmp_path / "fixed.x12"
    result = run(source, "-o", out, "--audit", audit, "--x12-out", fixed)
    assert result.exit_code == 0, result.output
    decisions = [json.loads(x) for x in _lines(out)]
    events = [AuditEvent.model_validate_json(x) for x in _lines(audit)]
    assert [d["claim_id"] for d in decisions] == [d["claim_id"] for d in docs]
    assert [e.event_id for e in events] == [f"file:batch.837:0:0#claim:{n}" for n in (1, 2, 3, 4)]
    scrubbed = [ScrubbedClaim.model_validate(d) for d in decisions if "corrected_x12" in d]
    assert len(scrubbed) == sum(e.outcome is Outcome.SCRUBBED for e in events) >= 2
    # --x12-out holds the scrubbed claims' 837s, one interchange each, readable again
    text = fixed.read_text()
    assert text == "".join(s.corrected_x12 or "" for s in scrubbed)
    chunks = [c for c in re.split(r"(?m)^(?=ISA\*)", text) if c]
    assert len(chunks) == len(scrubbed)
    for chunk, s in zip(chunks, scrubbed, strict=True):
        (read,) = parse_837(chunk, X12Options(KEY, ALIASES))
        assert read.claim_id == s.claim_id and read.reasons == ()
    assert all(_private(p) for p in (out, audit, fixed))
    report = replay(records_from_files([audit]))
    assert (report.replayed, report.identical) == (len(events), len(events))
    assert "4 claims" in result.output


@pytest.mark.usefixtures("keyed")
def test_the_form_is_sniffed_or_given(tmp_path: Path) -> None:
    bundle = tmp_path / "claim.json"
    bundle.write_text(claim_bundle(sample("01-facility-chemo.json")))
    x12 = tmp_path / "claims.txt"  # no telling extension: sniffed
    x12.write_text(interchange([sample("02-office-visit.json")], "P"))
    for path, form in ((bundle, None), (x12, None), (bundle, "fhir"), (x12, "x12")):
        out = tmp_path / "out.jsonl"
        result = run(path, "-o", out, *(("--format", form) if form else ()))
        assert result.exit_code == 0, result.output
        (decision,) = [json.loads(x) for x in _lines(out)]
        assert decision["claim_id"] in ("CLM-00000120", "CLM-00000230")
    # told it is JSON, a Bundle is decided as a v1 claim: not one
    result = run(bundle, "-o", tmp_path / "out.jsonl", "--format", "json")
    (decision,) = [json.loads(x) for x in _lines(tmp_path / "out.jsonl")]
    assert decision["reasons"][0]["code"] == ReasonCode.SCHEMA_INVALID.value


@pytest.mark.usefixtures("keyed")
def test_a_malformed_837_file_is_one_dead_letter_with_its_location(tmp_path: Path) -> None:
    source = tmp_path / "bad.837"
    source.write_text(interchange([sample("02-office-visit.json")], "P").replace("IEA*1", "IEA*7"))
    out = tmp_path / "d.jsonl"
    result = run(source, "-o", out)
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in _lines(out)]
    assert line["dead_letter"]["reason"] == "x12_envelope"
    assert "(IEA) IEA01" in line["dead_letter"]["detail"]
    said = (result.output + out.read_text()).upper()
    assert [v for v in phi_strings() if v.upper() in said] == []


def test_x12_without_the_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONCOSCRUB_PATIENT_REF_KEY", raising=False)
    source = tmp_path / "a.837"
    source.write_text(interchange([sample("02-office-visit.json")], "P"))
    result = run(source)
    assert result.exit_code == 2 and "ONCOSCRUB_PATIENT_REF_KEY" in result.output
    monkeypatch.setenv("ONCOSCRUB_PATIENT_REF_KEY", "too short")
    result = run(source)
    assert result.exit_code == 2 and "at least 32 bytes" in result.output
    assert "too short" not in result.output
