"""A claim decided without its MAR (issue 14): an 837 carries no administrations, and the
MAR they are coded from may arrive after it.

``dates_without_mar`` says which of a claim's drug dates no MAR entry on the claim covers;
the worker's MAR join (``worker.ingest.mar_state``) waits on those dates, and
``without_mar`` notes them on the decision it made meanwhile. Never run in ``assess``: a v1
JSON claim with no administrations is decided on its lines, as before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rules.codegroups import DRUG_ADMIN
from rules.engine import Assessment
from rules.pack import RulePack, current_pack
from rules.rule import WARN, H, Rule
from rules.sources import authority
from schemas.claim import ServiceLine, SubmittedClaim

MAR_W1 = Rule(
    id="MAR-W1",
    title="Decided without the MAR",
    checks=(
        "Notes a claim whose drug-administration or drug lines fall on dates with no "
        "administration on record (an 837 decided before its MAR arrived); a correction "
        "follows when the MAR for those dates arrives."
    ),
    why=(
        "Administration codes, their units and drug units are derived from the MAR's times, "
        "routes and doses (spec 2.1); until it arrives the submitted lines are not checked "
        "against what was given."
    ),
    confidence=H,
    section="2.1",
    sources=("S2", "S33"),
    severity=WARN,
    example="An 837P with 96413 and J9201 on 2026-05-04, decided before the MAR for that day.",
    authority=(
        authority(
            "CPT-DRUG-ADMIN",
            (
                "Introduction: initial, sequential and concurrent services; time-based codes "
                "are reported on the documented start and stop times"
            ),
        ),
        authority("IOM-4", "§230.2 Coding and payment for drug administration (OPPS)"),
    ),
    action=(
        "Hold the claim for the correction that follows when the MAR arrives, or publish the "
        "MAR for these dates on mar.submitted"
    ),
)

RULES: tuple[Rule, ...] = (MAR_W1,)


def drug_lines(claim: SubmittedClaim, pack: RulePack | None = None) -> tuple[ServiceLine, ...]:
    """The claim's drug-administration and drug supply lines: what the MAR is coded into."""
    catalogue = (pack or current_pack()).catalogue
    return tuple(
        x for x in claim.service_lines if x.code in DRUG_ADMIN or catalogue.is_drug(x.code)
    )


def dates_without_mar(claim: SubmittedClaim, pack: RulePack | None = None) -> tuple[date, ...]:
    """The dates of the claim's drug lines on which it has no administration, in order
    (the MAR's own local dates, as ``worker.ingest.mar_join`` joins them)."""
    given = {a.start.date() for a in claim.administrations}
    return tuple(sorted({x.date_of_service for x in drug_lines(claim, pack)} - given))


def without_mar(
    assessment: Assessment, claim: SubmittedClaim, pack: RulePack | None = None
) -> Assessment:
    """``assessment`` with MAR-W1 when drug lines of ``claim`` (as decided) fall on dates with
    no administration; unchanged otherwise. A warning: the claim goes on as decided (this
    never sends it to review by itself) and a correction follows when the MAR arrives."""
    missing = dates_without_mar(claim, pack)
    if not missing:
        return assessment
    lines = [x for x in drug_lines(claim, pack) if x.date_of_service in missing]
    days = ", ".join(d.isoformat() for d in missing)
    finding = MAR_W1.finding(
        f"No administration on record for {days}: the drug-administration and drug lines of "
        "those dates are as submitted, not coded from the MAR.",
        line_numbers=[x.line_number for x in lines],
        codes=list(dict.fromkeys(x.code for x in lines)),
    )
    return replace(assessment, findings=(*assessment.findings, finding))
