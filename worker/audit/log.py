"""The audit log as records: read from the audit topic or from exported files, exported,
searched by claim.

An exported line is the record's value byte for byte, so the chain survives export:
one file per partition, ``audit-p<N>.jsonl``, and the checkpoints in ``checkpoints.jsonl``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from schemas.audit import AuditArchival, AuditCheckpoint, AuditEvent
from worker import committed_reader
from worker.audit.chain import AuditRecord
from worker.kafka_client import KafkaConnection
from worker.private_files import open_private, write_private
from worker.topic_admin import partitions_of

_PARTITION_FILE = re.compile(r"audit-p(\d+)\.jsonl$")


# -- sources ----------------------------------------------------------------------------


def records_from_files(paths: Sequence[Path]) -> Iterator[AuditRecord]:
    """Records from exported files (a directory means its audit-p*.jsonl files).

    Export ends every line with a newline, so a last line without one was cut while it
    was being written: it is read as damaged, with its file and line, as is a line whose
    partition cannot be read (files not named ``audit-p<N>.jsonl``).
    """
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("audit-p*.jsonl")) if path.is_dir() else [path]
    for file in files:
        named = _PARTITION_FILE.search(file.name)
        data = file.read_bytes()
        view = memoryview(data)
        start, number, partition = 0, 0, int(named.group(1)) if named else 0
        while start < len(data):
            end = data.find(b"\n", start)
            cut = end < 0
            end = len(data) if cut else end
            if end > start:
                value = view[start:end]
                damage = None
                if cut:
                    damage = "incomplete last line (no line end): the file was cut while written"
                if not named:
                    try:
                        partition = json.loads(bytes(value))["source"]["partition"]
                    except (ValueError, KeyError, TypeError):
                        damage = damage or "not an audit event (no source partition)"
                where = f"{file}:{number + 1}"
                yield AuditRecord(partition, number, value, damage, where)
            start, number = end + 1, number + 1


def parse_checkpoint(value: bytes) -> AuditCheckpoint | AuditArchival:
    """A record of the checkpoint topic: a checkpoint, or an archival of a chain's head."""
    if b'"kind":"archival"' in value:
        return AuditArchival.model_validate_json(value)
    return AuditCheckpoint.model_validate_json(value)


async def records_from_topic(conn: KafkaConnection, topic: str) -> AsyncIterator[AuditRecord]:
    consumer = committed_reader.reader(conn)
    await committed_reader.start_reader(consumer)
    try:
        for tp in await partitions_of(conn, topic):
            async for record in committed_reader.read_partition(consumer, tp):
                if record.value is not None:
                    yield AuditRecord(tp.partition, record.offset, record.value)
    finally:
        await consumer.stop()


async def checkpoints_from_topic(
    conn: KafkaConnection, topic: str
) -> list[AuditCheckpoint | AuditArchival]:
    return [parse_checkpoint(bytes(r.value)) async for r in records_from_topic(conn, topic)]


# -- export ------------------------------------------------------------------------------


def export(
    records: Iterable[AuditRecord],
    checkpoints: Iterable[AuditCheckpoint | AuditArchival],
    out_dir: Path,
) -> dict[int, int]:
    """Write the log as JSON Lines, one file per partition; events per partition."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    counts: Counter[int] = Counter()
    with contextlib.ExitStack() as stack:
        files: dict[int, BinaryIO] = {}
        for record in records:
            if record.partition not in files:
                path = out_dir / f"audit-p{record.partition}.jsonl"
                files[record.partition] = stack.enter_context(open_private(path))
            files[record.partition].write(bytes(record.value) + b"\n")
            counts[record.partition] += 1
    write_private(
        out_dir / "checkpoints.jsonl",
        "".join(cp.model_dump_json() + "\n" for cp in checkpoints).encode(),
    )
    return dict(counts)


# -- show --------------------------------------------------------------------------------


def events_for_claim(records: Iterable[AuditRecord], claim_id: str) -> list[AuditEvent]:
    needle = f'"claim_id":"{claim_id}"'.encode()
    return [
        event for record in records
        if needle in (value := bytes(record.value))
        and (event := AuditEvent.model_validate_json(value)).claim_id == claim_id
    ]  # fmt: skip
