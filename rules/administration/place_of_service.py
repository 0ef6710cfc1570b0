"""Place of service (spec 2.2 A7, 1.3a): a physician does not bill drug administration
given in a facility."""

from __future__ import annotations

from rules.administration.coding import Coding
from rules.administration.events import Event
from rules.rule import H, Rule
from rules.sources import authority

ADM_A7 = Rule(
    id="ADM-A7",
    title="No administration codes on a physician claim in a facility",
    checks=(
        "Drops 96360-96379, 96401-96402, 96409-96425 and 96521-96523 from a professional claim "
        "whose place of service is a facility."
    ),
    why="The facility bills the administration; the physician may not.",
    confidence=H,
    section="2.2 A7, 1.3a",
    sources=("S5", "S31"),
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: codes 96360-96549 are not reported by the physician in a facility"
                " setting"
            ),
        ),
        authority(
            "IOM-12",
            "§30.5 Chemotherapy administration and nonchemotherapy injections and infusions",
        ),
    ),
    action="Leave the administration codes off the physician's claim; the facility bills them",
)


FACILITY_POS = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
# Codes a physician may not report when the service is in a facility (2.2 A7).
_FACILITY_BILLED = (("96360", "96379"), ("96401", "96402"), ("96409", "96425"),
                    ("96521", "96523"))  # fmt: skip


def is_facility_billed(code: str) -> bool:
    return any(lo <= code <= hi for lo, hi in _FACILITY_BILLED)


def drop_facility_billed(c: Coding, events: list[Event], place_of_service: str) -> None:
    """A professional claim from a facility place of service loses the facility's codes."""
    if place_of_service not in FACILITY_POS:
        return
    dropped = sorted({line.code for line in c.lines if is_facility_billed(line.code)})
    if dropped:
        c.lines = [line for line in c.lines if not is_facility_billed(line.code)]
        c.findings.append(
            ADM_A7.finding(
                f"Place of service {place_of_service} is a facility: {', '.join(dropped)} are "
                "the facility's to bill.",
                [a for e in events for a in e.admin_ids],
            )
        )


# The rules this module declares, for the catalogue.
RULES: tuple[Rule, ...] = (ADM_A7,)
