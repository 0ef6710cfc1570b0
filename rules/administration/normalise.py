"""Steps A and B (spec 2.2, 2.3): from MAR entries to billable administration events.

Drops what is not billable, classifies each drug through the catalogue (payer override
first), merges same-bag components (electrolytes added to hydration fluid stay hydration),
counts minutes without holds and derives the billed technique from the clock, not the label.
MAR entries it cannot code while the claim goes to review are kept, so the lines of their
date say they were computed without them."""

from __future__ import annotations

from rules.administration.events import (
    PUSH_MAX_MINUTES,
    Event,
    Excluded,
    Interval,
    Kind,
    Normalised,
    minutes_of,
)
from rules.administration.pumps import ADM_G1, ADM_G3
from rules.drug_catalogue import DrugCatalogue, DrugInfo, Family
from rules.rule import ERR, NC, H, M, Rule
from rules.sources import authority
from schemas.claim import Administration, Purpose, Route, SubmittedClaim, Technique
from schemas.decision import ComputedLine, Confidence, Severity

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
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: fluid used to administer drugs is incidental"
            ),
        ),
        authority("IOM-4", "§230.2 Coding and payment for drug administration (OPPS)"),
    ),
    action=(
        "Nothing to code for the fluid's administration; bill the fluid itself only where the "
        "payer pays supplies"
    ),
)

ADM_A3 = Rule(
    id="ADM-A3",
    title="Hydration needs an order and an indication",
    checks="Drops hydration without a documented order and medical necessity.",
    why="Hydration is billable only when ordered for documented signs or symptoms.",
    confidence=H,
    section="2.2 A3",
    sources=("S3", "S10"),
    authority=(
        authority("CPT-DRUG-ADMIN", "Hydration (96360-96361)"),
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action=(
        "If the hydration was ordered for documented signs or symptoms, add the order and the "
        "indication to the MAR and submit again; otherwise there is nothing to code"
    ),
)

ADM_A4 = Rule(
    id="ADM-A4",
    title="Hydration without a stop time is not billable",
    checks="Drops hydration whose stop time is missing.",
    why="Hydration codes are time based; without a stop time the duration is unknown.",
    confidence=H,
    section="2.2 A4",
    sources=("S10",),
    authority=(
        authority("CPT-DRUG-ADMIN", "Hydration (96360-96361): time based"),
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action=(
        "Document the stop time (or the volume and rate it is calculated from) to bill the "
        "hydration"
    ),
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
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: time is the time the infusion ran"
            ),
        ),
        authority("IOM-4", "§230.2 Coding and payment for drug administration (OPPS)"),
    ),
    action=(
        "Find the stop time in the nursing notes (or calculate it from the volume and rate), add"
        " it to the MAR and submit again"
    ),
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
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379): several substances in one bag are one infusion"
            ),
        ),
    ),
    action=(
        "Nothing to do: one administration code covers the bag; bill each drug on its own supply"
        " line"
    ),
)

ADM_B2 = Rule(
    id="ADM-B2",
    title="Minutes are stop minus start minus holds",
    checks="Counts the minutes actually infused, without documented holds.",
    why="Time-based codes are reported on the time the infusion ran.",
    confidence=M,
    section="2.3 B2",
    sources=("S29", "S33"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: time-based codes count the actual infusion time"
            ),
        ),
    ),
    action="Nothing to do; if the minutes look wrong, check the documented start, stop and holds",
)

ADM_B3 = Rule(
    id="ADM-B3",
    title="An IV administration of 15 minutes or less is a push",
    checks="Codes an IV drug given in 15 minutes or less (or documented as a push) as a push.",
    why="CPT: an infusion of 15 minutes or less is reported as a push.",
    confidence=H,
    section="2.3 B3",
    sources=("S1", "S64"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: an IV push is 15 minutes or less, or a clinician "
                "continuously present"
            ),
        ),
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action=(
        "Nothing to do; if a clinician was continuously present for a longer administration, "
        "document it as a push"
    ),
)

