"""Administration events to CPT/HCPCS lines (spec 2.4-2.9, steps C-H): the steps in order.

Every line says which MAR entries it came from, which rules produced it, the minutes it
counts and why; every choice the spec marks NC becomes a finding that sends the claim to
review instead of a silent choice."""

from __future__ import annotations

from datetime import date

from rules.administration.addons import guard_addons
from rules.administration.coding import Coding, CodingOptions
from rules.administration.events import Event, Kind
from rules.administration.groups import groups, note_midnight_crossings
from rules.administration.initial import code_group
from rules.administration.place_of_service import drop_facility_billed
from rules.administration.pumps import code_pump
from rules.administration.standalone import code_port_flushes, code_standalone
from schemas.claim import Route
from schemas.decision import ComputedLine, Finding


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
    note_midnight_crossings(c, events)
    iv = [e for e in events if e.route is Route.IV and e.kind in (Kind.PUSH, Kind.INFUSION)]
    encounter_dates: dict[date, str] = {}
    for group, separate_site in groups(iv):
        code_group(c, group, separate_site, encounter_dates)
    for e in events:
        if e.kind in (Kind.PUMP_INITIATION, Kind.PUMP_REFILL):
            code_pump(c, e)
        elif e.kind is not Kind.FLUSH and e not in iv:
            code_standalone(c, e)
    guard_addons(c)
    code_port_flushes(c, events, other_services)
    if not facility:
        drop_facility_billed(c, events, place_of_service)
    return c.lines, c.findings
