"""Step C (spec 2.4): IV services grouped by encounter and access site; a second site earns
its own initial only with a documented reason, a second encounter the same day its own
initial with XE; an infusion crossing midnight goes to review."""

from __future__ import annotations

from rules.administration.coding import Coding, describe
from rules.administration.events import Event, Kind
from rules.rule import NC, H, M, Rule
from rules.sources import authority

ADM_C2 = Rule(
    id="ADM-C2",
    title="One initial service per site and encounter",
    checks=(
        "Gives a second vascular access site its own initial service, with modifier XS, only "
        "when a separate-site reason is documented; otherwise all sites share one."
    ),
    why=(
        "CMS counts initial services per site per encounter; two initials need two medically "
        "necessary sites."
    ),
    confidence=H,
    section="2.4 C2",
    sources=("S2", "S8", "S19"),
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
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter XI Medicine: drug administration (hydration, injections, infusions, "
                "chemotherapy)"
            ),
        ),
    ),
    action=(
        "Nothing to do when the second site's medical necessity is documented (modifier XS); "
        "otherwise the sites share one initial service"
    ),
)

ADM_C3 = Rule(
    id="ADM-C3",
    title="A separate encounter on the same day has its own initial service",
    checks="Appends XE to the initial service of a later encounter on the same date.",
    why="A patient discharged and returning for a new problem starts a new encounter.",
    confidence=M,
    section="2.4 C3",
    sources=("S18", "S19"),
    authority=(
        authority(
            "IOM-4",
            (
                "§230.2 B: one initial service per vascular access site per encounter; facility "
                "hierarchy"
            ),
        ),
        authority(
            "NCCI-POLICY-MANUAL",
            (
                "chapter XI Medicine: drug administration (hydration, injections, infusions, "
                "chemotherapy)"
            ),
        ),
    ),
    action=(
        "Nothing to do when the second encounter is documented; modifier XE marks its initial "
        "service"
    ),
)

ADM_C4 = Rule(
    id="ADM-C4",
    title="An infusion crossing midnight goes to review",
    checks="Flags infusions whose stop falls on a later calendar day than their start.",
    why=(
        "Line-item dates must be the days the service was given, while one initial per "
        "encounter still applies; sources conflict on splitting (spec 8 Q3)."
    ),
    confidence=NC,
    section="2.4 C4, 8 Q3",
    sources=("S34",),
    authority=(
        authority(
            "IOM-4",
            (
                "§230.2 B: one initial service per vascular access site per encounter; facility "
                "hierarchy; line-item date of service"
            ),
        ),
    ),
    action=(
        "Decide the line-item dates of the infusion that crossed midnight (one initial service "
        "per encounter) and code it by hand"
    ),
)


def groups(iv: list[Event]) -> list[tuple[list[Event], bool]]:
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


def note_midnight_crossings(c: Coding, events: list[Event]) -> None:
    for e in events:
        if e.stop is not None and e.stop.date() != e.start.date() and e.kind is Kind.INFUSION:
            c.note(ADM_C4, f"{describe(e)} crosses midnight: all of it is dated {e.dos}.", e)


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_C2, ADM_C3, ADM_C4)
