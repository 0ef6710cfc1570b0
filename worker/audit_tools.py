"""What compliance does with the audit log: verify, replay, show, export.

Records come from the audit topic or from exported JSON Lines files. An exported
line is the record's value byte for byte, so the chain survives export: one file
per partition, ``audit-p<N>.jsonl``, and the checkpoints in ``checkpoints.jsonl``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from rules.pack import RulePack, current_pack
from schemas.audit import AuditCheckpoint, AuditEvent
from schemas.decision import ReviewRequest, ScrubbedClaim
from worker import auditlog
from worker.admin import partitions_of
from worker.chain import AuditRecord, sha256_hex
from worker.processing import Decision, DecisionContext, decide
from worker.settings import Topics

_PARTITION_FILE = re.compile(r"audit-p(\d+)\.jsonl$")


# -- sources ----------------------------------------------------------------------------


def records_from_files(paths: Sequence[Path]) -> Iterator[AuditRecord]:
    """Records from exported files (a directory means its audit-p*.jsonl files)."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("audit-p*.jsonl")) if path.is_dir() else [path]
    for file in files:
        named = _PARTITION_FILE.search(file.name)
        data = file.read_bytes()
        view = memoryview(data)
        start, number = 0, 0
        while start < len(data):
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            if end > start:
                value = view[start:end]
                partition = (
                    int(named.group(1)) if named
                    else json.loads(bytes(value))["source"]["partition"]
                )  # fmt: skip
                yield AuditRecord(partition, number, value)
            start, number = end + 1, number + 1


def checkpoints_from_files(paths: Sequence[Path]) -> list[AuditCheckpoint]:
    """Checkpoints from checkpoint files, or from the checkpoints.jsonl of export directories."""
    out: list[AuditCheckpoint] = []
    for path in paths:
        file = path / "checkpoints.jsonl" if path.is_dir() else path
        if file.exists():
            out += [
                AuditCheckpoint.model_validate_json(line)
                for line in file.read_bytes().splitlines()
                if line.strip()
            ]
    return out


async def records_from_topic(bootstrap: str, topic: str) -> AsyncIterator[AuditRecord]:
    consumer = auditlog.reader(bootstrap)
    await auditlog.start_reader(consumer)
    try:
        for tp in await partitions_of(bootstrap, topic):
            async for record in auditlog.read_partition(consumer, tp):
                yield record
    finally:
        await consumer.stop()


async def checkpoints_from_topic(bootstrap: str, topic: str) -> list[AuditCheckpoint]:
    return [
        AuditCheckpoint.model_validate_json(bytes(r.value))
        async for r in records_from_topic(bootstrap, topic)
    ]


# -- export ------------------------------------------------------------------------------


