"""Archiving the head of the audit log, on record: export, record, then delete.

The audit topic keeps every event for ever by default. When an operator must move old
events elsewhere (storage, a records-retention schedule), ``oncoscrub audit archive``
does it so that the log stays verifiable, in this order:

1. read the partition's committed events and verify the whole chain (a broken chain is
   never archived: the break would leave with the archive);
2. write the events before the cut to ``<dir>/audit-p<N>.jsonl`` (fsynced), with the
   checkpoints that pin them, so that the archive verifies on its own;
3. write an ``AuditArchival`` record to the checkpoint topic: the first kept seq and
   offset, the hash of the last archived event, the archive file's digest, who, why;
4. delete the audit records before the first kept offset (Kafka's DeleteRecords).

A crash between 3 and 4 leaves the record and the whole log: the record then pins the
last archived event like any checkpoint. After 4, ``audit verify`` starts the chain at
the first kept seq, linked to the recorded hash. The newest event of a partition is
always kept, so a chain never disappears whole.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from schemas.audit import AuditArchival, AuditCheckpoint, AuditEvent
from worker.audit.chain import AuditRecord, link_of, sha256_hex, verify
from worker.audit.log import checkpoints_from_topic, records_from_topic
from worker.kafka_client import KafkaConnection
from worker.private_files import open_private
from worker.topology import Topics


class ArchiveRefusedError(RuntimeError):
    """The audit log cannot be archived as asked (its chain is broken, say)."""


@dataclass(frozen=True, slots=True)
class Cut:
    """Which events go: those with seq below ``before_seq``, or decided before ``before``."""

    before_seq: int | None = None
    before: datetime | None = None

    def archives(self, record: AuditRecord) -> bool:
        if self.before_seq is not None:
            link = link_of(record.value)
            return link is not None and link[0] < self.before_seq
        if self.before is not None:
            return AuditEvent.model_validate_json(bytes(record.value)).decided_at < self.before
        return False


@dataclass(frozen=True, slots=True)
class Archived:
    partition: int
    file: Path
    record: AuditArchival


def _write_synced(path: Path, lines: Iterable[bytes]) -> bytes:
    data = b"".join(line + b"\n" for line in lines)
    with open_private(path) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return data


def plan(records: list[AuditRecord], cut: Cut) -> dict[int, tuple[list[AuditRecord], AuditRecord]]:
    """Per partition: the events to archive and the first event kept (never none)."""
    by_partition: dict[int, list[AuditRecord]] = defaultdict(list)
    for r in records:
        by_partition[r.partition].append(r)
    out: dict[int, tuple[list[AuditRecord], AuditRecord]] = {}
    for p, rs in sorted(by_partition.items()):
        k = 0
        while k < len(rs) - 1 and cut.archives(rs[k]):  # the newest event always stays
            k += 1
        if k:
            out[p] = (rs[:k], rs[k])
    return out


async def archive(
    conn: KafkaConnection,
    topics: Topics,
    out_dir: Path,
    cut: Cut,
    archived_by: str,
    reason: str,
    partitions: set[int] | None = None,
    at: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Archived]:
    # Checkpoints first: one committed after the events were read would pin events this
    # read never saw, and the chain would look truncated.
    pins = await checkpoints_from_topic(conn, topics.audit_checkpoints)
    records = [
        r
        async for r in records_from_topic(conn, topics.audit)
        if partitions is None or r.partition in partitions
    ]
    report = verify(records, [c for c in pins if partitions is None or c.partition in partitions])
    if not report.ok:
        raise ArchiveRefusedError(
            f"the audit chain is broken ({report.breaks[0].problem}): verify it, archive nothing"
        )
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True, mode=0o700)
    _write_synced(out_dir / "checkpoints.jsonl", ())
    done: list[Archived] = []
    producer = AIOKafkaProducer(**conn.options(), acks="all", enable_idempotence=True)
    admin = AIOKafkaAdminClient(**conn.options())
    await producer.start()
    await admin.start()
    try:
        for p, (archived, kept) in plan(records, cut).items():
            last = archived[-1]
            link = link_of(last.value)
            assert link is not None  # verified above
            file = out_dir / f"audit-p{p}.jsonl"
            data = _write_synced(file, (bytes(r.value) for r in archived))
            record = AuditArchival(
                partition=p,
                first_kept_seq=link[0] + 1,
                first_kept_offset=kept.offset,
                last_archived_sha256=sha256_hex(last.value),
                archived_events=len(archived),
                archive_sha256=sha256_hex(data),
                archive_name=f"{out_dir.name}/{file.name}"[-200:],
                archived_by=archived_by,
                reason=reason,
                at=at(),
            )
            # The archive's own checkpoints: those pinning what it holds, and this record.
            own = [c for c in pins if c.partition == p and _pinned_seq(c) <= link[0]]
            _append(out_dir / "checkpoints.jsonl", [*own, record])
            # Recorded before anything is deleted, and acknowledged by every replica.
            await (
                await producer.send(
                    topics.audit_checkpoints,
                    record.model_dump_json().encode(),
                    key=str(p).encode(),
                    partition=p,
                )
            )
            await admin.delete_records(
                {TopicPartition(topics.audit, p): RecordsToDelete(kept.offset)}
            )
            done.append(Archived(p, file, record))
    finally:
        await producer.stop()
        await admin.close()
    return done


def _pinned_seq(c: AuditCheckpoint | AuditArchival) -> int:
    return c.first_kept_seq - 1 if isinstance(c, AuditArchival) else c.events - 1


def _append(path: Path, items: Iterable[AuditCheckpoint | AuditArchival]) -> None:
    with open_private(path, append=True) as f:
        for c in items:
            f.write(c.model_dump_json().encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())