ADM_U1 = Rule(
    id="ADM-U1",
    title="An unknown drug goes to review",
    checks="Flags a MAR drug that is in neither the catalogue nor the payer's overrides.",
    why="Classification decides the code family; it is never guessed.",
    confidence=H,
    section="4.1",
    sources=("S1", "S5", "DRUGS"),
    severity=ERR,
    authority=(
        authority("HCPCS", "drug, biological and radiopharmaceutical codes by quarter"),
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action=(
        "Give the drug its HCPCS code (or classify it in the payer's drug overrides), then code "
        "the day again: the administration codes shown do not include this drug"
    ),
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
    sources=("DRUGS",),
    authority=(
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
        authority(
            "CPT-DRUG-ADMIN",
            "Chemotherapy and other highly complex drug or biologic administration (96401-96549)",
        ),
    ),
    action=(
        "Check the payer's written policy (or the MAC's complex drug administration article) for"
        " this drug, confirm the administration code, and record the policy in the payer's drug "
        "overrides"
    ),
)


ADM_B4 = Rule(
    id="ADM-B4",
    title="Hydration fluid with electrolytes added is hydration",
    checks=(
        "Codes a bag of hydration fluid with electrolytes added (potassium chloride, "
        "magnesium sulfate, ...; one bag id) as hydration; an electrolyte infused on its own, "
        "to correct a deficit, is a therapeutic infusion."
    ),
    why=(
        "CPT's hydration codes cover pre-packaged fluid and electrolytes, and name a "
        "dextrose-saline solution with potassium chloride as an example."
    ),
    confidence=H,
    section="2.3 B4, 4.1 rule 7 (issue 10 over 4.2 row 70)",
    sources=("S3", "S61"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            "Hydration (96360-96361): pre-packaged fluid and electrolytes",
        ),
    ),
    action=(
        "Nothing to do: the bag is coded as hydration; bill the fluid and the added electrolytes"
        " on their supply lines"
    ),
)


_FAMILY_RANK = {Family.CHEMO: 0, Family.THER: 1, Family.HYD: 2}
PROLONGED_PUMP_HOURS = 8

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

Entry = tuple[Administration, DrugInfo]


def _running(a: Administration) -> tuple[Interval, ...]:
    """The intervals the administration actually ran: start-stop without holds."""
    stop = a.stop
    assert stop is not None
    if not a.holds:  # most entries
        return ((a.start, stop),) if stop > a.start else ()
    pieces: list[Interval] = []
    cursor = a.start
    for hold in sorted(a.holds, key=lambda h: h.start):
        if hold.start > cursor:
            pieces.append((cursor, hold.start))
        cursor = max(cursor, hold.stop)
    if stop > cursor:
        pieces.append((cursor, stop))
    return tuple(pieces)


def _prolonged_pump(a: Administration) -> bool:
    """A pump infusion planned for more than 8 hours (spec 2.3 B3, 2.8 G1)."""
    hours = a.pump.planned_hours if a.pump is not None else None
    return hours is not None and hours > PROLONGED_PUMP_HOURS


# A documented technique that names the billed one whatever the clock says.
_KIND_AS_DOCUMENTED: dict[Technique | None, Kind] = {
    Technique.FLUSH: Kind.FLUSH,
    Technique.PUMP_REFILL: Kind.PUMP_REFILL,
    Technique.ON_BODY_INJECTOR: Kind.ON_BODY_INJECTOR,
}
# Constant sets, not tuples of enum members built at each test: compiled, every
# ``Route.SQ`` is a look-up through the enum's metaclass.
_INJECTION_ROUTES = frozenset((Route.SQ, Route.IM))
_VASCULAR_ROUTES = frozenset((Route.IV, Route.IA))
_FLUID_ONLY = frozenset((Purpose.VEHICLE, Purpose.KVO))
_TIMED = frozenset((Kind.INFUSION, Kind.SQ_INFUSION))  # coded by the clock: needs a stop


def _kind(a: Administration, minutes: int | None) -> Kind:
    technique = a.documented_technique
    documented = _KIND_AS_DOCUMENTED.get(technique)
    if documented is not None:
        return documented
    # Only a pump planned for more than 8 hours is a pump initiation (96416, 96425, C8957),
    # whatever the label: a shorter one is coded by its clock like any infusion.
    if _prolonged_pump(a):
        return Kind.PUMP_INITIATION
    route = a.route
    if route in _INJECTION_ROUTES:
        return (
            Kind.SQ_INFUSION
            if technique is Technique.INFUSION and route is Route.SQ
            else Kind.INJECTION
        )
    if route in _VASCULAR_ROUTES:
        # A documented push means a clinician continuously present: a push whatever
        # its length. Otherwise the clock decides (ADM-B3).
        if technique is Technique.PUSH or (minutes is not None and minutes <= PUSH_MAX_MINUTES):
            return Kind.PUSH
        return Kind.INFUSION
    return Kind.OTHER_ROUTE


