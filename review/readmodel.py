"""Applying topic records to the read model, exactly once: rows and offsets in one transaction.

``apply(conn, names, records)`` runs inside the caller's transaction. Per topic
partition it reads the stored next offset (locking its row), skips what is below
it (another feed, or an earlier run, applied those), stores each record's facts,
moves the offset, and re-derives the summary of every claim the records touched.
A summary is a function of the claim's stored facts only (``summarise``), so the
read model is the same whatever order the topics were read in.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select, update

from review import tables as t
from review.database import as_utc
from review.events import ActionKind, ReviewAction
from schemas.audit import AuditEvent, Outcome
from schemas.decision import ReviewRequest, ScrubbedClaim
from worker.logs import get_logger

log = get_logger("review.readmodel")


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The topics the read model is fed from."""

    review: str
    scrubbed: str
    audit: str
    actions: str

    @property
    def all(self) -> tuple[str, str, str, str]:
        return (self.review, self.scrubbed, self.audit, self.actions)


@dataclass(frozen=True, slots=True)
class FeedRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None


class Status:
    OPEN = "open"
    RESUBMITTED = "resubmitted"
    CLOSED = "closed"
    SCRUBBED = "scrubbed"
    IN_QUEUE = (OPEN,)
    ALL = (OPEN, RESUBMITTED, CLOSED, SCRUBBED)


@dataclass
class Applied:
    records: int = 0  # stored or deliberately passed over
    skipped: int = 0  # below the stored offset: applied before
    unreadable: int = 0  # not the topic's schema: passed over, offsets still move


def unidentified_id(partition: int, offset: int) -> str:
    """The read model's id for a review request without a claim id (unreadable claim)."""
    return f"UNIDENTIFIED-{partition}-{offset}"


def _when(record: FeedRecord) -> datetime:
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)


def _decision_row(
    record: FeedRecord, outcome: Outcome, doc: ReviewRequest | ScrubbedClaim
) -> dict[str, object]:
    claim = doc.claim
    if isinstance(doc, ReviewRequest):
        claim_id = doc.claim_id or unidentified_id(record.partition, record.offset)
        version = doc.claim_version or 1
        reason: str | None = doc.reasons[0].code.value
        rules = sorted({r.rule_id for r in doc.reasons if r.rule_id})
    else:
        claim_id, version, reason, rules = doc.claim_id, doc.claim_version, None, []
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "claim_id": claim_id,
        "claim_version": version,
        "outcome": outcome.value,
        "decided_at": _when(record),
        "reason": reason,
        "rule_ids": " ".join(rules),
        "payer_id": claim.payer.payer_id if claim else None,
        "setting": claim.setting.value if claim else None,
        "service_from": claim.statement_from if claim else None,
        "service_to": claim.statement_to if claim else None,
        "patient_ref": claim.patient_ref if claim else None,
        "body": (record.value or b"").decode(),
    }


# The audit topic holds every decision; the read model keeps those of claims in review
# and of later versions. A look at the bytes passes over the rest without parsing 5 KiB.
_AUDIT_KEEP = re.compile(rb'"claim_version":(\d+)|"outcome":"needs_review"')


def _keep_audit(value: bytes) -> bool:
    return any(m.group(1) is None or int(m.group(1)) > 1 for m in _AUDIT_KEEP.finditer(value))


def _store(conn: Connection, names: TopicNames, record: FeedRecord) -> str | None:
    """Store one record's facts; the claim id it concerns, if any."""
    value = record.value
    if value is None:
        return None
    if record.topic == names.review:
        review = ReviewRequest.model_validate_json(value)
        row = _decision_row(record, Outcome.NEEDS_REVIEW, review)
    elif record.topic == names.scrubbed:
        # A first version that passed never was in review; a later one is the outcome
        # of a resubmission (or of the platform's own), and belongs to the claim's history.
        if not _keep_audit(value):
            return None
        scrubbed = ScrubbedClaim.model_validate_json(value)
        if scrubbed.claim_version <= 1:
            return None
        row = _decision_row(record, Outcome.SCRUBBED, scrubbed)
    elif record.topic == names.audit:
        if not _keep_audit(value):
            return None
        event = AuditEvent.model_validate_json(value)
        if event.claim_id is None or event.outcome is Outcome.DEAD_LETTER:
            return None
        if event.outcome is Outcome.SCRUBBED and (event.claim_version or 1) <= 1:
            return None
        pack = event.rule_pack
        conn.execute(
            insert(t.audit_events).values(
                partition=record.partition, offset=record.offset, seq=event.seq,
                event_id=event.event_id, claim_id=event.claim_id,
                claim_version=event.claim_version, outcome=event.outcome.value,
                output_topic=event.output_topic, output_sha256=event.output_sha256,
                rule_pack=f"{pack.name} {pack.version} {pack.content_sha256[:12]}",
                engine_version=event.engine_version, worker_id=event.worker_id,
                decided_at=event.decided_at,
            )
        )  # fmt: skip
        return event.claim_id
    elif record.topic == names.actions:
        action = ReviewAction.model_validate_json(value)
        conn.execute(
            insert(t.actions).values(
                partition=record.partition, offset=record.offset, seq=action.seq,
                claim_id=action.claim_id, claim_version=action.claim_version,
                kind=action.kind.value, actor=action.actor, at=action.at,
                sha256=hashlib.sha256(value).hexdigest(), body=value.decode(),
            )
        )  # fmt: skip
        return action.claim_id
    else:
        return None
    conn.execute(insert(t.decisions).values(**row))
    return str(row["claim_id"])


