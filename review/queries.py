"""What the pages and the CLI read: the worklist (filters, sort, paging, counts) and one claim."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Connection, Row, and_, func, insert, select

from review import tables as t
from review.database import as_utc
from review.draft import Draft, draft_of
from review.events import ReviewAction
from review.readmodel import Status
from schemas.claim import SubmittedClaim
from schemas.decision import ReviewRequest, ScrubbedClaim


class Sort(StrEnum):
    OLDEST = "oldest"  # longest in the queue first
    NEWEST = "newest"
    SERVICE_DATE = "service_date"
    PAYER = "payer"
    CLAIM = "claim"


class Filters(BaseModel):
    """The worklist's query string. Empty strings mean "any"."""

    status: str = Status.OPEN
    reason: str = ""
    rule: str = ""
    payer: str = ""
    setting: str = ""
    assignee: str = ""  # a user name, "unassigned", or "" for anyone
    service_from: date | None = None
    service_to: date | None = None
    min_age_hours: int | None = Field(default=None, ge=0)
    sort: Sort = Sort.OLDEST
    page: int = Field(default=1, ge=1)


@dataclass(frozen=True, slots=True)
class Worklist:
    rows: list[Any]  # Row of the selected columns
    total: int
    page: int
    pages: int
    page_size: int
    reason_counts: Sequence[tuple[str, int]]
    rule_counts: Sequence[tuple[str, int]]
    payers: Sequence[str]
    now: datetime


def _conditions(f: Filters, now: datetime, skip: str = "") -> list[ColumnElement[bool]]:
    c = t.claims.c
    out: list[ColumnElement[bool]] = []
    if f.status:
        out.append(c.status == f.status)
    if f.reason and skip != "reason":
        out.append(c.reason == f.reason)
    if f.rule and skip != "rule":
        r = t.claim_rules.c
        out.append(
            select(r.claim_id).where((r.claim_id == c.claim_id) & (r.rule_id == f.rule)).exists()
        )
    if f.payer:
        out.append(c.payer_id == f.payer)
    if f.setting:
        out.append(c.setting == f.setting)
    if f.assignee == "unassigned":
        out.append(c.assignee.is_(None))
    elif f.assignee:
        out.append(c.assignee == f.assignee)
    if f.service_from:
        out.append(c.service_from >= f.service_from)
    if f.service_to:
        out.append(c.service_from <= f.service_to)
    if f.min_age_hours is not None:
        out.append(c.queued_at <= now - timedelta(hours=f.min_age_hours))
    return out


_ORDER = {
    Sort.OLDEST: (t.claims.c.queued_at, t.claims.c.claim_id),
    Sort.NEWEST: (t.claims.c.queued_at.desc(), t.claims.c.claim_id.desc()),
    Sort.SERVICE_DATE: (t.claims.c.service_from, t.claims.c.claim_id),
    Sort.PAYER: (t.claims.c.payer_id, t.claims.c.queued_at, t.claims.c.claim_id),
    Sort.CLAIM: (t.claims.c.claim_id,),
}


