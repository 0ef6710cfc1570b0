"""Step D (spec 2.5): the initial service of a group (facility: the hierarchy; professional:
the documented primary reason, else the hierarchy, said so), then each other service of
the group in clock order."""

from __future__ import annotations

from datetime import date

from rules.administration.coding import ADDL_HOUR, INITIAL_CODE, RANK, Coding, addl_hours, describe
from rules.administration.events import Event, Kind
from rules.administration.groups import ADM_C2, ADM_C3
from rules.administration.hydration import (
    ADM_E1,
    ADM_E2,
    HYDRATION_MIN_MINUTES,
    code_secondary_hydration,
)
from rules.administration.normalise import ADM_B2, ADM_B3
from rules.administration.sequential import code_infusion, code_push
from rules.drug_catalogue import Family
from rules.rule import H, M, Rule
from rules.sources import authority

ADM_D1 = Rule(
    id="ADM-D1",
    title="Facility initial service by hierarchy",
    checks=(
        "Chooses the initial IV service by family (chemotherapy, therapeutic, hydration), then "
        "technique (infusion, push), regardless of clock order."
    ),
    why=(
        "Hospitals choose the initial service by the CMS hierarchy (chemotherapy, then "
        "therapeutic, then hydration; infusion before push), not by the clock."
    ),
    confidence=H,
    section="2.5",
    sources=("S1", "S62", "S18"),
    authority=(
        authority(
            "IOM-4",
            (
                "§230.2 B: one initial service per vascular access site per encounter; facility "
                "hierarchy"
            ),
        ),
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services"
            ),
        ),
    ),
    action="Nothing to do: the facility hierarchy chose the initial service",
)

ADM_D2 = Rule(
    id="ADM-D2",
    title="Professional initial service by the primary reason",
    checks=(
        "Chooses the initial IV service documented as the primary reason for the visit; "
        "without one, uses the hierarchy and says so."
    ),
    why="CPT: the initial code describes the key or primary reason for the visit.",
    confidence=M,
    section="2.5",
    sources=("S2", "S18", "S29"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: the initial code is the one that best describes the primary "
                "reason for the encounter"
            ),
        ),
    ),
    action=(
        "If the primary reason for the visit differs from the hierarchy's choice, document it "
        "(primary_reason) and submit again"
    ),
)


def code_group(
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
            c.note(ADM_E2, f"Hydration of {e.minutes} minutes (< 31): not coded.", e)
        return

    def by_rank(e: Event) -> tuple[int, object, str]:
        return (RANK[(e.family, e.kind)], e.start, e.admin_ids[0])

    basis = ADM_D1
    if c.facility:
        initial = min(candidates, key=by_rank)
    else:
        basis = ADM_D2
        flagged = [e for e in candidates if e.primary_reason]
        initial = min(flagged or candidates, key=(lambda e: e.sort_key) if flagged else by_rank)
        if not flagged:
            c.note(
                ADM_D2,
                "No primary reason documented: initial service chosen by the "
                "hierarchy (initial_basis=hierarchy-default).",
                initial,
            )

    modifiers: tuple[str, ...] = ()
    site_rules: tuple[Rule, ...] = ()
    if separate_site:
        modifiers = (c.options.separate_site_modifier,)
        c.note(
            ADM_C2,
            f"Separate access site {initial.site} with a documented reason: its "
            f"own initial service with {modifiers[0]}.",
            initial,
        )
        site_rules = (ADM_C2,)
    elif encounter_dates.get(initial.dos, initial.encounter_id) != initial.encounter_id:
        modifiers = (c.options.separate_encounter_modifier,)
        c.note(
            ADM_C3,
            f"Second encounter on {initial.dos}: initial service with {modifiers[0]}.",
            initial,
        )
        site_rules = (ADM_C3,)
    encounter_dates.setdefault(initial.dos, initial.encounter_id)

    code = INITIAL_CODE[(initial.family, initial.kind)]
    minutes = initial.minutes or 0
    c.emit(
        code,
        1,
        initial,
        (basis, ADM_B2, ADM_B3, *site_rules)
        if initial.kind is Kind.PUSH
        else (basis, ADM_B2, *site_rules),
        f"initial: {describe(initial)}, {minutes} min",
        minutes,
        modifiers,
    )
    if initial.kind is Kind.INFUSION:
        c.emit(
            ADDL_HOUR[code],
            addl_hours(minutes),
            initial,
            (ADM_E1,),
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
            code_infusion(c, e, running, infused)
            running.append(e)
            infused.add(e.drug_key)
        elif e.kind is Kind.PUSH:
            code_push(c, e, last_push)

    hydration = [e for e in events if e.family is Family.HYD and e is not initial]
    code_secondary_hydration(c, hydration, drug_infusions)


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_D1, ADM_D2)
