"""Billable administration events: what normalising a MAR produces and every later step
reads (the billed technique, running intervals without holds, which MAR entries). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final

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


class Event:
    """One billable administration event. Compared by identity: one event is one
    administration, and field-by-field equality made every membership test on the hot path
    compare whole events.

    A plain class rather than a frozen dataclass: compiled (``make wheel-compiled``) it is a
    native class whose ``Final`` attributes refuse assignment at run time, and it is built
    by a compiled ``__init__``; a frozen dataclass's generated ``__init__`` sets every field
    through ``object.__setattr__`` in interpreted Python, ~10,000 instructions an event
    (docs/performance.md). mypy holds the pure build to the same ``Final``.
    """

    __slots__ = (
        "admin_ids", "dos", "drug_key", "drugs", "encounter_id", "family", "hormonal", "intervals",
        "kind", "lesion_count", "minutes", "primary_reason", "pump_kind", "pump_supplied_by",
        "route", "rules", "separate_site_reason", "site", "start", "stop",
    )  # fmt: skip

    def __init__(
        self,
        admin_ids: tuple[str, ...],
        encounter_id: str,
        site: str,
        separate_site_reason: bool,
        drugs: tuple[DrugInfo, ...],
        family: Family,
        hormonal: bool,
        route: Route,
        kind: Kind,
        start: datetime,
        stop: datetime | None,
        minutes: int | None,
        intervals: tuple[Interval, ...],
        primary_reason: bool,
        drug_key: frozenset[str],
        dos: date,
        pump_kind: str | None = None,
        pump_supplied_by: str | None = None,
        lesion_count: int | None = None,
        rules: tuple[Rule, ...] = (),
    ) -> None:
        self.admin_ids: Final = admin_ids
        self.encounter_id: Final = encounter_id
        self.site: Final = site
        self.separate_site_reason: Final = separate_site_reason
        self.drugs: Final = drugs
        self.family: Final = family
        self.hormonal: Final = hormonal
        self.route: Final = route
        self.kind: Final = kind
        self.start: Final = start
        self.stop: Final = stop
        self.minutes: Final = minutes
        self.intervals: Final = intervals
        self.primary_reason: Final = primary_reason
        # Derived once, asked on every comparison the coding steps make:
        self.drug_key: Final = drug_key  # "the same drug": the set of drugs (HCPCS, else name)
        self.dos: Final = dos  # line-item date of service: the day it started, in its offset
        self.pump_kind: Final = pump_kind
        self.pump_supplied_by: Final = pump_supplied_by
        self.lesion_count: Final = lesion_count
        # Normalisation rules that shaped the event (same-bag merge, electrolytes in
        # hydration): every line coded from it cites them too.
        self.rules: Final = rules

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.start, self.admin_ids[0])

    def __repr__(self) -> str:
        return f"Event(admin_ids={self.admin_ids!r}, kind={self.kind.value}, dos={self.dos})"


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
