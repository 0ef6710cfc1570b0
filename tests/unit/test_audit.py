"""The audit log without a broker: tampering is always detected, replay is byte-identical."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.pack import current_texts, pack_from_texts, write_pack_dir
from schemas import AuditArchival, AuditCheckpoint
from schemas.examples import example_claim
from worker.audit.chain import AuditRecord, head_after, sha256_hex, verify
from worker.audit.log import export, records_from_files
from worker.audit.replay import replay
from worker.batch import scrub, split_inputs

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def claims(n: int, start: int = 0) -> list[bytes]:
    return [json.dumps(example_claim(i)).encode() for i in range(start, start + n)]


def audit_of(inputs: list[bytes]) -> tuple[list[AuditRecord], list[bytes]]:
    decisions, audit = io.BytesIO(), io.BytesIO()
    scrub(inputs, "file:test", decisions, audit, decided_at=AT)
    values = audit.getvalue().splitlines()
    return [AuditRecord(0, n, v) for n, v in enumerate(values)], decisions.getvalue().splitlines()


@cache
def small_log() -> tuple[AuditRecord, ...]:
    return tuple(audit_of([*claims(40), b"not json", b'{"claim_id": "X"}'])[0])


def pin(records: list[AuditRecord]) -> list[AuditCheckpoint]:
    head = head_after(records[-1].value)
    return [
        AuditCheckpoint(
            partition=0, events=head.seq, head_sha256=head.prev_hash, worker_id="w", at=AT
        )
    ]


def test_an_untouched_log_verifies() -> None:
    records = list(small_log())
    report = verify(records, pin(records))
    assert report.ok and report.events == 42 and report.checkpoints_checked == 1


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_one_byte_edited_anywhere_is_detected(data: st.DataObject) -> None:
    records = list(small_log())
    i = data.draw(st.integers(0, len(records) - 1))
    pos = data.draw(st.integers(0, len(records[i].value) - 1))
    old = records[i].value[pos]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != old))
    value = bytearray(records[i].value)
    value[pos] = new
    tampered = [*records[:i], replace(records[i], value=bytes(value)), *records[i + 1 :]]
    report = verify(tampered, pin(records))
    assert not report.ok
    # Reported at the edited event or the next one, whose link no longer matches.
    assert report.breaks[0].offset in (i, i + 1)


def test_a_dropped_event_is_detected() -> None:
    records = list(small_log())
    report = verify([*records[:10], *records[11:]], pin(records))
    assert [(b.offset, b.seq) for b in report.breaks] == [(11, 11)]
    assert "dropped" in report.breaks[0].problem


def test_two_reordered_events_are_detected() -> None:
    records = list(small_log())
    swapped = [*records[:5], records[6], records[5], *records[7:]]
    report = verify(swapped, pin(records))
    assert report.breaks and report.breaks[0].offset == 6


def test_a_truncated_tail_is_detected_by_the_checkpoint() -> None:
    records = list(small_log())
    assert verify(records[:-3]).ok  # without a checkpoint a shorter log looks whole
    report = verify(records[:-3], pin(records))
    assert not report.ok and "truncated" in report.breaks[0].problem


def test_an_inserted_event_is_detected() -> None:
    records = list(small_log())
    forged = replace(records[3], offset=4)
    report = verify([*records[:4], forged, *records[4:]], pin(records))
    assert report.breaks and report.breaks[0].offset == 4


def test_a_rewritten_tail_is_caught_by_the_pinned_head() -> None:
    records = list(small_log())
    # Re-chain the last event after changing it, as a forger with the code would.
    last = json.loads(records[-1].value)
    last["outcome"] = "scrubbed"
    forged = json.dumps(last, separators=(",", ":")).encode()
    report = verify([*records[:-1], replace(records[-1], value=forged)], pin(records))
    assert not report.ok and "checkpoint" in report.breaks[0].problem


def test_ten_thousand_decisions_replay_byte_identical() -> None:
    records, _ = audit_of(claims(10_000))
    report = replay(records)
    assert (report.replayed, report.identical, report.differing) == (10_000, 10_000, [])


def test_replay_with_a_changed_pack_reports_exactly_the_expected_changes(tmp_path: Path) -> None:
    inputs = claims(300)
    records, _ = audit_of(inputs)
    texts = current_texts()
    # A payer policy reclassifies ondansetron (J2405) as chemotherapy for Medicare.
    texts["payer_drug_overrides.csv"] += "MEDICARE,J2405,CHEMO,false,2020-01-01,,test policy 1\n"
    write_pack_dir(texts, "2026.11.2-test", tmp_path / "candidate")
    candidate = pack_from_texts("2026.11.2-test", texts)
    report = replay(records, against=candidate)

    with_ondansetron = {
        c["claim_id"] for c in map(json.loads, inputs)
        if any(a["drug"].get("hcpcs") == "J2405" for a in c["administrations"])
    }  # fmt: skip
    assert {c.claim_id for c in report.changes} == with_ondansetron
    assert report.identical == 300 - len(with_ondansetron)
    for change in report.changes:
        assert change.codes_before != change.codes_after
        assert any(code.startswith(("96409", "96411")) for code in change.codes_after)


def test_export_keeps_the_chain_and_files_verify(tmp_path: Path) -> None:
    records = list(small_log())
    export(records, pin(records), tmp_path)
    again = list(records_from_files([tmp_path]))
    assert [r.value for r in again] == [r.value for r in records]
    assert verify(again, pin(records)).ok


@pytest.mark.parametrize(
    ("data", "count"),
    [
        (b'{"a": 1}', 1),
        (b'[{"a": 1}, {"b": 2}]', 2),
        (b'{"a": 1}\n{"b": 2}\n\n{"c": 3}\n', 3),
        (b"not json\n{}\n", 2),
        (b"", 0),
    ],
)
def test_batch_input_forms(data: bytes, count: int) -> None:
    assert len(list(split_inputs(data))) == count


def test_batch_decides_as_the_worker_does_and_summarises() -> None:
    decisions, audit = io.BytesIO(), io.BytesIO()
    summary = scrub([*claims(5), b"garbage"], "file:x", decisions, audit, decided_at=AT)
    assert summary.total == 6 and summary.outcomes["dead_letter"] == 1
    lines = decisions.getvalue().splitlines()
    assert json.loads(lines[-1])["dead_letter"]["reason"] == "not_json"
    assert verify([AuditRecord(0, n, v) for n, v in
                   enumerate(audit.getvalue().splitlines())]).ok  # fmt: skip


def archival_after(records: list[AuditRecord], k: int) -> AuditArchival:
    """The record an archival of the first ``k`` events writes."""
    return AuditArchival(
        partition=0, first_kept_seq=k, first_kept_offset=records[k].offset,
        last_archived_sha256=sha256_hex(records[k - 1].value), archived_events=k,
        archive_sha256="0" * 64, archive_name="a/audit-p0.jsonl", archived_by="ops",
        reason="records schedule", at=AT,
    )  # fmt: skip


def test_a_chain_whose_head_was_archived_on_record_verifies_from_the_archival() -> None:
    records = list(small_log())
    record = archival_after(records, 15)
    report = verify(records[15:], [record, *pin(records)])
    assert report.ok, report.breaks
    assert report.archived == {0: 15} and report.events == len(records) - 15
    # The archive verifies on its own: the archival pins its last event.
    archive = verify(records[:15], [record])
    assert archive.ok and archive.checkpoints_checked == 1


def test_a_chain_that_starts_later_without_an_archival_is_broken() -> None:
    records = list(small_log())
    report = verify(records[15:], pin(records))
    assert not report.ok
    assert "starts at seq 15" in report.breaks[0].problem
    assert "no archival" in report.breaks[0].problem


def test_an_archival_does_not_excuse_a_different_start() -> None:
    records = list(small_log())
    report = verify(records[16:], [archival_after(records, 15)])
    assert not report.ok and report.breaks[0].seq == 16


def test_an_archive_whose_last_event_was_altered_fails_against_its_record() -> None:
    records = list(small_log())
    record = archival_after(records, 15)
    altered = [*records[:14], replace(records[14], value=bytes(records[14].value) + b" ")]
    assert not verify(altered, [record]).ok


@pytest.mark.parametrize("name", ["audit-p0.jsonl", "audit.jsonl"])
def test_a_half_written_last_line_is_a_located_break_whatever_the_file_is_called(
    tmp_path: Path, name: str
) -> None:
    records = list(small_log())
    data = b"".join(bytes(r.value) + b"\n" for r in records)
    cut = data[: len(data) - 40]  # the last event, cut before its end
    (tmp_path / name).write_bytes(cut)
    report = verify(records_from_files([tmp_path / name]), pin(records[:-1]))
    assert not report.ok
    [found] = report.breaks
    assert found.where == f"{tmp_path / name}:{len(records)}"
    assert "incomplete last line" in found.problem


def test_an_unreadable_line_in_an_unnamed_file_is_located_not_raised(tmp_path: Path) -> None:
    records = list(small_log())
    lines = [bytes(r.value) for r in records]
    lines[3] = b'{"not": "an event"'
    (tmp_path / "audit.jsonl").write_bytes(b"".join(v + b"\n" for v in lines))
    report = verify(records_from_files([tmp_path / "audit.jsonl"]))
    assert not report.ok and report.breaks[0].where == f"{tmp_path / 'audit.jsonl'}:4"