def worklist(conn: Connection, f: Filters, page_size: int, now: datetime | None = None) -> Worklist:
    now = now or datetime.now(UTC)
    c = t.claims.c
    where = and_(*_conditions(f, now))
    total = conn.execute(select(func.count()).select_from(t.claims).where(where)).scalar_one()
    pages = max(1, -(-total // page_size))
    page = min(f.page, pages)
    rows = conn.execute(
        select(
            c.claim_id, c.latest_version, c.status, c.reason, c.rule_ids, c.payer_id, c.setting,
            c.service_from, c.queued_at, c.assignee, c.patient_ref,
        )
        .where(where)
        .order_by(*_ORDER[f.sort])
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()  # fmt: skip
    by_reason = conn.execute(
        select(c.reason, func.count())
        .where(and_(*_conditions(f, now, skip="reason")))
        .group_by(c.reason)
        .order_by(func.count().desc())
    ).all()
    r = t.claim_rules.c
    by_rule = conn.execute(
        select(r.rule_id, func.count())
        .select_from(t.claim_rules.join(t.claims, r.claim_id == c.claim_id))
        .where(and_(*_conditions(f, now, skip="rule")))
        .group_by(r.rule_id)
        .order_by(func.count().desc(), r.rule_id)
        .limit(20)
    ).all()
    payers = conn.execute(
        select(c.payer_id).where(c.payer_id.is_not(None)).distinct().order_by(c.payer_id)
    ).scalars()
    return Worklist(
        list(rows), total, page, pages, page_size,
        [(str(a or "-"), int(b)) for a, b in by_reason],
        [(str(a), int(b)) for a, b in by_rule],
        [str(p) for p in payers], now,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Version:
    version: int
    outcome: str
    decided_at: datetime
    source: str  # topic:partition:offset
    doc: ReviewRequest | ScrubbedClaim


@dataclass(frozen=True, slots=True)
class LoggedAction:
    partition: int
    offset: int
    sha256: str
    action: ReviewAction


@dataclass(frozen=True, slots=True)
class ClaimView:
    claim_id: str
    summary: Row[Any]
    versions: Sequence[Version]
    actions: Sequence[LoggedAction]
    audit: Sequence[Row[Any]]
    access: Sequence[Row[Any]] = field(default_factory=tuple)

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def claim(self) -> SubmittedClaim | None:
        return self.latest.doc.claim

    @property
    def in_review(self) -> ReviewRequest | None:
        doc = self.latest.doc
        return doc if isinstance(doc, ReviewRequest) else None

    @property
    def draft(self) -> Draft | None:
        claim = self.claim
        if claim is None or self.in_review is None:
            return None
        return draft_of(claim, (a.action for a in self.actions))


def claim_view(conn: Connection, claim_id: str, with_access: bool = False) -> ClaimView | None:
    summary = conn.execute(select(t.claims).where(t.claims.c.claim_id == claim_id)).first()
    if summary is None:
        return None
    d = t.decisions.c
    versions = [
        Version(
            row.claim_version, row.outcome, as_utc(row.decided_at),
            f"{row.topic}:{row.partition}:{row.offset}",
            ReviewRequest.model_validate_json(row.body) if row.outcome == "needs_review"
            else ScrubbedClaim.model_validate_json(row.body),
        )
        for row in conn.execute(
            select(t.decisions)
            .where(d.claim_id == claim_id)
            .order_by(d.claim_version, d.decided_at, d.topic, d.partition, d.offset)
        )
    ]  # fmt: skip
    a = t.actions.c
    actions = [
        LoggedAction(
            row.partition, row.offset, row.sha256, ReviewAction.model_validate_json(row.body)
        )
        for row in conn.execute(
            select(t.actions).where(a.claim_id == claim_id).order_by(a.partition, a.offset)
        )
    ]
    e = t.audit_events.c
    audit = conn.execute(
        select(t.audit_events)
        .where(e.claim_id == claim_id)
        .order_by(e.decided_at, e.partition, e.offset)
    ).all()
    access: Sequence[Row[Any]] = ()
    if with_access:
        al = t.access_log.c
        access = conn.execute(
            select(t.access_log).where(al.claim_id == claim_id).order_by(al.at.desc()).limit(50)
        ).all()
    return ClaimView(claim_id, summary, versions, actions, audit, access)


def record_access(conn: Connection, actor: str, claim_id: str, via: str) -> None:
    conn.execute(
        insert(t.access_log).values(at=datetime.now(UTC), actor=actor, claim_id=claim_id, via=via)
    )


def recent_actions(conn: Connection, limit: int = 200) -> list[LoggedAction]:
    a = t.actions.c
    return [
        LoggedAction(
            row.partition, row.offset, row.sha256, ReviewAction.model_validate_json(row.body)
        )
        for row in conn.execute(select(t.actions).order_by(a.at.desc(), a.id.desc()).limit(limit))
    ]


def recent_access(conn: Connection, limit: int = 200) -> Sequence[Row[Any]]:
    return conn.execute(select(t.access_log).order_by(t.access_log.c.at.desc()).limit(limit)).all()