def normalise(claim: SubmittedClaim, catalogue: DrugCatalogue) -> Normalised:
    out = Normalised()
    bags: dict[tuple[str, str], list[Entry]] = {}
    units: list[list[Entry]] = []
    for a in sorted(claim.administrations, key=lambda x: (x.start, x.admin_id)):
        technique, purpose = a.documented_technique, a.purpose
        if technique is Technique.PUMP_DISCONNECT:
            out.findings.append(
                ADM_G3.finding(
                    "Pump disconnect is included in the pump initiation: not coded.", [a.admin_id]
                )
            )
            continue
        flush = technique is Technique.FLUSH
        if purpose in _FLUID_ONLY or (purpose is Purpose.FLUSH and not flush):
            out.findings.append(
                ADM_A1.finding(
                    f"{purpose.value.lower()} fluid is part of the administration: not coded.",
                    [a.admin_id],
                )
            )
            continue
        if flush or purpose is Purpose.FLUSH:
            units.append([(a, _FLUSH)])
            continue
        drug = catalogue.lookup(a.drug.hcpcs, a.drug.name, claim.payer.payer_id, a.start.date())
        if drug is None:
            out.findings.append(
                ADM_U1.finding(
                    f"MAR drug {a.admin_id} ({a.drug.hcpcs or 'no HCPCS'}) is not in the drug "
                    "catalogue or the payer's overrides; classify it before coding. The "
                    f"administration codes shown for {a.start.date()} are computed without it.",
                    [a.admin_id],
                )
            )
            out.excluded.append(Excluded(a.admin_id, a.start.date(), ADM_U1, "unknown drug"))
            continue
        out.drugs[a.admin_id] = drug
        if drug.confidence is Confidence.NEEDS_CONFIRMATION:
            out.findings.append(
                ADM_U2.finding(
                    f"{drug.hcpcs or drug.name} is coded as {drug.family.value}"
                    f"{' (hormonal)' if drug.hormonal else ''}, but its class needs "
                    f"confirmation ({drug.source}).",
                    [a.admin_id],
                )
            )
        if a.bag_id is not None:
            key = (a.encounter_id, a.bag_id)
            if key not in bags:
                bags[key] = []
                units.append(bags[key])
            bags[key].append((a, drug))
        else:
            units.append([(a, drug)])
    for entries in units:
        _add_unit(out, entries)
    out.events.sort(key=lambda e: e.sort_key)
    return out


_NOT_BILLABLE_HYDRATION = {
    ADM_A3: "Hydration without a documented order and indication: not coded.",
    ADM_A4: "Hydration without a stop time: not coded.",
}


def _hydration_problem(a: Administration) -> Rule | None:
    """Hydration needs an order, an indication (ADM-A3) and a stop time (ADM-A4)."""
    if not (a.order_present and a.indication_present):
        return ADM_A3
    if a.stop is None:
        return ADM_A4
    return None


def _add_unit(out: Normalised, entries: list[Entry]) -> None:
    """One bag (or one MAR entry outside a bag) to one administration event (ADM-B1)."""
    if len(entries) == 1:  # most entries: no bag to merge
        a, drug = entries[0]
        if drug.family is Family.HYD and drug is not _FLUSH:
            problem = _hydration_problem(a)
            if problem is not None:
                out.findings.append(problem.finding(_NOT_BILLABLE_HYDRATION[problem], [a.admin_id]))
                return
        _add_event(out, a, (drug,), [a.admin_id], drug.family, drug.hormonal, ())
        return
    drugs = [e for e in entries if e[1].family is not Family.HYD and not e[1].electrolyte]
    fluids = [e for e in entries if e[1].family is Family.HYD]
    additives = [e for e in entries if e[1].electrolyte and e[1].family is not Family.HYD]
    # Electrolytes added to hydration fluid (no other drug in the bag) are that hydration.
    hydration_bag = not drugs and bool(fluids) and bool(additives)
    problems = [(e, _hydration_problem(e[0])) for e in fluids]
    kept = [e for e, problem in problems if problem is None]
    # Electrolytes added to hydration that is not billable are not coded either.
    dropped = [a.admin_id for a, _ in additives] if hydration_bag and not kept else []
    for (a, _), problem in problems:
        if problem is not None:
            ids = [a.admin_id, *dropped]
            dropped = []
            out.findings.append(problem.finding(_NOT_BILLABLE_HYDRATION[problem], ids))
    if hydration_bag and not kept:
        return
    entries = sorted(
        drugs + kept + additives, key=lambda e: (_FAMILY_RANK[e[1].family], e[0].start,
                                                 e[0].admin_id)
    )  # fmt: skip
    if not entries:
        return
    lead_admin, lead = entries[0]
    family = Family.HYD if hydration_bag else lead.family
    start = min(a.start for a, _ in entries)
    stops = [a.stop for a, _ in entries]
    stop = None if any(s is None for s in stops) else max(s for s in stops if s is not None)
    holds = lead_admin.holds if len(entries) == 1 else ()
    merged = lead_admin.model_copy(update={"start": start, "stop": stop, "holds": holds})
    ids = [a.admin_id for a, _ in entries]
    shaped: list[Rule] = []
    if len(entries) > 1:
        shaped.append(ADM_B1)
        out.findings.append(
            ADM_B1.finding(
                f"Bag {lead_admin.bag_id}: {len(entries)} MAR entries coded as one administration.",
                ids,
            )
        )
    if hydration_bag:
        shaped.append(ADM_B4)
        names = ", ".join(d.name for _, d in additives)
        out.findings.append(
            ADM_B4.finding(
                f"Bag {lead_admin.bag_id}: {names} added to hydration fluid; coded as hydration.",
                ids,
            )
        )
    _add_event(out, merged, tuple(d for _, d in entries), ids, family, lead.hormonal,
               tuple(shaped))  # fmt: skip