def export(
    records: Iterable[AuditRecord], checkpoints: Iterable[AuditCheckpoint], out_dir: Path
) -> dict[int, int]:
    """Write the log as JSON Lines, one file per partition; events per partition."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[int] = Counter()
    with contextlib.ExitStack() as stack:
        files: dict[int, BinaryIO] = {}
        for record in records:
            if record.partition not in files:
                path = out_dir / f"audit-p{record.partition}.jsonl"
                files[record.partition] = stack.enter_context(path.open("wb"))
            files[record.partition].write(bytes(record.value) + b"\n")
            counts[record.partition] += 1
    (out_dir / "checkpoints.jsonl").write_text(
        "".join(cp.model_dump_json() + "\n" for cp in checkpoints)
    )
    return dict(counts)


# -- replay ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    claim_ids: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    min_offset: int | None = None
    max_offset: int | None = None

    def wants(self, record: AuditRecord, event: AuditEvent) -> bool:
        return (
            (not self.claim_ids or event.claim_id in self.claim_ids)
            and (self.since is None or event.decided_at >= self.since)
            and (self.until is None or event.decided_at <= self.until)
            and (self.min_offset is None or record.offset >= self.min_offset)
            and (self.max_offset is None or record.offset <= self.max_offset)
        )


@dataclass(frozen=True, slots=True)
class Change:
    event_id: str
    claim_id: str | None
    recorded_outcome: str
    new_outcome: str
    codes_before: tuple[str, ...]
    codes_after: tuple[str, ...]
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]


@dataclass
class ReplayReport:
    replayed: int = 0
    identical: int = 0
    not_replayable: Counter[str] = field(default_factory=Counter)
    differing: list[str] = field(default_factory=list)  # event ids whose bytes differ
    changes: list[Change] = field(default_factory=list)  # with another pack


def _codes(body: bytes, topic: str, topics: Topics) -> tuple[str, ...]:
    if topic == topics.scrubbed:
        lines = ScrubbedClaim.model_validate_json(body).computed_lines
    elif topic == topics.review:
        lines = ReviewRequest.model_validate_json(body).computed_lines
    else:
        return ()
    return tuple(f"{line.code}x{line.units}" for line in lines)


def replay(
    records: Iterable[AuditRecord],
    packs: Sequence[RulePack] = (),
    against: RulePack | None = None,
    selection: Selection = Selection(),
    topics: Topics | None = None,
) -> ReplayReport:
    """Re-decide recorded events.

    Without ``against``: with the pack each event names (the current pack or one of
    ``packs``, matched by version and hash), and prove the decision's bytes are
    identical to what was decided (their SHA-256 is in the event). With ``against``:
    decide with that pack and report what would change.
    """
    known = {(p.ref.version, p.ref.content_sha256): p for p in (current_pack(), *packs)}
    report = ReplayReport()
    topics = topics or Topics()

    def redecide(event: AuditEvent, raw: bytes, pack: RulePack) -> Decision:
        # Events with their input were within the size limit when decided: no limit here.
        ctx = DecisionContext(
            topics=topics, worker_id=event.worker_id, max_claim_bytes=len(raw) + 1, pack=pack
        )
        return decide(raw, None, event.source, ctx, event.decided_at, event_time=event.event_time)

    for record in records:
        event = AuditEvent.model_validate_json(bytes(record.value))
        if not selection.wants(record, event):
            continue
        if event.input_b64 is None:
            report.not_replayable["input kept only in the dead-letter topic (oversized)"] += 1
            continue
        recorded = known.get((event.rule_pack.version, event.rule_pack.content_sha256))
        if recorded is None and against is None:
            report.not_replayable[f"rule pack {event.rule_pack.version} not available"] += 1
            continue
        raw = base64.b64decode(event.input_b64)
        report.replayed += 1
        if against is None:
            assert recorded is not None
            again = redecide(event, raw, recorded)
            if sha256_hex(again.decision.value) == event.output_sha256:
                report.identical += 1
            else:
                report.differing.append(event.event_id)
            continue
        after = redecide(event, raw, against)
        after_event = AuditEvent.model_validate_json(after.audit.value)
        codes_after = _codes(after.decision.value, after.decision.topic, topics)
        codes_before = codes_after
        if recorded is not None:
            before = redecide(event, raw, recorded)
            codes_before = _codes(before.decision.value, before.decision.topic, topics)
        if (after_event.outcome, after_event.rule_ids, codes_after) != (
            event.outcome,
            event.rule_ids,
            codes_before,
        ):
            report.changes.append(
                Change(
                    event_id=event.event_id,
                    claim_id=event.claim_id,
                    recorded_outcome=event.outcome.value,
                    new_outcome=after_event.outcome.value,
                    codes_before=codes_before,
                    codes_after=codes_after,
                    rules_before=event.rule_ids,
                    rules_after=after_event.rule_ids,
                )
            )
        else:
            report.identical += 1
    return report


# -- show --------------------------------------------------------------------------------


def events_for_claim(records: Iterable[AuditRecord], claim_id: str) -> list[AuditEvent]:
    needle = f'"claim_id":"{claim_id}"'.encode()
    return [
        event for record in records
        if needle in (value := bytes(record.value))
        and (event := AuditEvent.model_validate_json(value)).claim_id == claim_id
    ]  # fmt: skip
