"""Administration events to CPT/HCPCS lines (spec 2.4-2.9, steps C-H). Pure.

Every line says which MAR entries it came from, which rules produced it, the
minutes it counts and why; every choice the spec marks NC becomes a finding
that sends the claim to review instead of a silent choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from rules.mar import Event, Interval, Kind, minutes_of
from rules.reference import Family
from rules.registry import rule
from schemas.claim import Route
from schemas.decision import ComputedLine, Finding, Severity

# Places of service where the facility, not the physician, bills administration (1.3a).
FACILITY_POS = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
HYDRATION_MIN_MINUTES = 31
REPEAT_PUSH_MIN_GAP = timedelta(minutes=30)

_INITIAL_CODE = {
    (Family.CHEMO, Kind.INFUSION): "96413",
    (Family.CHEMO, Kind.PUSH): "96409",
    (Family.THER, Kind.INFUSION): "96365",
    (Family.THER, Kind.PUSH): "96374",
    (Family.HYD, Kind.INFUSION): "96360",
}
# The facility hierarchy (2.5): family first, then infusion before push.
RANK = {key: n for n, key in enumerate(_INITIAL_CODE, start=1)}
RANK_OF_CODE = {code: RANK[key] for key, code in _INITIAL_CODE.items()}
_ADDL_HOUR = {"96413": "96415", "96365": "96366", "96360": "96361"}
# Codes a physician may not report when the service is in a facility (2.2 A7).
_FACILITY_BILLED = (("96360", "96379"), ("96401", "96402"), ("96409", "96425"),
                    ("96521", "96523"))  # fmt: skip


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


def secondary_hydration_units(minutes: int) -> int:
    """96361 units for hydration that is not the initial service (2.6)."""
    return 0 if minutes < HYDRATION_MIN_MINUTES else (minutes + 29) // 60


def _overlap_minutes(a: tuple[Interval, ...], b: tuple[Interval, ...]) -> float:
    total = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0.0, (min(e1, e2) - max(s1, s2)).total_seconds())
    return total / 60


def _subtract(pieces: tuple[Interval, ...], cuts: list[Interval]) -> list[Interval]:
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
        rule_ids: tuple[str, ...],
        reason: str,
        minutes: int | None = None,
        modifiers: tuple[str, ...] = (),
        on: date | None = None,
    ) -> None:
        if units <= 0:
            return
        evs = events if isinstance(events, list) else [events]
        self.lines.append(
            ComputedLine(
                code=code,
                units=Decimal(units),
                modifiers=modifiers,
                date_of_service=(on or evs[0].dos).isoformat(),
                admin_ids=tuple(a for e in evs for a in e.admin_ids),
                rule_ids=rule_ids,
                minutes=minutes,
                reason=reason,
            )
        )

    def note(self, rule_id: str, message: str, events: list[Event] | Event) -> None:
        evs = events if isinstance(events, list) else [events]
        self.findings.append(rule(rule_id).finding(message, [a for e in evs for a in e.admin_ids]))


def _describe(e: Event) -> str:
    names = "+".join(d.name for d in e.drugs)
    family = {Family.CHEMO: "chemotherapy", Family.THER: "therapeutic", Family.HYD: "hydration"}
    return f"{family[e.family]} {e.kind.value.lower().replace('_', ' ')} of {names}"


# -- step C: groups ----------------------------------------------------------------------


def _groups(iv: list[Event]) -> list[tuple[list[Event], bool]]:
    """(events, is a separate site with its own initial), per encounter and site (2.4)."""
    by_encounter: dict[str, list[Event]] = {}
    for e in iv:
        by_encounter.setdefault(e.encounter_id, []).append(e)
    groups: list[tuple[list[Event], bool]] = []
    for events in sorted(by_encounter.values(), key=lambda evs: evs[0].sort_key):
        by_site: dict[str, list[Event]] = {}
        for e in events:
            by_site.setdefault(e.site, []).append(e)
        sites = sorted(by_site.values(), key=lambda evs: evs[0].sort_key)
        main = list(sites[0])
        separate: list[list[Event]] = []
        for site_events in sites[1:]:
            # A second site earns its own initial only with a documented reason (ADM-C2).
            if any(e.separate_site_reason for e in site_events):
                separate.append(site_events)
            else:
                main.extend(site_events)
        groups.append((sorted(main, key=lambda e: e.sort_key), False))
        groups.extend((s, True) for s in separate)
    return groups


# -- steps D-F: one group ------------------------------------------------------------------


def _code_group(
    c: Coding, events: list[Event], separate_site: bool, encounter_dates: dict[date, str]
) -> None:
    candidates = [
        e
        for e in events
        if (e.family, e.kind) in RANK
        and (e.family is not Family.HYD or (e.minutes or 0) >= HYDRATION_MIN_MINUTES)
    ]
    if not candidates:
        for e in events:
            c.note("ADM-E2", f"Hydration of {e.minutes} minutes (< 31): not coded.", e)
        return

    def by_rank(e: Event) -> tuple[int, object, str]:
        return (RANK[(e.family, e.kind)], e.start, e.admin_ids[0])

    basis = "ADM-D1"
    if c.facility:
        initial = min(candidates, key=by_rank)
    else:
        basis = "ADM-D2"
        flagged = [e for e in candidates if e.primary_reason]
        initial = min(flagged or candidates, key=(lambda e: e.sort_key) if flagged else by_rank)
        if not flagged:
            c.note(
                "ADM-D2",
                "No primary reason documented: initial service chosen by the "
                "hierarchy (initial_basis=hierarchy-default).",
                initial,
            )

    modifiers: tuple[str, ...] = ()
    if separate_site:
        modifiers = (c.options.separate_site_modifier,)
        c.note(
            "ADM-C2",
            f"Separate access site {initial.site} with a documented reason: its "
            f"own initial service with {modifiers[0]}.",
            initial,
        )
    elif encounter_dates.get(initial.dos, initial.encounter_id) != initial.encounter_id:
        modifiers = (c.options.separate_encounter_modifier,)
        c.note(
            "ADM-C3",
            f"Second encounter on {initial.dos}: initial service with {modifiers[0]}.",
            initial,
        )
    encounter_dates.setdefault(initial.dos, initial.encounter_id)

    code = _INITIAL_CODE[(initial.family, initial.kind)]
    minutes = initial.minutes or 0
    c.emit(
        code,
        1,
        initial,
        (basis, "ADM-B2", "ADM-B3") if initial.kind is Kind.PUSH else (basis, "ADM-B2"),
        f"initial: {_describe(initial)}, {minutes} min",
        minutes,
        modifiers,
    )
    if initial.kind is Kind.INFUSION:
        c.emit(
            _ADDL_HOUR[code],
            addl_hours(minutes),
            initial,
            ("ADM-E1",),
            f"{addl_hours(minutes)} additional hour(s) of {minutes} min",
            minutes,
        )

    drug_infusions = [e for e in events if e.kind is Kind.INFUSION and e.family is not Family.HYD]
    running: list[Event] = [initial] if initial in drug_infusions else []
    infused = {initial.drug_key} if initial.kind is Kind.INFUSION else set()
    last_push = {initial.drug_key: initial} if initial.kind is Kind.PUSH else {}

    for e in events:
        if e is initial or e.family is Family.HYD:
            continue
        if e.kind is Kind.INFUSION:
            _code_infusion(c, e, running, infused)
            running.append(e)
            infused.add(e.drug_key)
        elif e.kind is Kind.PUSH:
            _code_push(c, e, last_push)

    hydration = [e for e in events if e.family is Family.HYD and e is not initial]
    _code_secondary_hydration(c, hydration, drug_infusions)


def _code_infusion(c: Coding, e: Event, running: list[Event], infused: set[frozenset[str]]) -> None:
    minutes = e.minutes or 0
    overlap = max((_overlap_minutes(e.intervals, r.intervals) for r in running), default=0.0)
    if overlap > c.options.overlap_tolerance_minutes:
        if e.family is Family.CHEMO:
            c.note(
                "ADM-F5",
                f"{_describe(e)} runs concurrently with another infusion on the "
                "same site: no concurrent-chemotherapy code exists.",
                e,
            )
        elif e.dos in c.concurrent_dates:
            c.note(
                "ADM-F4",
                "A concurrent infusion (96368) is already reported for "
                f"{e.dos}: not reported again.",
                e,
            )
        else:
            c.concurrent_dates.add(e.dos)
            c.emit(
                "96368", 1, e, ("ADM-F4",), f"concurrent: {_describe(e)}, {minutes} min", minutes
            )
        return
    if overlap > 0:
        c.note(
            "ADM-F9",
            f"{_describe(e)} overlaps another infusion by {overlap:.1f} minute(s): "
            "treated as sequential (line change).",
            e,
        )
    if e.drug_key in infused:
        if e.family is Family.CHEMO:
            c.note(
                "ADM-F8",
                f"Second separate infusion of the same drug ({_describe(e)}): no code chosen.",
                e,
            )
            return
        c.note(
            "ADM-F8",
            f"Second separate infusion of the same drug ({_describe(e)}): "
            "96366 shown as the HCPro default.",
            e,
        )
        c.emit(
            "96366",
            1 + addl_hours(minutes),
            e,
            ("ADM-F8",),
            f"repeat infusion of the same drug, {minutes} min",
            minutes,
        )
        return
    first, hours = ("96417", "96415") if e.family is Family.CHEMO else ("96367", "96366")
    c.emit(first, 1, e, ("ADM-F1", "ADM-B2"), f"sequential: {_describe(e)}, {minutes} min", minutes)
    c.emit(
        hours,
        addl_hours(minutes),
        e,
        ("ADM-E1",),
        f"{addl_hours(minutes)} additional hour(s) of {minutes} min",
        minutes,
    )


def _code_push(c: Coding, e: Event, last_push: dict[frozenset[str], Event]) -> None:
    prior = last_push.get(e.drug_key)
    if prior is None:
        last_push[e.drug_key] = e
        code = "96411" if e.family is Family.CHEMO else "96375"
        c.emit(code, 1, e, ("ADM-F2", "ADM-B3"), f"sequential push: {_describe(e)}", e.minutes)
        return
    if e.family is Family.CHEMO:
        c.note("ADM-F7", f"Repeat push of the same chemotherapy drug ({_describe(e)}).", e)
        return
    gap = e.start - prior.start
    if not c.facility:
        c.note("ADM-F3", "Repeat push of the same drug: no code on a professional claim.", e)
    elif gap > REPEAT_PUSH_MIN_GAP:
        last_push[e.drug_key] = e
        c.emit(
            "96376",
            1,
            e,
            ("ADM-F3",),
            f"repeat push of the same drug {int(gap.total_seconds() // 60)} min after the "
            "prior reported push",
            e.minutes,
        )
    else:
        c.note(
            "ADM-F3",
            f"Repeat push {int(gap.total_seconds() // 60)} min after the prior "
            "push of the same drug (not more than 30): not coded.",
            e,
        )


def _code_secondary_hydration(c: Coding, hydration: list[Event], drugs: list[Event]) -> None:
    cuts = sorted(iv for d in drugs for iv in d.intervals)
    pieces_by_event = [(e, _subtract(e.intervals, cuts)) for e in hydration]
    all_minutes = [minutes_of((p,)) for _, pieces in pieces_by_event for p in pieces]
    separate = sum(secondary_hydration_units(m) for m in all_minutes)
    combined = secondary_hydration_units(sum(all_minutes))
    for e, pieces in pieces_by_event:
        if minutes_of(tuple(pieces)) < (e.minutes or 0):
            c.note(
                "ADM-F6",
                f"{(e.minutes or 0) - minutes_of(tuple(pieces))} minute(s) of "
                "hydration ran with a drug infusion: not counted.",
                e,
            )
    if len(all_minutes) > 1 and separate != combined:
        c.note(
            "ADM-F10",
            f"Hydration intervals of {all_minutes} minutes: {separate} unit(s) of "
            f"96361 counted separately, {combined} combined.",
            hydration,
        )
    if c.options.combine_hydration_intervals:
        c.emit(
            "96361",
            combined,
            hydration,
            ("ADM-F11", "ADM-F10"),
            f"secondary hydration, intervals {all_minutes} min combined",
            sum(all_minutes),
        )
        return
    for e, pieces in pieces_by_event:
        mins = [minutes_of((p,)) for p in pieces]
        units = sum(secondary_hydration_units(m) for m in mins)
        if any(m < HYDRATION_MIN_MINUTES for m in mins):
            c.note(
                "ADM-E2",
                f"Hydration interval(s) {mins} min: those under 31 minutes are not coded.",
                e,
            )
        c.emit(
            "96361",
            units,
            e,
            ("ADM-F11", "ADM-E2"),
            f"secondary hydration, interval(s) {mins} min",
            sum(mins),
        )


# -- steps G-H: stand-alone services ------------------------------------------------------


def _code_pump(c: Coding, e: Event) -> None:
    if e.kind is Kind.PUMP_REFILL:
        code = {"PORTABLE": "96521", "IMPLANTABLE": "96522"}.get(e.pump_kind or "")
        if code is None or e.pump_kind is None:
            c.findings.append(
                rule("ADM-G3").finding(
                    "Pump refill without the pump's kind (portable or implantable).",
                    e.admin_ids,
                    severity=Severity.ERROR,
                )
            )
            return
        c.emit(code, 1, e, ("ADM-G3",), f"refill of a {e.pump_kind.lower()} pump")
        return
    if e.family is Family.CHEMO and e.route is Route.IA:
        c.emit("96425", 1, e, ("ADM-G1",), f"pump initiation (intra-arterial): {_describe(e)}")
    elif e.family is Family.CHEMO:
        provider_pump = c.options.medicare and e.pump_supplied_by == "PROVIDER"
        if provider_pump:
            c.note(
                "ADM-G2",
                "Medicare chemotherapy pump supplied by the provider: G0498 may "
                "be required instead of 96416.",
                e,
            )
        code = "G0498" if provider_pump and c.options.g0498_for_provider_pumps else "96416"
        c.emit(
            code,
            1,
            e,
            ("ADM-G1", "ADM-G2") if provider_pump else ("ADM-G1",),
            f"pump initiation: {_describe(e)}",
        )
    elif e.family is Family.THER and c.facility:
        c.emit("C8957", 1, e, ("ADM-G1",), f"prolonged infusion pump initiation: {_describe(e)}")
    elif e.family is Family.THER:
        c.note("ADM-G5", f"Prolonged {_describe(e)} on a professional claim: no code found.", e)
    else:
        c.note("ADM-H5", f"No code for a pump of {_describe(e)}.", e)


_CAVITY = {Route.INTRATHECAL_LP: "96450", Route.INTRATHECAL_RESERVOIR: "96542",
           Route.PLEURAL: "96440", Route.PERITONEAL: "96446"}  # fmt: skip


def _code_standalone(c: Coding, e: Event) -> None:
    minutes = e.minutes
    if e.kind is Kind.INJECTION:
        if e.family is Family.CHEMO:
            code = "96402" if e.hormonal else "96401"
            kind = "hormonal" if e.hormonal else "non-hormonal"
            c.emit(code, 1, e, ("ADM-H1",), f"{kind} antineoplastic injection: {_describe(e)}")
        elif e.family is Family.THER:
            c.emit("96372", 1, e, ("ADM-H1",), f"injection: {_describe(e)}")
        else:
            c.note("ADM-H5", f"No code for an injection of {_describe(e)}.", e)
    elif e.kind is Kind.SQ_INFUSION and e.family is Family.THER:
        c.emit("96369", 1, e, ("ADM-H2",), f"subcutaneous infusion: {_describe(e)}", minutes)
        if addl_hours(minutes or 0):
            c.note("ADM-E3", "96370 units assume the 30-minute rule of other hourly codes.", e)
            c.emit(
                "96370",
                addl_hours(minutes or 0),
                e,
                ("ADM-E3",),
                f"{addl_hours(minutes or 0)} additional hour(s)",
                minutes,
            )
    elif e.route is Route.IA and e.family is Family.CHEMO:
        if e.kind is Kind.PUSH:
            c.emit("96420", 1, e, ("ADM-H2",), f"intra-arterial push: {_describe(e)}", minutes)
        else:
            c.emit("96422", 1, e, ("ADM-H2",), f"intra-arterial infusion: {_describe(e)}", minutes)
            c.emit(
                "96423",
                addl_hours(minutes or 0),
                e,
                ("ADM-E1",),
                f"{addl_hours(minutes or 0)} additional hour(s)",
                minutes,
            )
    elif e.route is Route.IA and e.family is Family.THER and e.kind is Kind.PUSH:
        c.emit("96373", 1, e, ("ADM-H2",), f"intra-arterial injection: {_describe(e)}")
    elif e.route is Route.INTRALESIONAL and e.family is Family.CHEMO:
        if e.lesion_count is None:
            c.findings.append(
                rule("ADM-H2").finding(
                    "Intralesional chemotherapy without a lesion count: 96405 or 96406 cannot be "
                    "chosen.",
                    e.admin_ids,
                    severity=Severity.ERROR,
                )
            )
        else:
            code = "96405" if e.lesion_count <= 7 else "96406"
            c.emit(code, 1, e, ("ADM-H2",), f"intralesional, {e.lesion_count} lesion(s)")
    elif e.route in _CAVITY and e.family is Family.CHEMO:
        c.emit(_CAVITY[e.route], 1, e, ("ADM-H2",), f"{e.route.value.lower()}: {_describe(e)}")
    elif e.route is Route.INTRAVESICAL:
        c.note("ADM-H4", "Intravesical instillation coded as 51720.", e)
        c.emit("51720", 1, e, ("ADM-H4",), f"intravesical: {_describe(e)}")
    else:
        c.note("ADM-H5", f"No code for {_describe(e)} by route {e.route.value}.", e)


def _is_facility_billed(code: str) -> bool:
    return any(lo <= code <= hi for lo, hi in _FACILITY_BILLED)


def _guard_addons(c: Coding) -> None:
    """Withhold add-ons whose allowed primaries are not on the same date (ADM-D3).

    Repeated until nothing changes: an add-on may lean on another add-on (96368 on
    96366) that is itself withheld.
    """
    while True:
        by_date: dict[str, set[str]] = {}
        for line in c.lines:
            by_date.setdefault(line.date_of_service, set()).add(line.code)
        orphans = [
            line for line in c.lines
            if (allowed := c.addon_primaries.get(line.code)) is not None
            and not allowed & by_date[line.date_of_service]
        ]  # fmt: skip
        if not orphans:
            return
        for line in orphans:
            allowed = c.addon_primaries[line.code]
            c.findings.append(
                rule("ADM-D3").finding(
                    f"{line.code} needs one of {', '.join(sorted(allowed))} on "
                    f"{line.date_of_service}: not reported.",
                    line.admin_ids,
                )
            )
        c.lines = [line for line in c.lines if line not in orphans]


def code_events(
    events: list[Event],
    facility: bool,
    place_of_service: str,
    options: CodingOptions,
    addon_primaries: dict[str, frozenset[str]],
    other_services: dict[date, set[str]],
) -> tuple[list[ComputedLine], list[Finding]]:
    """Lines and findings for normalised events. ``other_services``: submitted non-drug codes
    by date, which decide whether a port flush is the only service of its day."""
    c = Coding(facility=facility, options=options, addon_primaries=addon_primaries)
    for e in events:
        if e.stop is not None and e.stop.date() != e.start.date() and e.kind is Kind.INFUSION:
            c.note("ADM-C4", f"{_describe(e)} crosses midnight: all of it is dated {e.dos}.", e)

    iv = [e for e in events if e.route is Route.IV and e.kind in (Kind.PUSH, Kind.INFUSION)]
    encounter_dates: dict[date, str] = {}
    for group, separate_site in _groups(iv):
        _code_group(c, group, separate_site, encounter_dates)
    for e in events:
        if e.kind in (Kind.PUMP_INITIATION, Kind.PUMP_REFILL):
            _code_pump(c, e)
        elif e.kind is not Kind.FLUSH and e not in iv:
            _code_standalone(c, e)
    _guard_addons(c)

    coded_dates = {line.date_of_service for line in c.lines}
    flushed: set[date] = set()
    for e in (e for e in events if e.kind is Kind.FLUSH):
        if e.dos.isoformat() in coded_dates or other_services.get(e.dos) or e.dos in flushed:
            c.note("ADM-H3", "Port flush on a day with other services: integral, not coded.", e)
            continue
        flushed.add(e.dos)
        c.emit("96523", 1, e, ("ADM-H3",), "port irrigation, the only service of the day")

    if not facility and place_of_service in FACILITY_POS:
        dropped = sorted({line.code for line in c.lines if _is_facility_billed(line.code)})
        if dropped:
            c.lines = [line for line in c.lines if not _is_facility_billed(line.code)]
            c.findings.append(
                rule("ADM-A7").finding(
                    f"Place of service {place_of_service} is a facility: {', '.join(dropped)} are "
                    "the facility's to bill.",
                    [a for e in events for a in e.admin_ids],
                )
            )
    return c.lines, c.findings
