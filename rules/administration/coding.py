"""What the coding steps share: payer options, the lines and findings being built, the
initial-service hierarchy and interval arithmetic. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from rules.administration.events import Event, Interval, Kind
from rules.drug_catalogue import Family
from rules.outputs import computed_line
from rules.rule import Rule
from schemas.decision import ComputedLine, Finding

REPEAT_PUSH_MIN_GAP = timedelta(minutes=30)

INITIAL_CODE = {
    (Family.CHEMO, Kind.INFUSION): "96413",
    (Family.CHEMO, Kind.PUSH): "96409",
    (Family.THER, Kind.INFUSION): "96365",
    (Family.THER, Kind.PUSH): "96374",
    (Family.HYD, Kind.INFUSION): "96360",
}
# The facility hierarchy (2.5): family first, then infusion before push.
RANK = {key: n for n, key in enumerate(INITIAL_CODE, start=1)}
RANK_OF_CODE = {code: RANK[key] for key, code in INITIAL_CODE.items()}
ADDL_HOUR = {"96413": "96415", "96365": "96366", "96360": "96361"}


@dataclass(frozen=True, slots=True)
class CodingOptions:
    """Payer-configurable choices (spec 2.7, 2.8, 8 Q1, Q8, Q21)."""

    medicare: bool = False
    combine_hydration_intervals: bool = False
    g0498_for_provider_pumps: bool = False
    separate_site_modifier: str = "XS"
    separate_encounter_modifier: str = "XE"
    overlap_tolerance_minutes: int = 1


def addl_hours(minutes: int) -> int:
    """Units of an each-additional-hour code after a code covering the first hour (2.6)."""
    return max(0, (minutes - 31) // 60)


def overlap_minutes(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> float:
    total = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0.0, (min(e1, e2) - max(s1, s2)).total_seconds())
    return total / 60


def subtract(pieces: tuple[Interval, ...], cuts: list[Interval]) -> list[Interval]:
    out = list(pieces)
    for cs, ce in cuts:
        nxt: list[Interval] = []
        for s, e in out:
            if ce <= s or cs >= e:
                nxt.append((s, e))
                continue
            if s < cs:
                nxt.append((s, cs))
            if ce < e:
                nxt.append((ce, e))
        out = nxt
    return sorted(out)


@dataclass
class Coding:
    facility: bool
    options: CodingOptions
    addon_primaries: dict[str, frozenset[str]]
    lines: list[ComputedLine] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    concurrent_dates: set[date] = field(default_factory=set)  # 96368 once per date

    def emit(
        self,
        code: str,
        units: int,
        events: list[Event] | Event,
        rules: tuple[Rule, ...],
        reason: str,
        minutes: int | None = None,
        modifiers: tuple[str, ...] = (),
        on: date | None = None,
    ) -> None:
        if units <= 0:
            return
        evs = events if isinstance(events, list) else [events]
        cited = dict.fromkeys([r.id for r in rules])
        for e in evs:
            for r in e.rules:
                cited[r.id] = None
        # Every part comes from the pack or the validated claim; the reason names drugs as a
        # pack or the MAR calls them (``computed_line`` validates text that might not be valid).
        self.lines.append(
            computed_line(
                code=code,
                units=Decimal(units),
                modifiers=modifiers,
                date_of_service=(on or evs[0].dos).isoformat(),
                admin_ids=tuple(a for e in evs for a in e.admin_ids),
                rule_ids=tuple(cited),
                minutes=minutes,
                reason=reason,
            )
        )

    def note(self, rule: Rule, message: str, events: list[Event] | Event) -> None:
        evs = events if isinstance(events, list) else [events]
        self.findings.append(rule.finding(message, [a for e in evs for a in e.admin_ids]))


def describe(e: Event) -> str:
    names = "+".join(d.name for d in e.drugs)
    family = {Family.CHEMO: "chemotherapy", Family.THER: "therapeutic", Family.HYD: "hydration"}
    return f"{family[e.family]} {e.kind.value.lower().replace('_', ' ')} of {names}"
