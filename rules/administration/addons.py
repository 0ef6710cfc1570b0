"""The add-on guard (spec 2.5 D3): an add-on whose allowed primary (CMS I/OCE add-on map)
is not on its date is withheld, repeated until nothing changes."""

from __future__ import annotations

from rules.administration.coding import Coding
from rules.rule import ERR, H, Rule
from rules.sources import authority

ADM_D3 = Rule(
    id="ADM-D3",
    title="An add-on needs an allowed primary on the same date",
    checks="Withholds an add-on code whose allowed primaries (CMS add-on map) are absent.",
    why=(
        "An add-on without its primary is denied; the initial service under a documented "
        "primary reason may not support every add-on."
    ),
    confidence=H,
    section="2.10 V1",
    sources=("IOCE", "S1"),
    severity=ERR,
    authority=(
        authority("NCCI-ADDON-EDITS"),
        authority("IOCE", "drug administration add-on map"),
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes; "
                "included services: add-on codes"
            ),
        ),
    ),
    action=(
        "Report the add-on only with an allowed primary on the same date, or correct the initial"
        " service"
    ),
)


def guard_addons(c: Coding) -> None:
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
                ADM_D3.finding(
                    f"{line.code} needs one of {', '.join(sorted(allowed))} on "
                    f"{line.date_of_service}: not reported.",
                    line.admin_ids,
                )
            )
        c.lines = [line for line in c.lines if line not in orphans]


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_D3,)
