"""Steps A and B (spec 2.2, 2.3): from MAR entries to billable administration events.

Drops what is not billable, classifies each drug through the catalogue (payer override
first), merges same-bag components, counts minutes without holds and derives the billed
technique from the clock, not the label."""

from __future__ import annotations

from rules.administration.events import (
    PUSH_MAX_MINUTES,
    Event,
    Interval,
    Kind,
    Normalised,
    minutes_of,
)
from rules.administration.pumps import ADM_G3
from rules.drug_catalogue import DrugCatalogue, DrugInfo, Family
from rules.rule import ERR, NC, H, M, Rule
from schemas.claim import Administration, Purpose, Route, SubmittedClaim, Technique
from schemas.decision import Confidence

ADM_A1 = Rule(
    id="ADM-A1",
    title="Vehicle, KVO and flush fluid is not coded",
    checks="Drops MAR entries whose purpose is vehicle, keep-vein-open or flush.",
    why=(
        "Fluid that carries a drug, keeps a line open or flushes it is part of the drug "
        "administration, not a service of its own."
    ),
    confidence=H,
    section="2.2 A1",
    sources=("S1", "S3", "S61"),
)

ADM_A3 = Rule(
    id="ADM-A3",
    title="Hydration needs an order and an indication",
    checks="Drops hydration without a documented order and medical necessity.",
    why="Hydration is billable only when ordered for documented signs or symptoms.",
    confidence=H,
    section="2.2 A3",
    sources=("S3", "S10"),
)

ADM_A4 = Rule(
    id="ADM-A4",
    title="Hydration without a stop time is not billable",
    checks="Drops hydration whose stop time is missing.",
    why="Hydration codes are time based; without a stop time the duration is unknown.",
    confidence=H,
    section="2.2 A4",
    sources=("S10",),
)

ADM_A5 = Rule(
    id="ADM-A5",
    title="A drug infusion without a stop time goes to review",
    checks="Flags an IV drug infusion with no stop time; it is not coded.",
    why=(
        "MACs differ: some accept a push code, others need evidence of more than 15 minutes; "
        "duration may be calculated from volume and rate in the notes."
    ),
    confidence=M,
    section="2.2 A5",
    sources=("S22", "S32", "S33"),
    severity=ERR,
)

ADM_B1 = Rule(
    id="ADM-B1",
    title="Same-bag components are one administration",
    checks="Merges MAR entries that share a bag id into one administration.",
    why=(
        "Drugs mixed in one bag are one infusion (one technique code); each drug's supply is "
        "still billed."
    ),
    confidence=M,
    section="2.3 B1",
    sources=("S24",),
)

ADM_B2 = Rule(
    id="ADM-B2",
    title="Minutes are stop minus start minus holds",
    checks="Counts the minutes actually infused, without documented holds.",
    why="Time-based codes are reported on the time the infusion ran.",
    confidence=M,
    section="2.3 B2",
    sources=("S29", "S33"),
)

ADM_B3 = Rule(
    id="ADM-B3",
    title="An IV administration of 15 minutes or less is a push",
    checks="Codes an IV drug given in 15 minutes or less (or documented as a push) as a push.",
    why="CPT: an infusion of 15 minutes or less is reported as a push.",
    confidence=H,
    section="2.3 B3",
    sources=("S1", "S64"),
)

ADM_U1 = Rule(
    id="ADM-U1",
    title="An unknown drug goes to review",
    checks="Flags a MAR drug that is in neither the catalogue nor the payer's overrides.",
    why="Classification decides the code family; it is never guessed.",
    confidence=H,
    section="4.1",
    sources=("S1", "S5"),
    severity=ERR,
)

ADM_U2 = Rule(
    id="ADM-U2",
    title="A drug class that needs confirmation goes to review",
    checks=(
        "Flags a drug whose administration class the catalogue marks NC, unless the payer's "
        "written policy classifies it."
    ),
    why="MACs and payers classify these drugs differently (spec 4.1 rule 3, 8 Q15-Q16).",
    confidence=NC,
    section="4.1, 4.2",
    sources=("S38",),
)


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
                ADM_G3.finding(
                    "Pump disconnect is included in the pump initiation: not coded.", [a.admin_id]
                )
            )
            continue
        if a.purpose in (Purpose.VEHICLE, Purpose.KVO) or (
            a.purpose is Purpose.FLUSH and a.documented_technique is not Technique.FLUSH
        ):
            out.findings.append(
                ADM_A1.finding(
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
                ADM_U1.finding(
                    f"MAR drug {a.admin_id} ({a.drug.hcpcs or 'no HCPCS'}) is not in the drug "
                    "catalogue or the payer's overrides; classify it before coding.",
                    [a.admin_id],
                )
            )
            continue
        if drug.confidence is Confidence.NEEDS_CONFIRMATION:
            out.findings.append(
                ADM_U2.finding(
                    f"{drug.hcpcs} is coded as {drug.family.value}"
                    f"{' (hormonal)' if drug.hormonal else ''}, but its class needs "
                    f"confirmation ({drug.source}).",
                    [a.admin_id],
                )
            )
        if drug.family is Family.HYD and not (a.order_present and a.indication_present):
            out.findings.append(
                ADM_A3.finding(
                    "Hydration without a documented order and indication: not coded.", [a.admin_id]
                )
            )
            continue
        if a.stop is None and drug.family is Family.HYD:
            out.findings.append(
                ADM_A4.finding("Hydration without a stop time: not coded.", [a.admin_id])
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
                ADM_B1.finding(
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
            ADM_A5.finding(
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


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_A1, ADM_A3, ADM_A4, ADM_A5, ADM_B1, ADM_B2, ADM_B3, ADM_U1, ADM_U2)