def apply(conn: Connection, names: TopicNames, records: Sequence[FeedRecord]) -> Applied:
    """Store the records not yet applied and move the offsets; in the caller's transaction."""
    result = Applied()
    by_tp: dict[tuple[str, int], list[FeedRecord]] = defaultdict(list)
    for record in records:
        by_tp[(record.topic, record.partition)].append(record)
    touched: set[str] = set()
    for (topic, partition), recs in sorted(by_tp.items()):
        where = (t.feed_offsets.c.topic == topic) & (t.feed_offsets.c.partition == partition)
        stored = conn.execute(
            select(t.feed_offsets.c.next_offset).where(where).with_for_update()
        ).scalar_one_or_none()
        next_offset = stored if stored is not None else 0
        for record in sorted(recs, key=lambda r: r.offset):
            if record.offset < next_offset:
                result.skipped += 1
                continue
            try:
                claim_id = _store(conn, names, record)  # parses before it writes
            except ValidationError:
                # Not this topic's schema (a newer producer?): located, never its content.
                log.warning(
                    "record_unreadable", topic=topic, partition=partition, offset=record.offset
                )
                result.unreadable += 1
                claim_id = None
            if claim_id is not None:
                touched.add(claim_id)
            result.records += 1
            next_offset = record.offset + 1
        if stored is None:
            conn.execute(
                insert(t.feed_offsets).values(
                    topic=topic, partition=partition, next_offset=next_offset
                )
            )
        elif next_offset != stored:
            conn.execute(update(t.feed_offsets).where(where).values(next_offset=next_offset))
    for claim_id in sorted(touched):
        summarise(conn, claim_id)
    return result


def summarise(conn: Connection, claim_id: str) -> None:
    """Derive the claim's worklist row and its rules from its stored facts."""
    d = t.decisions.c
    versions = conn.execute(
        select(
            d.claim_version, d.outcome, d.decided_at, d.reason, d.rule_ids, d.payer_id,
            d.setting, d.service_from, d.service_to, d.patient_ref,
        )
        .where(d.claim_id == claim_id)
        .order_by(d.claim_version, d.decided_at, d.topic, d.partition, d.offset)
    ).all()  # fmt: skip
    conn.execute(delete(t.claim_rules).where(t.claim_rules.c.claim_id == claim_id))
    conn.execute(delete(t.claims).where(t.claims.c.claim_id == claim_id))
    if not versions:
        return  # actions arrived before their decision: the decision will summarise
    latest = versions[-1]
    a = t.actions.c
    acts = conn.execute(
        select(a.kind, a.actor, a.at, a.body)
        .where((a.claim_id == claim_id) & (a.claim_version == latest.claim_version))
        .order_by(a.partition, a.offset)
    ).all()
    status, assignee, close_reason = Status.OPEN, None, None
    for act in acts:
        kind = ActionKind(act.kind)
        if kind is ActionKind.CLAIMED:
            assignee = act.actor
        elif kind is ActionKind.RELEASED:
            assignee = None
        elif kind is ActionKind.RESUBMITTED:
            status = Status.RESUBMITTED
        elif kind is ActionKind.CLOSED:
            status = Status.CLOSED
            close_reason = ReviewAction.model_validate_json(act.body).close_reason
    if latest.outcome == Outcome.SCRUBBED.value:
        status = Status.SCRUBBED
    conn.execute(
        insert(t.claims).values(
            claim_id=claim_id, latest_version=latest.claim_version, status=status,
            reason=latest.reason, rule_ids=latest.rule_ids, payer_id=latest.payer_id,
            setting=latest.setting, service_from=latest.service_from,
            service_to=latest.service_to, patient_ref=latest.patient_ref,
            queued_at=latest.decided_at, assignee=assignee,
            close_reason=close_reason.value if close_reason else None,
            last_action_at=max((as_utc(x.at) for x in acts), default=None),
        )
    )  # fmt: skip
    rules = [r for r in latest.rule_ids.split(" ") if r]
    if rules:
        conn.execute(insert(t.claim_rules), [{"claim_id": claim_id, "rule_id": r} for r in rules])


def reset(conn: Connection) -> None:
    """Forget everything the topics gave (for a rebuild); the access log stays."""
    for table in reversed(t.FROM_TOPICS):
        conn.execute(delete(table))


def rows(conn: Connection, tables: Iterable[str] = ()) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the topic-fed tables, sorted, without surrogate ids: for comparisons."""
    out: dict[str, list[tuple[object, ...]]] = {}
    wanted = set(tables)
    for table in t.FROM_TOPICS:
        if wanted and table.name not in wanted:
            continue
        cols = [c for c in table.c if c.name != "id"]
        out[table.name] = sorted((tuple(r) for r in conn.execute(select(*cols)).all()), key=repr)
    return out