def _add_event(
    out: Normalised,
    a: Administration,
    drugs: tuple[DrugInfo, ...],
    admin_ids: list[str],
    family: Family,
    hormonal: bool,
    shaped: tuple[Rule, ...],
) -> None:
    start, stop, pump = a.start, a.stop, a.pump
    intervals = _running(a) if stop is not None else ()
    minutes = minutes_of(intervals) if stop is not None else None
    kind = _kind(a, minutes)
    if a.documented_technique is Technique.PUMP_INITIATION and kind is not Kind.PUMP_INITIATION:
        hours = pump.planned_hours if pump is not None else None
        if hours is None:
            out.findings.append(
                ADM_G1.finding(
                    "Pump initiation without a planned duration: 96416, 96425 and C8957 are "
                    "for an infusion planned for more than 8 hours; not coded.",
                    admin_ids,
                    severity=Severity.ERROR,
                )
            )
            out.excluded += [Excluded(i, start.date(), ADM_G1, "pump duration not documented")
                             for i in admin_ids]  # fmt: skip
            return
        out.findings.append(
            ADM_G1.finding(
                f"Pump planned for {hours} hours is not a prolonged infusion (more than 8 "
                "hours): coded by its clock, not as a pump initiation.",
                admin_ids,
            )
        )
    if stop is None and kind in _TIMED:
        out.findings.append(
            ADM_A5.finding(
                "Drug infusion without a stop time: duration cannot be established; not coded. "
                f"The administration codes shown for {start.date()} are computed without it.",
                admin_ids,
            )
        )
        out.excluded += [Excluded(i, start.date(), ADM_A5, "no stop time") for i in admin_ids]
        return
    out.events.append(
        Event(
            admin_ids=tuple(admin_ids),
            encounter_id=a.encounter_id,
            site=a.access_site_id or "unspecified",
            separate_site_reason=a.separate_site_reason is not None,
            drugs=drugs,
            family=family,
            hormonal=hormonal,
            route=a.route,
            kind=kind,
            start=start,
            stop=stop,
            minutes=minutes,
            intervals=intervals,
            primary_reason=a.primary_reason,
            drug_key=frozenset(d.hcpcs or d.name for d in drugs),
            dos=start.date(),
            pump_kind=pump.kind.value if pump else None,
            pump_supplied_by=pump.supplied_by.value if pump and pump.supplied_by else None,
            lesion_count=a.lesion_count,
            rules=shaped,
        )
    )


def mark_excluded(lines: list[ComputedLine], excluded: list[Excluded]) -> list[ComputedLine]:
    """Each computed line of a date with a MAR entry the engine could not code says so: it
    cites that entry's rule and names the entry (ADM-U1, ADM-A5, ADM-G1)."""
    by_day: dict[str, list[Excluded]] = {}
    for x in excluded:
        by_day.setdefault(x.dos.isoformat(), []).append(x)
    out = []
    for line in lines:
        missing = by_day.get(line.date_of_service)
        if not missing:
            out.append(line)
            continue
        cited = dict.fromkeys([*line.rule_ids, *(x.rule.id for x in missing)])
        note = "; ".join(f"{x.admin_id} ({x.why})" for x in missing)
        reason = f"{line.reason}; computed without MAR entry {note}"
        out.append(line.model_copy(update={"rule_ids": tuple(cited), "reason": reason[:500]}))
    return out


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (
    ADM_A1, ADM_A3, ADM_A4, ADM_A5, ADM_B1, ADM_B2, ADM_B3, ADM_B4, ADM_U1, ADM_U2
)  # fmt: skip
