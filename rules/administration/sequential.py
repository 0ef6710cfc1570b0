"""Steps E-F (spec 2.6, 2.7): sequential, concurrent and repeat services after the initial,
in clock order."""

from __future__ import annotations

from rules.administration.coding import (
    REPEAT_PUSH_MIN_GAP,
    Coding,
    addl_hours,
    describe,
    overlap_minutes,
)
from rules.administration.events import Event
from rules.administration.hydration import ADM_E1
from rules.administration.normalise import ADM_B2, ADM_B3
from rules.drug_catalogue import Family
from rules.rule import NC, M, Rule
from rules.sources import authority

ADM_F1 = Rule(
    id="ADM-F1",
    title="Sequential infusion of a new drug",
    checks=(
        "Codes a later non-overlapping infusion of a new drug as 96417 (chemotherapy) or 96367 "
        "(therapeutic), with additional hours."
    ),
    why="Only one initial per site; later services are sequential add-ons.",
    confidence=M,
    section="2.7",
    sources=("S15", "S22"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379); Chemotherapy and other highly complex drug or biologic "
                "administration (96401-96549): sequential infusion 96367, 96417"
            ),
        ),
    ),
    action="Nothing to do",
)

ADM_F2 = Rule(
    id="ADM-F2",
    title="Sequential push of a new drug",
    checks="Codes a later push of a new drug as 96411 (chemotherapy) or 96375 (therapeutic).",
    why=(
        "Each push of a new drug after the initial service is reported with a sequential add-on"
        " code."
    ),
    confidence=M,
    section="2.7",
    sources=("S17", "S64"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379); Chemotherapy and other highly complex drug or biologic "
                "administration (96401-96549): sequential IV push 96375, 96411"
            ),
        ),
    ),
    action="Nothing to do",
)

ADM_F3 = Rule(
    id="ADM-F3",
    title="Repeat push of the same therapeutic drug",
    checks=(
        "Facility: 96376 when more than 30 minutes after the prior reported push of that drug; "
        "professional: no code."
    ),
    why="96376 exists for facilities only; the repeat must be more than 30 minutes apart.",
    confidence=M,
    section="2.7, 1.3a",
    sources=("S20", "S22", "S64"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379): 96376, facility only"
            ),
        ),
        authority("IOM-4", "§230.2 Coding and payment for drug administration (OPPS)"),
    ),
    action="Nothing to do",
)

ADM_F4 = Rule(
    id="ADM-F4",
    title="Concurrent therapeutic infusion, once per date",
    checks=(
        "Codes a therapeutic infusion overlapping another infusion on the same site as 96368, "
        "at most once per date of service."
    ),
    why="96368 has no time units and an MUE of 1.",
    confidence=M,
    section="2.7, 2.10 V3",
    sources=("S22", "S23", "S24"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Therapeutic, prophylactic and diagnostic injections and infusions "
                "(96365-96379): concurrent infusion 96368, once per date"
            ),
        ),
        authority("NCCI-MUE-EDITS"),
    ),
    action="Nothing to do",
)

ADM_F5 = Rule(
    id="ADM-F5",
    title="Concurrent chemotherapy has no code",
    checks="Flags a chemotherapy infusion overlapping another infusion on the same site.",
    why="No CPT concurrent-chemotherapy code exists (spec 8 Q6).",
    confidence=NC,
    section="2.7, 8 Q6",
    sources=("S24",),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): no concurrent chemotherapy code"
            ),
        ),
    ),
    action=(
        "Decide with the payer how overlapping chemotherapy infusions are reported and code them"
        " by hand"
    ),
)


ADM_F7 = Rule(
    id="ADM-F7",
    title="Repeat push of the same chemotherapy drug has no code",
    checks="Flags a second push of a chemotherapy drug already pushed in the encounter.",
    why="96411 describes a new drug; no code exists for the repeat (spec 8 Q7).",
    confidence=NC,
    section="2.7, 8 Q7",
    sources=("S17",),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Chemotherapy and other highly complex drug or biologic administration "
                "(96401-96549): 96411 is for an additional push of a new drug"
            ),
        ),
    ),
    action=(
        "Decide by the payer's policy whether the repeat push is reportable; no CPT code "
        "describes it"
    ),
)

