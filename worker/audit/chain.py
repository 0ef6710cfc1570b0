"""The audit hash chain: linking events and verifying a log. Pure.

Each audit partition is one chain. Event ``seq`` n carries ``prev_hash`` =
SHA-256 of the exact bytes of event n-1 (the genesis hash for n = 0). A
verifier needs only the bytes: it recomputes each hash and follows the links,
reading ``seq`` and ``prev_hash`` from the event's fixed prefix.

A chain whose head was archived (``oncoscrub audit archive``) starts later: at the
``first_kept_seq`` of an ``AuditArchival`` record, linked to the hash that record
keeps. A chain that starts anywhere but at 0 or at a recorded archival is broken.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.audit import GENESIS_HASH, AuditArchival, AuditCheckpoint

# Events are serialised by pydantic in field order, so the link fields open every event.
_LINK = re.compile(rb'^\{"schema_version":"1","seq":(\d+),"prev_hash":"([0-9a-f]{64})"')


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a partition's chain stands: the next seq and the hash it must link to."""

    seq: int = 0
    prev_hash: str = GENESIS_HASH

    def after(self, event_bytes: bytes) -> ChainHead:
        return ChainHead(self.seq + 1, sha256_hex(event_bytes))


GENESIS = ChainHead()


def sha256_hex(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def link_of(event_bytes: bytes | memoryview) -> tuple[int, str] | None:
    """(seq, prev_hash) of an event, or None if its prefix is not an audit event's."""
    m = _LINK.match(event_bytes)
    return None if m is None else (int(m.group(1)), m.group(2).decode())


def head_after(last_event: bytes | None) -> ChainHead:
    """The head that follows the last committed event of a partition (None: empty)."""
    if last_event is None:
        return GENESIS
    link = link_of(last_event)
    if link is None:
        raise ValueError("the last audit event of the partition has no chain link")
    return ChainHead(link[0] + 1, sha256_hex(last_event))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    partition: int
    offset: int  # Kafka offset, or line number in an exported file
    value: bytes | memoryview  # a file's lines are zero-copy views of the file
    damage: str | None = None  # what is wrong with the record as read (a cut line, say)
    where: str | None = None  # file:line of an exported record


@dataclass(frozen=True, slots=True)
class Break:
    partition: int
    offset: int
    seq: int | None
    problem: str
    where: str | None = None


@dataclass
class VerifyReport:
    events: int = 0
    heads: dict[int, ChainHead] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)
    checkpoints_checked: int = 0
    archived: dict[int, int] = field(default_factory=dict)  # partition -> first kept seq
    # Intact chains whose last events no checkpoint pins: partition -> (first, last) seq.
    # Their tail could be changed or dropped without a trace.
    unpinned: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(
    records: Iterable[AuditRecord], checkpoints: Iterable[AuditCheckpoint | AuditArchival] = ()
) -> VerifyReport:
    """Check every chain; report the first break of each partition.

    Records of one partition must come in log order (offsets ascending). With
    checkpoints, an event whose hash differs from the one pinned for its seq, and a
    log that ends before a pinned seq (a truncated tail), are breaks too. An archival
    record pins the last archived event like a checkpoint, and lets the partition's
    chain start after it. An intact chain whose last event no checkpoint pins is listed
    in ``unpinned``: not a break, but nothing proves its tail.
    """
    pinned: dict[int, dict[int, str]] = {}
    starts: dict[int, dict[int, str]] = {}  # partition -> first kept seq -> hash it links to
    for cp in checkpoints:
        if isinstance(cp, AuditArchival):
            pinned.setdefault(cp.partition, {})[cp.first_kept_seq - 1] = cp.last_archived_sha256
            starts.setdefault(cp.partition, {})[cp.first_kept_seq] = cp.last_archived_sha256
        else:
            pinned.setdefault(cp.partition, {})[cp.events - 1] = cp.head_sha256
    report = VerifyReport()
    broken: set[int] = set()
    last_offset: dict[int, int] = {}
    for record in records:
        p = record.partition
        report.events += 1
        if p in broken:
            continue
        if p not in report.heads:
            report.heads[p] = _start(p, record.value, starts.get(p, {}), report)
        head = report.heads[p]
        last_offset[p] = record.offset
        problem, seq = _check(head, record.value)
        if record.damage is not None:
            problem = record.damage
        if problem is None and seq is not None:
            digest = sha256_hex(record.value)
            expected = pinned.get(p, {}).get(seq)
            if expected is not None:
                report.checkpoints_checked += 1
                if expected != digest:
                    problem = f"event seq {seq} differs from the checkpoint pinned for it"
            report.heads[p] = ChainHead(seq + 1, digest)
        if problem is not None:
            report.breaks.append(Break(p, record.offset, seq, problem, record.where))
            broken.add(p)
    for p, seqs in sorted(pinned.items()):
        if p in broken:
            continue
        end = report.heads.get(p, GENESIS).seq
        beyond = [s for s in seqs if s >= end]
        if beyond:
            report.breaks.append(
                Break(
                    p,
                    last_offset.get(p, -1),
                    end,
                    f"log ends at {end} event(s) but a checkpoint pins seq {max(beyond)}: "
                    "truncated or rolled back",
                )
            )
    for p, head in sorted(report.heads.items()):
        top = max(pinned.get(p, {}), default=-1)
        if p not in broken and top < head.seq - 1:
            report.unpinned[p] = (max(top + 1, report.archived.get(p, 0)), head.seq - 1)
    return report


def _start(
    partition: int, first: bytes | memoryview, starts: dict[int, str], report: VerifyReport
) -> ChainHead:
    """Where a partition's chain must start: at 0, or where an archival left it."""
    link = link_of(first)
    if link is None or link[0] == 0 or link[0] not in starts:
        return GENESIS  # a later first event without an archival breaks at it
    report.archived[partition] = link[0]
    return ChainHead(link[0], starts[link[0]])


def _check(head: ChainHead, value: bytes | memoryview) -> tuple[str | None, int | None]:
    link = link_of(value)
    if link is None:
        return "not an audit event (no chain link at the start)", None
    seq, prev = link
    if seq != head.seq:
        if head == GENESIS:
            return (
                f"the chain starts at seq {seq}, not 0, and no archival is recorded for it: "
                "its head was deleted"
            ), seq
        return (
            f"seq {seq} where {head.seq} was expected: an event was dropped, inserted or reordered"
        ), seq
    if prev != head.prev_hash:
        return (
            "prev_hash does not match the hash of the previous event: the previous "
            "event was altered or replaced"
        ), seq
    return None, seq
