"""From MAR entries to billable administration events (spec 2.2 step A, 2.3 step B).

Pure. Each event knows its drug family, its billed technique (derived from the
times, not from the label), its running intervals without holds, and which MAR
entries it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from rules.reference import DrugCatalogue, DrugInfo, Family
from rules.registry import rule
from schemas.claim import Administration, Purpose, Route, SubmittedClaim, Technique
from schemas.decision import Confidence, Finding

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


_FAMILY_RANK = {Family.CHEMO: 0, Family.THER: 1, Family.HYD: 2}

# A flush has no drug to classify; it only ever becomes 96523.
_FLUSH = DrugInfo(
    hcpcs="",
    name="flush",
    unit_amount=None,
    unit="mL",
    family=Family.HYD,
    hormonal=False,
    confidence=Confidence.HIGH,
    source="flush",
)


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
    pump_kind: str | None = None
    pump_supplied_by: str | None = None
    lesion_count: int | None = None

    @property
    def drug_key(self) -> frozenset[str]:
        """What "the same drug" means: the same set of drugs (HCPCS, else catalogue name)."""
        return frozenset(d.hcpcs or d.name for d in self.drugs)

    @property
    def dos(self) -> date:
        """Line-item date of service: the calendar day the service started, in its own offset."""
        return self.start.date()

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.start, self.admin_ids[0])


@dataclass
class Normalised:
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    drugs: dict[str, DrugInfo] = field(default_factory=dict)  # by admin id, as classified


def _running(a: Administration) -> tuple[Interval, ...]:
    """The intervals the administration actually ran: start-stop without holds."""
    assert a.stop is not None
    pieces: list[Interval] = []
    cursor = a.start
    for hold in sorted(a.holds, key=lambda h: h.start):
        if hold.start > cursor:
            pieces.append((cursor, hold.start))
        cursor = max(cursor, hold.stop)
    if a.stop > cursor:
        pieces.append((cursor, a.stop))
    return tuple(pieces)


def minutes_of(intervals: tuple[Interval, ...]) -> int:
    return int(sum((b - a).total_seconds() for a, b in intervals) // 60)


def _kind(a: Administration, drug: DrugInfo, minutes: int | None) -> Kind:
    technique = a.documented_technique
    if technique is Technique.FLUSH:
        return Kind.FLUSH
    if technique is Technique.PUMP_REFILL:
        return Kind.PUMP_REFILL
    if technique is Technique.PUMP_INITIATION or (
        a.pump is not None and a.pump.planned_hours is not None and a.pump.planned_hours > 8
    ):
        return Kind.PUMP_INITIATION
    if a.route in (Route.SQ, Route.IM):
        return (
            Kind.SQ_INFUSION
            if technique is Technique.INFUSION and a.route is Route.SQ
            else Kind.INJECTION
        )
    if a.route in (Route.IV, Route.IA):
        # A documented push means a clinician continuously present: a push whatever
        # its length. Otherwise the clock decides (ADM-B3).
        if technique is Technique.PUSH or (minutes is not None and minutes <= PUSH_MAX_MINUTES):
            return Kind.PUSH
        return Kind.INFUSION
    return Kind.OTHER_ROUTE


def _merge_bag(
    entries: list[tuple[Administration, DrugInfo]],
) -> tuple[Administration, tuple[DrugInfo, ...]]:
    """Same-bag components (ADM-B1): one administration, the bag's family the highest."""
    entries = sorted(entries, key=lambda e: (_FAMILY_RANK[e[1].family], e[0].start, e[0].admin_id))
    lead = entries[0][0]
    start = min(a.start for a, _ in entries)
    stops = [a.stop for a, _ in entries]
    stop = None if any(s is None for s in stops) else max(s for s in stops if s is not None)
    holds = lead.holds if len(entries) == 1 else ()
    merged = lead.model_copy(update={"start": start, "stop": stop, "holds": holds})
    return merged, tuple(d for _, d in entries)