ADM_F8 = Rule(
    id="ADM-F8",
    title="A second infusion of the same drug goes to review",
    checks=(
        "Flags a second separate infusion of a drug already infused in the encounter "
        "(therapeutic: 96366 shown as the HCPro default)."
    ),
    why="Sources differ on whether repeat intervals are added (spec 8 Q2).",
    confidence=NC,
    section="2.7, 8 Q2",
    sources=("S32",),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: sequential services and additional hours"
            ),
        ),
    ),
    action=(
        "Decide by the payer's policy whether the repeat infusion is an additional hour or a "
        "sequential service and code it by hand"
    ),
)

ADM_F9 = Rule(
    id="ADM-F9",
    title="Infusions overlapping by a minute or less are sequential",
    checks="Treats an overlap of one minute or less (a line change) as sequential.",
    why="No source defines a tolerance (spec 8 Q21).",
    confidence=NC,
    section="2.7, 8 Q21",
    sources=(),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: concurrent and sequential infusions"
            ),
        ),
    ),
    action=(
        "Confirm the overlap was a line change; if the infusions truly ran together, code the "
        "later one as concurrent"
    ),
)


def code_infusion(c: Coding, e: Event, running: list[Event], infused: set[frozenset[str]]) -> None:
    minutes = e.minutes or 0
    overlap = max((overlap_minutes(e.intervals, r.intervals) for r in running), default=0.0)
    if overlap > c.options.overlap_tolerance_minutes:
        if e.family is Family.CHEMO:
            c.note(
                ADM_F5,
                f"{describe(e)} runs concurrently with another infusion on the "
                "same site: no concurrent-chemotherapy code exists.",
                e,
            )
        elif e.dos in c.concurrent_dates:
            c.note(
                ADM_F4,
                "A concurrent infusion (96368) is already reported for "
                f"{e.dos}: not reported again.",
                e,
            )
        else:
            c.concurrent_dates.add(e.dos)
            c.emit("96368", 1, e, (ADM_F4,), f"concurrent: {describe(e)}, {minutes} min", minutes)
        return
    if overlap > 0:
        c.note(
            ADM_F9,
            f"{describe(e)} overlaps another infusion by {overlap:.1f} minute(s): "
            "treated as sequential (line change).",
            e,
        )
    if e.drug_key in infused:
        if e.family is Family.CHEMO:
            c.note(
                ADM_F8,
                f"Second separate infusion of the same drug ({describe(e)}): no code chosen.",
                e,
            )
            return
        c.note(
            ADM_F8,
            f"Second separate infusion of the same drug ({describe(e)}): "
            "96366 shown as the HCPro default.",
            e,
        )
        c.emit(
            "96366",
            1 + addl_hours(minutes),
            e,
            (ADM_F8,),
            f"repeat infusion of the same drug, {minutes} min",
            minutes,
        )
        return
    first, hours = ("96417", "96415") if e.family is Family.CHEMO else ("96367", "96366")
    c.emit(first, 1, e, (ADM_F1, ADM_B2), f"sequential: {describe(e)}, {minutes} min", minutes)
    c.emit(
        hours,
        addl_hours(minutes),
        e,
        (ADM_E1,),
        f"{addl_hours(minutes)} additional hour(s) of {minutes} min",
        minutes,
    )


def code_push(c: Coding, e: Event, last_push: dict[frozenset[str], Event]) -> None:
    prior = last_push.get(e.drug_key)
    if prior is None:
        last_push[e.drug_key] = e
        code = "96411" if e.family is Family.CHEMO else "96375"
        c.emit(code, 1, e, (ADM_F2, ADM_B3), f"sequential push: {describe(e)}", e.minutes)
        return
    if e.family is Family.CHEMO:
        c.note(ADM_F7, f"Repeat push of the same chemotherapy drug ({describe(e)}).", e)
        return
    gap = e.start - prior.start
    if not c.facility:
        c.note(ADM_F3, "Repeat push of the same drug: no code on a professional claim.", e)
    elif gap > REPEAT_PUSH_MIN_GAP:
        last_push[e.drug_key] = e
        c.emit(
            "96376",
            1,
            e,
            (ADM_F3,),
            f"repeat push of the same drug {int(gap.total_seconds() // 60)} min after the "
            "prior reported push",
            e.minutes,
        )
    else:
        c.note(
            ADM_F3,
            f"Repeat push {int(gap.total_seconds() // 60)} min after the prior "
            "push of the same drug (not more than 30): not coded.",
            e,
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_F1, ADM_F2, ADM_F3, ADM_F4, ADM_F5, ADM_F7, ADM_F8, ADM_F9)
