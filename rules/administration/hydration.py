"""Hydration (spec 2.6, 2.8): units from 31 minutes, drug-infusion minutes subtracted from
hydration, additional hours past 30 minutes."""

from __future__ import annotations

from rules.administration.coding import Coding, subtract
from rules.administration.events import Event, minutes_of
from rules.rule import NC, H, M, Rule
from rules.sources import authority

ADM_E1 = Rule(
    id="ADM-E1",
    title="Additional hours need more than 30 minutes past the hour",
    checks=(
        "Reports 96415/96366/96361/96423/96370 units only for time more than 30 minutes beyond "
        "each hour."
    ),
    why=(
        "CPT counts an additional hour only when the infusion runs more than 30 minutes beyond "
        "the previous hour."
    ),
    confidence=H,
    section="2.6",
    sources=("S13", "S15", "S22"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: each additional hour needs more than 30 minutes beyond the "
                "hour"
            ),
        ),
    ),
    action="Nothing to do",
)

ADM_E2 = Rule(
    id="ADM-E2",
    title="Hydration needs at least 31 minutes",
    checks="Does not report hydration (initial or secondary) that ran less than 31 minutes.",
    why="CPT: hydration of 30 minutes or less is not reported.",
    confidence=H,
    section="2.6",
    sources=("S10", "S13"),
    authority=(authority("CPT-DRUG-ADMIN", "Hydration (96360-96361): 31 minutes or more"),),
    action="Nothing to do: hydration of 30 minutes or less is not reported",
)

ADM_E3 = Rule(
    id="ADM-E3",
    title="SQ infusion additional hours assume the 30-minute rule",
    checks="Reports 96370 units with the more-than-30-minutes-past-the-hour rule.",
    why="The rule is assumed for 96370, not found in a source (spec 1.1).",
    confidence=NC,
    section="1.1",
    sources=("S65",),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379): subcutaneous infusion 96369-96371"
            ),
        ),
    ),
    action=(
        "Confirm the 96370 units against the CPT descriptor and the payer's policy before "
        "billing them"
    ),
)


ADM_F6 = Rule(
    id="ADM-F6",
    title="Hydration concurrent with a drug infusion is not billable",
    checks="Subtracts the minutes a drug infusion ran from any hydration running with it.",
    why="Concurrent hydration is not reported.",
    confidence=H,
    section="2.7, 2.10 V11",
    sources=("S11", "S12"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            "Hydration (96360-96361): not reported concurrently with other infusion services",
        ),
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter XI Medicine: drug administration (hydration, injections, infusions, "
                "chemotherapy)"
            ),
        ),
    ),
    action="Nothing to do: only hydration minutes outside drug infusions count",
)


ADM_F10 = Rule(
    id="ADM-F10",
    title="Hydration intervals split by a drug are not combined",
    checks=(
        "Each hydration interval split by a drug infusion must reach 31 minutes on its own, "
        "unless the payer's settings combine them; flags the claim when the choice changes the "
        "units."
    ),
    why=(
        "A payer denial says intervals may not be combined; CPT Assistant (June 2007) says "
        "total time is used (spec 8 Q1)."
    ),
    confidence=NC,
    section="2.7, 8 Q1",
    sources=("S12",),
    authority=(authority("CPT-DRUG-ADMIN", "Hydration (96360-96361): time of hydration"),),
    action=(
        "Apply the payer's written policy on combining split hydration intervals (or set it in "
        "the payer options) and bill 96361 accordingly"
    ),
)


ADM_F11 = Rule(
    id="ADM-F11",
    title="Secondary hydration units",
    checks=(
        "Codes hydration after a different initial service as 96361, one unit per hour with "
        "more than 30 minutes past the hour (at least 31 minutes)."
    ),
    why="96361 is also the code for hydration as a secondary service.",
    confidence=M,
    section="2.6, 2.7",
    sources=("S13", "S29"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            "Hydration (96360-96361): 96361 for hydration as a secondary or subsequent service",
        ),
    ),
    action="Nothing to do",
)


HYDRATION_MIN_MINUTES = 31


def secondary_hydration_units(minutes: int) -> int:
    """96361 units for hydration that is not the initial service (2.6)."""
    return 0 if minutes < HYDRATION_MIN_MINUTES else (minutes + 29) // 60


def code_secondary_hydration(c: Coding, hydration: list[Event], drugs: list[Event]) -> None:
    cuts = sorted(iv for d in drugs for iv in d.intervals)
    pieces_by_event = [(e, subtract(e.intervals, cuts)) for e in hydration]
    all_minutes = [minutes_of((p,)) for _, pieces in pieces_by_event for p in pieces]
    separate = sum(secondary_hydration_units(m) for m in all_minutes)
    combined = secondary_hydration_units(sum(all_minutes))
    for e, pieces in pieces_by_event:
        if minutes_of(tuple(pieces)) < (e.minutes or 0):
            c.note(
                ADM_F6,
                f"{(e.minutes or 0) - minutes_of(tuple(pieces))} minute(s) of "
                "hydration ran with a drug infusion: not counted.",
                e,
            )
    if len(all_minutes) > 1 and separate != combined:
        c.note(
            ADM_F10,
            f"Hydration intervals of {all_minutes} minutes: {separate} unit(s) of "
            f"96361 counted separately, {combined} combined.",
            hydration,
        )
    if c.options.combine_hydration_intervals:
        c.emit(
            "96361",
            combined,
            hydration,
            (ADM_F11, ADM_F10),
            f"secondary hydration, intervals {all_minutes} min combined",
            sum(all_minutes),
        )
        return
    for e, pieces in pieces_by_event:
        mins = [minutes_of((p,)) for p in pieces]
        units = sum(secondary_hydration_units(m) for m in mins)
        if any(m < HYDRATION_MIN_MINUTES for m in mins):
            c.note(
                ADM_E2,
                f"Hydration interval(s) {mins} min: those under 31 minutes are not coded.",
                e,
            )
        c.emit(
            "96361",
            units,
            e,
            (ADM_F11, ADM_E2),
            f"secondary hydration, interval(s) {mins} min",
            sum(mins),
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_E1, ADM_E2, ADM_E3, ADM_F6, ADM_F10, ADM_F11)