def normalise(claim: SubmittedClaim, catalogue: DrugCatalogue) -> Normalised:
    out = Normalised()
    bags: dict[tuple[str, str], list[tuple[Administration, DrugInfo]]] = {}
    singles: list[tuple[Administration, DrugInfo]] = []
    for a in sorted(claim.administrations, key=lambda x: (x.start, x.admin_id)):
        if a.documented_technique is Technique.PUMP_DISCONNECT:
            out.findings.append(
                rule("ADM-G3").finding(
                    "Pump disconnect is included in the pump initiation: not coded.", [a.admin_id]
                )
            )
            continue
        if a.purpose in (Purpose.VEHICLE, Purpose.KVO) or (
            a.purpose is Purpose.FLUSH and a.documented_technique is not Technique.FLUSH
        ):
            out.findings.append(
                rule("ADM-A1").finding(
                    f"{a.purpose.value.lower()} fluid is part of the administration: not coded.",
                    [a.admin_id],
                )
            )
            continue
        if a.purpose is Purpose.FLUSH or a.documented_technique is Technique.FLUSH:
            singles.append((a, _FLUSH))
            continue
        drug = catalogue.lookup(a.drug.hcpcs, a.drug.name, claim.payer.payer_id, a.start.date())
        if drug is not None:
            out.drugs[a.admin_id] = drug
        if drug is None:
            out.findings.append(
                rule("ADM-U1").finding(
                    f"MAR drug {a.admin_id} ({a.drug.hcpcs or 'no HCPCS'}) is not in the drug "
                    "catalogue or the payer's overrides; classify it before coding.",
                    [a.admin_id],
                )
            )
            continue
        if drug.confidence is Confidence.NEEDS_CONFIRMATION:
            out.findings.append(
                rule("ADM-U2").finding(
                    f"{drug.hcpcs} is coded as {drug.family.value}"
                    f"{' (hormonal)' if drug.hormonal else ''}, but its class needs "
                    f"confirmation ({drug.source}).",
                    [a.admin_id],
                )
            )
        if drug.family is Family.HYD and not (a.order_present and a.indication_present):
            out.findings.append(
                rule("ADM-A3").finding(
                    "Hydration without a documented order and indication: not coded.", [a.admin_id]
                )
            )
            continue
        if a.stop is None and drug.family is Family.HYD:
            out.findings.append(
                rule("ADM-A4").finding("Hydration without a stop time: not coded.", [a.admin_id])
            )
            continue
        if a.bag_id is not None:
            bags.setdefault((a.encounter_id, a.bag_id), []).append((a, drug))
        else:
            singles.append((a, drug))
    for (_, bag_id), entries in sorted(bags.items()):
        merged, drugs = _merge_bag(entries)
        if len(entries) > 1:
            out.findings.append(
                rule("ADM-B1").finding(
                    f"Bag {bag_id}: {len(entries)} MAR entries coded as one administration.",
                    [a.admin_id for a, _ in entries],
                )
            )
        _add_event(out, merged, drugs, [a.admin_id for a, _ in entries])
    for a, drug in singles:
        _add_event(out, a, (drug,), [a.admin_id])
    out.events.sort(key=lambda e: e.sort_key)
    return out


def _add_event(
    out: Normalised, a: Administration, drugs: tuple[DrugInfo, ...], admin_ids: list[str]
) -> None:
    lead = min(drugs, key=lambda d: _FAMILY_RANK[d.family])
    intervals = _running(a) if a.stop is not None else ()
    minutes = minutes_of(intervals) if a.stop is not None else None
    kind = _kind(a, lead, minutes)
    if a.stop is None and kind in (Kind.INFUSION, Kind.SQ_INFUSION):
        out.findings.append(
            rule("ADM-A5").finding(
                "Drug infusion without a stop time: duration cannot be established; not coded.",
                admin_ids,
            )
        )
        return
    out.events.append(
        Event(
            admin_ids=tuple(admin_ids),
            encounter_id=a.encounter_id,
            site=a.access_site_id or "unspecified",
            separate_site_reason=a.separate_site_reason is not None,
            drugs=drugs,
            family=lead.family,
            hormonal=lead.hormonal,
            route=a.route,
            kind=kind,
            start=a.start,
            stop=a.stop,
            minutes=minutes,
            intervals=intervals,
            primary_reason=a.primary_reason,
            pump_kind=a.pump.kind.value if a.pump else None,
            pump_supplied_by=a.pump.supplied_by.value if a.pump and a.pump.supplied_by else None,
            lesion_count=a.lesion_count,
        )
    )
