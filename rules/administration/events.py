"""Billable administration events: what normalising a MAR produces and every later step
reads (the billed technique, running intervals without holds, which MAR entries). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from rules.drug_catalogue import DrugInfo, Family
from rules.rule import Rule
from schemas.claim import Route
from schemas.decision import Finding

PUSH_MAX_MINUTES = 15

Interval = tuple[datetime, datetime]


class Kind(StrEnum):
    """The billed technique."""

    PUSH = "PUSH"
    INFUSION = "INFUSION"
    INJECTION = "INJECTION"  # SQ/IM
    SQ_INFUSION = "SQ_INFUSION"
    PUMP_INITIATION = "PUMP_INITIATION"
    PUMP_REFILL = "PUMP_REFILL"
    OTHER_ROUTE = "OTHER_ROUTE"  # intralesional, intrathecal, cavity, intravesical
    FLUSH = "FLUSH"  # port irrigation candidate (96523)
    ON_BODY_INJECTOR = "ON_BODY_INJECTOR"  # application for a timed SQ injection (96377)


# Compared by identity: one event is one administration, and field-by-field equality
# made every membership test on the hot path compare whole events.
@dataclass(frozen=True, slots=True, eq=False)
class Event:
    admin_ids: tuple[str, ...]
    encounter_id: str
    site: str
    separate_site_reason: bool
    drugs: tuple[DrugInfo, ...]
    family: Family
    hormonal: bool
    route: Route
    kind: Kind
    start: datetime
    stop: datetime | None
    minutes: int | None
    intervals: tuple[Interval, ...]
    primary_reason: bool
    # Derived once, asked on every comparison the coding steps make:
    drug_key: frozenset[str]  # "the same drug": the same set of drugs (HCPCS, else name)
    dos: date  # line-item date of service: the day the service started, in its own offset
    pump_kind: str | None = None
    pump_supplied_by: str | None = None
    lesion_count: int | None = None
    # Normalisation rules that shaped the event (same-bag merge, electrolytes in hydration):
    # every line coded from it cites them too.
    rules: tuple[Rule, ...] = ()

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.start, self.admin_ids[0])


@dataclass(frozen=True, slots=True)
class Excluded:
    """A MAR entry the engine could not code while the claim goes to review: the codes of
    its date are computed without it, and must say so."""

    admin_id: str
    dos: date
    rule: Rule
    why: str  # a few words: "unknown drug", "no stop time"


@dataclass
class Normalised:
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    drugs: dict[str, DrugInfo] = field(default_factory=dict)  # by admin id, as classified
    excluded: list[Excluded] = field(default_factory=list)


def minutes_of(intervals: tuple[Interval, ...]) -> int:
    return int(sum((b - a).total_seconds() for a, b in intervals) // 60)
